// The readiness run's last stage: the checklist. It reads the gates' results
// (the security and tests stages of the same run; performance arrives with
// issue 7) and the waivers the run was given (input.waivers: recorded with
// `prodsprint waive`, read from the audit log when the run was submitted),
// and says for each gate passed, failed (with its blockers), waived (failed,
// but a waiver that has not expired covers it) or not run. The version is
// ready when no gate failed; `readiness.ready` is emitted then.
#pragma once

#include "engine/stage.h"

namespace ps::stages {

class ChecklistStage final : public engine::Stage {
 public:
  static constexpr const char* kName = "checklist";
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;
};

// The checklist from gate outputs (gate name -> the stage's output, each
// with "passed" and "blockers") and waivers ({gate, reason, until (ms since
// the epoch), by}) at time `now_ms`. Pure: the stage and `prodsprint check`
// share it.
Json MakeChecklist(const std::vector<std::pair<std::string, Json>>& gates, const Json& waivers,
                   Millis now_ms);

}  // namespace ps::stages
