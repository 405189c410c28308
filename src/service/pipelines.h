// The stages built into this binary and the pipeline of each run kind. The one
// place that says which plugins exist (no static registration).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/pipeline.h"
#include "engine/stage.h"
#include "targets/target.h"

namespace ps::service {

// Stages that run environments reach them through `targets` (kept alive by
// the registry's factories).
void RegisterBuiltinStages(engine::StageRegistry& registry,
                           std::shared_ptr<const targets::Targets> targets);

// The pipeline a run of `kind` executes in this build, from the stages that
// exist. NotFound-like problem for kinds with no stages yet.
Result<engine::PipelineSpec> PipelineFor(store::RunKind kind);

// The import run of a project named by a git URL: `clone` first.
engine::PipelineSpec CloneImportPipeline();

// `down`: an apply run whose one stage stops everything the environment
// runs (an apply of nothing, as Terraform's destroy is).
engine::PipelineSpec DownPipeline();

}  // namespace ps::service
