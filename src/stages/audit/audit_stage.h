// The import run's audit stage: audits the repository at run_input().path
// (or its revision run_input().ref), records the result as the stage's
// output, marks the project imported and emits project.imported.
#pragma once

#include "engine/stage.h"

namespace ps::stages {

class AuditStage final : public engine::Stage {
 public:
  static constexpr const char* kName = "audit";
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;
};

}  // namespace ps::stages
