// The readiness run's security stage: the security gate
// (stages/readiness/security_gate.h) on run_input().path (or .ref). Its
// findings and decision go to the run (facts, metrics, policy_result), the
// SBOMs (CycloneDX 1.5 and SPDX 2.3 JSON) and the SARIF report are stored as
// artifacts of type sbom, and `security.passed` is emitted when the policy
// lets the version through. A blocked gate is a finished stage with
// passed: false, not an error: the checklist (issue 7) reads it.
#pragma once

#include "engine/stage.h"

namespace ps::stages {

class SecurityStage final : public engine::Stage {
 public:
  static constexpr const char* kName = "security";
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;
};

}  // namespace ps::stages
