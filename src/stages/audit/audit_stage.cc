#include "stages/audit/audit_stage.h"

#include "stages/audit/audit.h"
#include "stages/repository.h"

namespace ps::stages {

Result<engine::StageOutput> AuditStage::Run(engine::StageContext& ctx) {
  const Json& input = ctx.run_input();
  PS_ASSIGN(const std::string path, RepositoryFolder(ctx));
  const std::string ref = input.value("ref", "");
  PS_ASSIGN(std::unique_ptr<audit::RepoView> view, audit::OpenView(path, ref));
  ctx.Progress(0.0, "auditing " + view->Describe());
  PS_ASSIGN(Json result, audit::Audit(*view, {}, [&] { return ctx.Stopping(); }));
  ctx.log().Info("audit done", {{"services", std::to_string(result["services"].size())},
                                {"warnings", std::to_string(result["warnings"].size())}});
  for (const auto& w : result["warnings"]) {
    ctx.log().Warn(w.value("message", ""), {{"file", w.value("file", "")}});
  }
  Json services = Json::array();
  for (const auto& s : result["services"]) services.push_back(s["name"]);
  Json languages = Json::array();
  for (const auto& l : result["languages"]) languages.push_back(l["name"]);
  engine::StageOutput out;
  PS_ASSIGN(engine::ArtifactOut artifact,
            ctx.PutArtifact(store::ArtifactType::kAudit, "audit.json", Dump(result, 2) + "\n",
                            "application/json",
                            {{"schema", result["schema"]}, {"services", services.size()}}));
  out.artifacts.push_back(artifact);
  out.facts = result;
  out.metrics = {{"services", result["services"].size()}, {"files", result["stats"]["files"]}};
  out.project_state = "imported";
  out.events.push_back({"project.imported", {{"services", services}, {"languages", languages}}});
  ctx.Progress(1.0, std::to_string(services.size()) + " service(s)");
  return out;
}

}  // namespace ps::stages
