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

// The down run's stage (an apply run of nothing): stops every process of
// the environment; release folders and data stay.
class DownStage final : public engine::Stage {
 public:
  static constexpr const char* kName = "down";
  explicit DownStage(const targets::Targets& targets) : targets_(targets) {}
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;

 private:
  const targets::Targets& targets_;
};

}  // namespace ps::stages
