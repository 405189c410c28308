// The readiness run's performance stage (after the tests stage, whose smoke
// suites it reuses): each web service's smoke routes are loaded through
// staging's frontend at policy.performance.rate requests per second, open
// loop (latency counted from when each request was due), for
// policy.performance.duration after a second of warm-up. The first passing
// measurement of a service is its baseline (<env>/perf/baseline-<service>.json,
// event perf.baselined, artifact type perf); later ones are compared with it
// route by route (load/regression.h: median and p95, errors) and against the
// absolute budgets (policy.performance.p95_ms, p99_ms).
#pragma once

#include "engine/stage.h"

namespace ps::stages {

class PerformanceStage final : public engine::Stage {
 public:
  static constexpr const char* kName = "performance";
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;
};

}  // namespace ps::stages
