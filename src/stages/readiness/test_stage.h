// The readiness run's tests stage: the version is prepared as for staging
// (stages/deploy/prepare.h: exported, dependencies installed, built; nothing
// is redone for a commit already prepared), each service's test command runs
// in its release folder against backing servers of its own (PostgreSQL
// database and role "<service>-test"), and the test gate
// (stages/readiness/test_gate.h) decides. Results go to the run (facts,
// metrics, policy_result); the merged JUnit XML, each runner's log and the
// coverage summary are stored as artifacts of type tests.
#pragma once

#include "engine/stage.h"
#include "targets/target.h"

namespace ps::stages {

class TestStage final : public engine::Stage {
 public:
  explicit TestStage(const targets::Targets& targets) : targets_(targets) {}
  static constexpr const char* kName = "tests";
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;

 private:
  const targets::Targets& targets_;
};

}  // namespace ps::stages
