// A pipeline: the DAG of stages one run executes. Stages run in a
// deterministic order (topological, ties broken by declaration order); stages
// whose needs are met at the same time form a parallel window.
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/problem.h"
#include "store/model.h"

namespace ps::engine {

struct StageSpec {
  std::string name;
  std::vector<std::string> needs;  // stages that must be done first
  Millis timeout = 0;              // 0: engine.stage_timeout
  int max_attempts = 0;            // 0: engine.max_attempts
};

struct PipelineSpec {
  store::RunKind kind = store::RunKind::kImport;
  std::vector<StageSpec> stages;
};

// Checks names (unique, [a-z0-9_-]), needs (known, no cycles) and returns the
// stages in execution order, with timeouts and attempts resolved from
// `config` (per-stage overrides first).
Result<std::vector<StageSpec>> ResolvePipeline(const PipelineSpec& spec,
                                               const EngineConfig& config);

// Backoff before attempt `next_attempt` (2, 3, ...): "full jitter", a uniform
// delay in [0, min(cap, base * 2^(next_attempt - 2))].
Millis BackoffDelay(int next_attempt, Millis base, Millis cap, Random& random);

}  // namespace ps::engine
