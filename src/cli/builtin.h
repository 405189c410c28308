// The stages built into this binary and the pipeline of each run kind. The one
// place that says which plugins exist (no static registration).
#pragma once

#include <string>
#include <vector>

#include "engine/pipeline.h"
#include "engine/stage.h"

namespace ps::cli {

void RegisterBuiltinStages(engine::StageRegistry& registry);

// The pipeline a run of `kind` executes in this build, from the stages that
// exist. NotFound-like problem for kinds with no stages yet.
Result<engine::PipelineSpec> PipelineFor(store::RunKind kind);

}  // namespace ps::cli
