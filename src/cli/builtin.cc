#include "cli/builtin.h"

#include "stages/audit/audit_stage.h"
#include "stages/plan/plan_stage.h"
#include "stages/source/source_stage.h"

namespace ps::cli {

void RegisterBuiltinStages(engine::StageRegistry& registry) {
  registry.Add(stages::SourceStage::kName, [] { return std::make_unique<stages::SourceStage>(); });
  registry.Add(stages::AuditStage::kName, [] { return std::make_unique<stages::AuditStage>(); });
  registry.Add(stages::PlanStage::kName, [] { return std::make_unique<stages::PlanStage>(); });
}

Result<engine::PipelineSpec> PipelineFor(store::RunKind kind) {
  switch (kind) {
    case store::RunKind::kImport:
      return engine::PipelineSpec{
          kind,
          {{stages::SourceStage::kName, {}, 0, 0},
           {stages::AuditStage::kName, {stages::SourceStage::kName}, 0, 0}}};
    case store::RunKind::kBlueprint:
      // The plan audits the tree itself (milliseconds), so a blueprint run
      // always plans what the repository is now.
      return engine::PipelineSpec{kind,
                                  {{stages::SourceStage::kName, {}, 0, 0},
                                   {stages::PlanStage::kName, {stages::SourceStage::kName}, 0, 0}}};
    default:
      return Problem::Make("not-implemented", "Not in this build", 501,
                           "runs of kind '" + std::string(store::ToString(kind)) +
                               "' have no stages in this build yet");
  }
}

std::vector<std::string> MissingProductStages() { return {"apply", "readiness", "release"}; }

}  // namespace ps::cli
