// The apply run's stage: makes a revision the running version of an
// environment on the local target (prepare.h), behind HAProxy, and reports
// the URLs. Emits iac.applied. Nothing changes when nothing changed.
#pragma once

#include "engine/stage.h"

namespace ps::stages {

class ApplyStage final : public engine::Stage {
 public:
  static constexpr const char* kName = "apply";
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;
};

}  // namespace ps::stages
