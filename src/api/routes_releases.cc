// Releases: start one, roll back, list, show, promote, abort. Actions on a
// release take If-Match with the release's ETag, so that of two people
// promoting and rolling back at once one wins and the other gets 412.
#include <mutex>

#include "api/api.h"
#include "core/fs.h"
#include "service/environments.h"
#include "service/runs.h"
#include "store/model_json.h"

namespace ps::api {

namespace {

constexpr const char* kTarget = "local";

// One action on releases at a time in this process: the ETag check and the
// signal it guards are one step.
std::mutex& ActionMutex() {
  static std::mutex mu;
  return mu;
}

// The release's version: its row and the newest signal sent to its run
// (a promote not yet taken still changes it).
Result<std::string> ETagOf(Call& c, const Scope& s, const store::Release& r) {
  std::int64_t signal = 0;
  const std::string run_id = r.meta.value("run_id", r.id);
  auto page = service::EventsAfter(c.app(), s.tenant, 0, run_id, 10'000);
  if (page.ok()) {
    for (const auto& e : page->events) {
      if (e.name == "run.signal") signal = e.seq;
    }
  }
  const std::string basis =
      r.id + "\n" + r.status + "\n" + std::to_string(r.updated_at) + "\n" + std::to_string(signal);
  return "\"" + Sha256Hex(basis).substr(0, 32) + "\"";
}

Result<Response> Create(Call& c) {
  PS_ASSIGN(Json body, c.Body());
  PS_ASSIGN(std::string id, StringField(body, "project_id"));
  PS_ASSIGN(auto found, c.Project(id, Need::kOperate));
  PS_ASSIGN(std::string env, StringField(body, "env", false));
  if (env.empty()) env = "production";
  PS_TRY(service::CheckEnvironment(c.app().config, env, true));
  PS_ASSIGN(std::string strategy, StringField(body, "strategy", false));
  if (!strategy.empty() && strategy != "canary" && strategy != "bluegreen") {
    return BadRequest("strategy is canary or bluegreen");
  }
  PS_ASSIGN(std::string ref, StringField(body, "ref", false));
  if (auto holder =
          service::ReleaseHolder(c.app(), found.first.tenant, found.second, kTarget, env)) {
    return problems::Conflict("a release is in progress in '" + env + "' (" + *holder + ")");
  }
  Json input = {{"ref", ref}, {"env", env}, {"target", kTarget}, {"strategy", strategy}};
  PS_ASSIGN(store::Run run, service::Submit(c.app(), found.first.tenant, c.actor(), found.second,
                                            store::RunKind::kRelease, input));
  c.audit_meta["run_id"] = run.id;
  c.audit_meta["env"] = env;
  return Accepted(run);
}

// promote / abort / rollback of an environment's release.
Result<Response> Control(Call& c, const Scope& s, const store::Project& p, const std::string& env,
                         const std::string& action) {
  PS_ASSIGN(service::ControlOutcome out,
            service::ControlRelease(c.app(), s.tenant, c.actor(), p, kTarget, env, action, 0));
  c.audit_meta["env"] = env;
  if (out.kind == service::ControlOutcome::Kind::kRollbackRun) {
    PS_ASSIGN(store::Run run,
              service::Submit(c.app(), s.tenant, c.actor(), p, store::RunKind::kRollback,
                              {{"env", env}, {"target", kTarget}}));
    c.audit_meta["run_id"] = run.id;
    return Accepted(run);
  }
  c.audit_meta["run_id"] = out.run.id;
  Response r = Response::WithJson(
      202,
      {{"run_id", out.run.id}, {"signal", action}, {"links", {{"run", "/v1/runs/" + out.run.id}}}});
  r.Set("Location", "/v1/runs/" + out.run.id);
  return r;
}

Result<Response> Rollback(Call& c) {
  PS_ASSIGN(Json body, c.Body());
  PS_ASSIGN(std::string id, StringField(body, "project_id"));
  PS_ASSIGN(auto found, c.Project(id, Need::kOperate));
  PS_ASSIGN(std::string env, StringField(body, "env", false));
  if (env.empty()) env = "production";
  PS_TRY(service::CheckEnvironment(c.app().config, env, false));
  std::lock_guard lock(ActionMutex());
  return Control(c, found.first, found.second, env, "rollback");
}

Result<Response> List(Call& c) {
  PS_ASSIGN(
      std::string project_id,
      StringField(Json{{"project_id", c.req.Param("project_id").value_or("")}}, "project_id"));
  PS_ASSIGN(auto found, c.Project(project_id, Need::kView));
  PS_ASSIGN(int limit, LimitParam(c.req, 50, 500));
  PS_ASSIGN(auto releases,
            store::ReadValue<std::vector<store::Release>>(c.app().store, [&](store::Tx& tx) {
              return tx.ListReleases(found.first.tenant, found.second.id);
            }));
  Json items = Json::array();
  for (const auto& r : releases) {
    if (static_cast<int>(items.size()) >= limit) break;
    items.push_back(store::ToJson(r));
  }
  return Response::WithJson(200, {{"items", items}});
}

Result<Response> Get(Call& c) {
  PS_ASSIGN(auto found, c.Release(c.params["id"], Need::kView));
  PS_ASSIGN(std::string etag, ETagOf(c, found.first, found.second));
  Response r = Response::WithJson(200, store::ToJson(found.second));
  r.Set("ETag", etag);
  return r;
}

Result<Response> Act(Call& c, const std::string& action) {
  PS_ASSIGN(auto found, c.Release(c.params["id"], Need::kOperate));
  const store::Release& rel = found.second;
  auto project = c.Project(rel.project_id, Need::kOperate);
  if (!project.ok()) return project.problem();
  std::lock_guard lock(ActionMutex());
  const std::string if_match = c.req.Header("if-match");
  if (!if_match.empty() && if_match != "*") {
    // Read again under the lock: what the caller saw must still be so.
    PS_ASSIGN(auto now, c.Release(rel.id, Need::kOperate));
    PS_ASSIGN(std::string etag, ETagOf(c, now.first, now.second));
    if (etag != if_match) {
      Response r = Response::WithProblem(
          Problem::Make("precondition-failed", "Precondition failed", 412,
                        "the release changed since you read it (ETag " + etag + ")"),
          c.req.path);
      r.Set("ETag", etag);
      return r;
    }
  }
  return Control(c, found.first, project->second, rel.env, action);
}

Result<Response> Promote(Call& c) { return Act(c, "promote"); }
Result<Response> Abort(Call& c) { return Act(c, "abort"); }

}  // namespace

void AddReleaseRoutes(std::vector<Route>& routes) {
  Json create = ObjectSchema({"project_id", "env", "strategy", "ref"}, {"project_id"});
  create["properties"]["strategy"]["enum"] = {"canary", "bluegreen"};
  routes.push_back({"POST", "/v1/releases/create", "createRelease", "releases",
                    "Start a release (canary or blue/green) of the applied version (202)",
                    Need::kOperate, "release.create", create, 202, "application/json", Create});
  routes.push_back({"POST", "/v1/releases/rollback", "rollbackRelease", "releases",
                    "Roll an environment back: the running release's candidate out, or the "
                    "previous version back (202)",
                    Need::kOperate, "release.rollback",
                    ObjectSchema({"project_id", "env"}, {"project_id"}), 202, "application/json",
                    Rollback});
  routes.push_back({"GET", "/v1/releases", "listReleases", "releases",
                    "A project's releases, newest first (?project_id=)", Need::kView, "", nullptr,
                    200, "application/json", List});
  routes.push_back({"GET", "/v1/releases/{id}", "getRelease", "releases",
                    "A release, with its ETag", Need::kView, "", nullptr, 200, "application/json",
                    Get});
  routes.push_back({"POST", "/v1/releases/{id}/promote", "promoteRelease", "releases",
                    "Promote the release's candidate (If-Match: its ETag)", Need::kOperate,
                    "release.promote", nullptr, 202, "application/json", Promote});
  routes.push_back({"POST", "/v1/releases/{id}/abort", "abortRelease", "releases",
                    "Abort the release: the candidate out, the stable version stays (If-Match)",
                    Need::kOperate, "release.abort", nullptr, 202, "application/json", Abort});
}

}  // namespace ps::api
