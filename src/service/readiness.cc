#include "service/readiness.h"

#include "service/waivers.h"

namespace ps::service {

Result<store::Run> SubmitReadiness(App& app, const store::Tenant& tenant, const Actor& actor,
                                   const store::Project& project, const ReadinessRequest& req) {
  PS_ASSIGN(Json waivers, WaiversOf(app, tenant, project.id));
  Json input = {{"env", req.env},
                {"target", req.target},
                {"provisioned", true},
                {"reference_env", req.reference_env},
                {"waivers", waivers}};
  if (!req.ref.empty()) input["ref"] = req.ref;
  if (!req.advisory_db.empty()) input["advisory_db"] = req.advisory_db;
  if (req.rebaseline) input["rebaseline"] = true;
  return Submit(app, tenant, actor, project, store::RunKind::kReadiness, input);
}

Result<ReadinessOutcome> ReadinessOf(App& app, const store::Tenant& tenant,
                                     const std::string& run_id) {
  ReadinessOutcome out;
  PS_ASSIGN(out.detail, LoadDetail(app, tenant, run_id));
  for (const auto& st : out.detail.stages) {
    if (!st.output.is_object()) continue;
    if (st.name == "security" && st.output.contains("passed")) out.security = st.output;
    if (st.name == "tests" && st.output.contains("passed")) out.tests = st.output;
    if (st.name == "performance" && st.output.contains("passed")) out.performance = st.output;
    if (st.name == "checklist" && st.output.contains("ready")) out.checklist = st.output;
  }
  for (const auto& art : out.detail.artifacts) {
    if (art.name != "security.sarif") continue;
    auto text = app.artifacts.Get(art.sha256);
    if (text.ok()) out.security_sarif = Json::parse(*text, nullptr, false);
  }
  return out;
}

Result<ReadinessOutcome> CheckReadiness(App& app, const store::Tenant& tenant, const Actor& actor,
                                        const store::Project& project, const ReadinessRequest& req,
                                        const Drive& drive) {
  PS_ASSIGN(store::Run run, SubmitReadiness(app, tenant, actor, project, req));
  PS_ASSIGN(run, drive(run.id, {}));
  return ReadinessOf(app, tenant, run.id);
}

}  // namespace ps::service
