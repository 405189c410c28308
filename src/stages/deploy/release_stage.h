// The release run's stage: deploys a revision beside the stable version on
// the local target and moves traffic to it step by step (canary, in Argo
// Rollouts' vocabulary) or all at once after a test (blue/green), while an
// analysis reads every request from HAProxy's log and compares candidate with
// stable (analysis/sequential.h). It rolls back by itself — candidate weight
// 0 at once, drain, stop — when the analysis finds the candidate worse or an
// instance is unhealthy, and takes `prodsprint promote`, `abort` and
// `rollback` while it runs. Every decision is stored on the releases row,
// with its statistics, as it is taken (release.progress, release.rolledback).
#pragma once

#include "engine/stage.h"
#include "targets/target.h"

namespace ps::stages {

class ReleaseStage final : public engine::Stage {
 public:
  explicit ReleaseStage(const targets::Targets& targets) : targets_(targets) {}
  static constexpr const char* kName = "release";
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;

 private:
  const targets::Targets& targets_;
};

// The manual rollback run's stage: puts the environment back on the
// versions it ran before their last change.
class RollbackStage final : public engine::Stage {
 public:
  explicit RollbackStage(const targets::Targets& targets) : targets_(targets) {}
  static constexpr const char* kName = "rollback";
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;

 private:
  const targets::Targets& targets_;
};

}  // namespace ps::stages
