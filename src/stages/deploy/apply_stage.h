// The apply run's stage: makes a revision the running version of an
// environment on the local target (prepare.h), behind HAProxy, and reports
// the URLs. Emits iac.applied. Nothing changes when nothing changed.
#pragma once

#include "engine/stage.h"
#include "targets/target.h"

namespace ps::stages {

class ApplyStage final : public engine::Stage {
 public:
  explicit ApplyStage(const targets::Targets& targets) : targets_(targets) {}
  static constexpr const char* kName = "apply";
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;

 private:
  const targets::Targets& targets_;
};

}  // namespace ps::stages
