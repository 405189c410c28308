#include "stages/plan/plan_stage.h"

#include "core/fs.h"
#include "stages/audit/audit.h"
#include "stages/plan/blueprint.h"
#include "stages/repository.h"

namespace ps::stages {

Result<engine::StageOutput> PlanStage::Run(engine::StageContext& ctx) {
  const Json& input = ctx.run_input();
  PS_ASSIGN(const std::string path, RepositoryFolder(ctx));
  const std::string ref = input.value("ref", "");
  PS_ASSIGN(std::unique_ptr<audit::RepoView> view, audit::OpenView(path, ref));
  ctx.Progress(0.0, "auditing " + view->Describe());
  PS_ASSIGN(Json audited, audit::Audit(*view, {}, [&] { return ctx.Stopping(); }));
  plan::PlanOptions o;
  o.project = plan::Slug(ctx.project().name);
  o.target = input.value("target", "local");
  o.env = input.value("env", "staging");
  ctx.Progress(0.5, "planning " + o.target + "/" + o.env);
  PS_ASSIGN(plan::Blueprint b, plan::MakeBlueprint(audited, o, plan::ReaderOf(*view)));

  engine::StageOutput out;
  Json summary = b.ToJson();
  summary["target"] = o.target;
  summary["env"] = o.env;
  const Json state = b.State();
  const auto& previous = ctx.blueprint();
  Json diff =
      plan::Diff(previous && previous->plan_diff.contains("state") ? previous->plan_diff["state"]
                                                                   : Json(nullptr),
                 state);
  summary["diff"] = diff;
  std::string cicd_sha;
  for (const auto& [name, content] : b.files) {
    const bool cicd = name.rfind(".github/", 0) == 0;
    PS_ASSIGN(engine::ArtifactOut a,
              ctx.PutArtifact(cicd ? store::ArtifactType::kCicd : store::ArtifactType::kIac, name,
                              content, "text/plain", {{"target", o.target}, {"env", o.env}}));
    if (cicd) cicd_sha = a.blob.sha256;
    out.artifacts.push_back(a);
  }
  const std::string plan_json = Dump(summary, 2) + "\n";
  PS_ASSIGN(engine::ArtifactOut plan_art,
            ctx.PutArtifact(store::ArtifactType::kIac, "plan.json", plan_json, "application/json",
                            {{"target", o.target}, {"env", o.env}}));
  out.artifacts.push_back(plan_art);

  store::Blueprint row;
  row.iac_ref = "sha256:" + plan_art.blob.sha256;
  row.cicd_ref = cicd_sha.empty() ? "" : "sha256:" + cicd_sha;
  row.policies = b.policies;
  row.cost_estimate = b.cost.is_object() ? b.cost : Json::object();
  row.plan_diff = diff;
  row.plan_diff["state"] = state;  // what the next plan diffs against
  out.blueprint = row;

  int errors = 0;
  for (const auto& f : b.findings) errors += f.severity == "error";
  out.facts = summary;
  out.metrics = {{"files", b.files.size()}, {"findings", b.findings.size()}, {"errors", errors}};
  out.project_state = "planned";
  out.events.push_back(
      {"plan.ready",
       {{"target", o.target},
        {"env", o.env},
        {"files", b.files.size()},
        {"findings", b.findings.size()},
        {"diff",
         {{"files", diff["files"]}, {"resources", diff["resources"]}, {"cost", diff["cost"]}}}}});
  ctx.Progress(1.0, std::to_string(b.files.size()) + " file(s), " +
                        std::to_string(b.findings.size()) + " finding(s)");
  return out;
}

}  // namespace ps::stages
