#include "service/pipelines.h"

#include "stages/audit/audit_stage.h"
#include "stages/deploy/apply_stage.h"
#include "stages/deploy/release_stage.h"
#include "stages/plan/plan_stage.h"
#include "stages/readiness/checklist_stage.h"
#include "stages/readiness/perf_stage.h"
#include "stages/readiness/security_stage.h"
#include "stages/readiness/test_stage.h"
#include "stages/source/clone_stage.h"
#include "stages/source/source_stage.h"

namespace ps::service {

void RegisterBuiltinStages(engine::StageRegistry& registry,
                           std::shared_ptr<const targets::Targets> targets) {
  registry.Add(stages::SourceStage::kName, [] { return std::make_unique<stages::SourceStage>(); });
  registry.Add(stages::CloneStage::kName, [] { return std::make_unique<stages::CloneStage>(); });
  registry.Add(stages::AuditStage::kName, [] { return std::make_unique<stages::AuditStage>(); });
  registry.Add(stages::PlanStage::kName, [] { return std::make_unique<stages::PlanStage>(); });
  registry.Add(stages::ApplyStage::kName,
               [targets] { return std::make_unique<stages::ApplyStage>(*targets); });
  registry.Add(stages::ReleaseStage::kName,
               [targets] { return std::make_unique<stages::ReleaseStage>(*targets); });
  registry.Add(stages::RollbackStage::kName,
               [targets] { return std::make_unique<stages::RollbackStage>(*targets); });
  registry.Add(stages::DownStage::kName,
               [targets] { return std::make_unique<stages::DownStage>(*targets); });
  registry.Add(stages::SecurityStage::kName,
               [] { return std::make_unique<stages::SecurityStage>(); });
  registry.Add(stages::TestStage::kName,
               [targets] { return std::make_unique<stages::TestStage>(*targets); });
  registry.Add(stages::PerformanceStage::kName,
               [targets] { return std::make_unique<stages::PerformanceStage>(*targets); });
  registry.Add(stages::ChecklistStage::kName,
               [] { return std::make_unique<stages::ChecklistStage>(); });
}

Result<engine::PipelineSpec> PipelineFor(store::RunKind kind) {
  switch (kind) {
    // Import: taking stock of the tree (files, fingerprint, git identity)
    // and the audit read the repository independently, side by side: an
    // import takes the audit's time, not the sum (docs/BENCHMARKS.md).
    case store::RunKind::kImport:
      return engine::PipelineSpec{
          kind, {{stages::SourceStage::kName, {}, 0, 0}, {stages::AuditStage::kName, {}, 0, 0}}};
    case store::RunKind::kBlueprint:
      // The plan audits the tree itself (milliseconds), so a blueprint run
      // always plans what the repository is now.
      return engine::PipelineSpec{kind,
                                  {{stages::SourceStage::kName, {}, 0, 0},
                                   {stages::PlanStage::kName, {stages::SourceStage::kName}, 0, 0}}};
    // Apply, release and rollback change an environment: one attempt each.
    // A retry would repeat a build or a traffic shift the user should see
    // fail, not have hidden; the stable version keeps serving either way.
    case store::RunKind::kApply:
      return engine::PipelineSpec{kind, {{stages::ApplyStage::kName, {}, 0, 1}}};
    case store::RunKind::kRelease:
      return engine::PipelineSpec{kind, {{stages::ReleaseStage::kName, {}, 24 * 3'600'000LL, 1}}};
    // Readiness: the gates, side by side — security, and tests followed by
    // performance (which loads the routes the tests' smoke suite found, and
    // must not share the CPU with a test run) — then the checklist over
    // them. A gate that blocks is a finished stage whose policy_result says
    // passed: false. Tests and the measurement run once: a retry would hide
    // a flaky suite or a slow run.
    case store::RunKind::kReadiness:
      return engine::PipelineSpec{
          kind,
          {{stages::SecurityStage::kName, {}, 0, 0},
           {stages::TestStage::kName, {}, 60 * 60'000LL, 1},
           {stages::PerformanceStage::kName, {stages::TestStage::kName}, 30 * 60'000LL, 1},
           {stages::ChecklistStage::kName,
            {stages::SecurityStage::kName, stages::TestStage::kName,
             stages::PerformanceStage::kName},
            0,
            0}}};
    case store::RunKind::kRollback:
      return engine::PipelineSpec{kind, {{stages::RollbackStage::kName, {}, 0, 1}}};
    default:
      return Problem::Make("not-implemented", "Not in this build", 501,
                           "runs of kind '" + std::string(store::ToString(kind)) +
                               "' have no stages in this build yet");
  }
}

engine::PipelineSpec CloneImportPipeline() {
  return engine::PipelineSpec{store::RunKind::kImport,
                              {{stages::CloneStage::kName, {}, 0, 0},
                               {stages::SourceStage::kName, {stages::CloneStage::kName}, 0, 0},
                               {stages::AuditStage::kName, {stages::CloneStage::kName}, 0, 0}}};
}

engine::PipelineSpec DownPipeline() {
  return engine::PipelineSpec{store::RunKind::kApply, {{stages::DownStage::kName, {}, 0, 1}}};
}

}  // namespace ps::service
