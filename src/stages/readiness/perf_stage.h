// The readiness run's performance stage (after the tests stage, whose smoke
// suites it reuses). Each web service's smoke routes are loaded on staging,
// open loop (latency counted from when each request was due), for
// policy.performance.duration after a second of warm-up.
//
// The regression verdict compares the candidate with a baseline version
// measured at the same time, never with a number stored from another moment
// (a shared machine is not the same machine a minute later): the baseline
// version — what production runs (input.reference_env, opened through the target), else the last
// version that passed this gate on staging — is started on staging beside
// the candidate (the environment's second colour, weight 0: no user traffic
// reaches it), one load generator sends each route's requests to the two in
// alternating pairs at policy.performance.rate requests per second each, and
// load/paired.h judges the pairs (median and p95, errors). The baseline then
// stops.
//
// The stored measurement (<env>/perf/baseline-<service>.json, event
// perf.baselined, artifact type perf) is the last passing version's: it names
// the baseline version for the next run when production has none, and keeps
// the trend (<env>/perf/history-<service>.jsonl); the absolute budgets
// (policy.performance.p95_ms, p99_ms) apply to the candidate's own sample.
//
// A gate that could measure nothing says so ("measured": false and why):
// it never reads as passed.
#pragma once

#include "engine/stage.h"
#include "targets/target.h"

namespace ps::stages {

class PerformanceStage final : public engine::Stage {
 public:
  explicit PerformanceStage(const targets::Targets& targets) : targets_(targets) {}
  static constexpr const char* kName = "performance";
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;

 private:
  const targets::Targets& targets_;
};

}  // namespace ps::stages
