// The blueprint run's plan stage: audits the repository at run_input().path
// (or revision run_input().ref), makes the blueprint for run_input().target
// and .env, stores its files as artifacts (Dockerfiles and .dockerignore as
// iac, the workflow as cicd, plan.json as iac), replaces the project's
// blueprints row (refs, policies, the diff against the previous blueprint),
// marks the project planned and emits plan.ready.
#pragma once

#include "engine/stage.h"

namespace ps::stages {

class PlanStage final : public engine::Stage {
 public:
  static constexpr const char* kName = "plan";
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;
  bool NeedsBlueprint() const override { return true; }
};

}  // namespace ps::stages
