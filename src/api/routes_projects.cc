// Projects and the brief's pipeline routes: import, blueprints, apply,
// readiness, the dashboard's summary, waivers and alerts.
#include <filesystem>
#include <set>

#include "api/api.h"
#include "service/environments.h"
#include "service/projects.h"
#include "service/readiness.h"
#include "service/runs.h"
#include "service/waivers.h"
#include "store/model_json.h"

namespace ps::api {

namespace fs = std::filesystem;

namespace {

Problem Unprocessable(std::string detail) {
  return Problem::Make("repository-refused", "Repository refused", 422, std::move(detail));
}

// A folder under server.repos_root: its real location (symbolic links
// followed) must be inside, and what was given may hold no '..'.
Result<std::string> UnderReposRoot(const Config& config, const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return BadRequest("repo_url must be an absolute path, a file:// URL or a git URL");
  }
  for (const auto& part : fs::path(path)) {
    if (part == "..") return Unprocessable("repo_url must not contain '..'");
  }
  if (config.server.repos_root.empty()) {
    return Unprocessable(
        "local repositories cannot be imported: the server has no server.repos_root");
  }
  std::error_code ec;
  const fs::path root = fs::canonical(config.server.repos_root, ec);
  if (ec) return Unprocessable("server.repos_root does not exist on the server");
  const fs::path real = fs::canonical(path, ec);
  if (ec || !fs::is_directory(real, ec)) {
    return Unprocessable("no repository folder at " + path);
  }
  const auto rel = real.lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..") {
    return Unprocessable(path + " is outside server.repos_root (symbolic links are followed)");
  }
  return real.string();
}

// What a project records as its repository, from what a caller gave:
//  - a plain path under repos_root: read where it is (as the CLI does);
//  - a file:// URL under repos_root, or an https://, ssh:// or git@host:path
//    URL: cloned by the import run into the server's own folder.
// Credentials never ride in the URL (they would be stored and shown): a
// private repository's come from an integration.
Result<std::string> RepositoryOf(const Config& config, const std::string& url) {
  if (url.size() > 2048) return BadRequest("repo_url is too long");
  for (unsigned char ch : url) {
    if (ch < 0x21 || ch == 0x7f) return BadRequest("repo_url holds a space or control character");
  }
  if (url.rfind("file://", 0) == 0) {
    std::string path;
    if (!PercentDecode(url.substr(7), &path)) return BadRequest("malformed file:// URL");
    PS_ASSIGN(std::string real, UnderReposRoot(config, path));
    if (!fs::exists(fs::path(real) / ".git")) {
      return Unprocessable(path + " is not a git repository (give its path to read it in place)");
    }
    return "file://" + real;
  }
  const bool https = url.rfind("https://", 0) == 0;
  const bool ssh = url.rfind("ssh://", 0) == 0;
  const bool scp = url.rfind("git@", 0) == 0 && url.find(':') != std::string::npos;
  if (https || ssh) {
    const auto host_start = url.find("://") + 3;
    const auto host_end = url.find('/', host_start);
    const std::string authority = url.substr(host_start, host_end - host_start);
    if (authority.empty() || host_end == std::string::npos || host_end + 1 >= url.size()) {
      return BadRequest("repo_url names no host and path");
    }
    if (authority.find('@') != std::string::npos &&
        (https || authority.find(':') < authority.find('@'))) {
      return Unprocessable(
          "repo_url carries credentials; give them through an integration, never in the URL");
    }
    return url;
  }
  if (scp) return url;
  if (url.find("://") != std::string::npos) {
    return Unprocessable("repositories are imported over https://, ssh:// or file://, not " +
                         url.substr(0, url.find("://")));
  }
  return UnderReposRoot(config, url);
}

Result<Response> Import(Call& c) {
  PS_ASSIGN(Json body, c.Body());
  PS_ASSIGN(std::string url, StringField(body, "repo_url"));
  PS_ASSIGN(std::string ref, StringField(body, "ref", false));
  PS_ASSIGN(std::string workspace, StringField(body, "workspace"));
  PS_ASSIGN(Scope s, c.InWorkspace(workspace, Need::kOperate));
  PS_ASSIGN(std::string repo, RepositoryOf(c.app().config, url));
  const bool existed = store::ReadValue<store::Project>(c.app().store, [&](store::Tx& tx) {
                         return tx.FindProjectByRepo(s.tenant, repo);
                       }).ok();
  PS_ASSIGN(store::Project p, service::EnsureProject(c.app(), s.tenant, c.actor(), repo));
  Json input = Json::object();
  if (!ref.empty()) input["ref"] = ref;
  auto run = service::Submit(c.app(), s.tenant, c.actor(), p, store::RunKind::kImport, input);
  if (!run.ok()) {
    // A refused import (its prodsprint.yaml is invalid...) leaves nothing.
    if (!existed) (void)service::DeleteProject(c.app(), s.tenant, p);
    return run.problem();
  }
  c.audit_target = "project:" + p.id;
  c.audit_meta["run_id"] = run->id;
  return Accepted(*run);
}

Result<Response> ListProjects(Call& c) {
  std::vector<Scope> scopes;
  if (auto ws = c.req.Param("workspace")) {
    PS_ASSIGN(Scope s, c.InWorkspace(*ws, Need::kView));
    scopes.push_back(s);
  } else {
    PS_ASSIGN(scopes, c.Visible());
  }
  Json items = Json::array();
  for (const auto& s : scopes) {
    PS_ASSIGN(auto projects, service::ListProjects(c.app(), s.tenant));
    for (const auto& p : projects) items.push_back(store::ToJson(p));
  }
  return Response::WithJson(200, {{"items", items}});
}

Result<Response> GetProject(Call& c) {
  PS_ASSIGN(auto found, c.Project(c.params["id"], Need::kView));
  return Response::WithJson(200, store::ToJson(found.second));
}

// A POST whose body names a project: {"project_id": "..."}.
Result<std::pair<Scope, store::Project>> BodyProject(Call& c, const Json& body, Need need) {
  PS_ASSIGN(std::string id, StringField(body, "project_id"));
  return c.Project(id, need);
}

Result<std::string> EnvField(Call& c, const Json& body, const std::string& def) {
  PS_ASSIGN(std::string env, StringField(body, "env", false));
  if (env.empty()) env = def;
  PS_TRY(service::CheckEnvironment(c.app().config, env, true));
  return env;
}

Result<Response> Generate(Call& c) {
  PS_ASSIGN(Json body, c.Body());
  PS_ASSIGN(auto found, BodyProject(c, body, Need::kOperate));
  PS_ASSIGN(std::string ref, StringField(body, "ref", false));
  PS_ASSIGN(std::string target, StringField(body, "target", false));
  if (target.empty()) target = "local";
  static const std::set<std::string> kPlanTargets = {"local", "kubernetes", "aws", "render",
                                                     "vercel"};
  if (!kPlanTargets.count(target)) {
    return BadRequest("target is local, kubernetes, aws, render or vercel, not '" + target + "'");
  }
  PS_ASSIGN(std::string env, EnvField(c, body, "staging"));
  Json input = {{"target", target}, {"env", env}};
  if (!ref.empty()) input["ref"] = ref;
  PS_ASSIGN(store::Run run, service::Submit(c.app(), found.first.tenant, c.actor(), found.second,
                                            store::RunKind::kBlueprint, input));
  c.audit_meta["run_id"] = run.id;
  return Accepted(run);
}

Result<Response> GetBlueprint(Call& c) {
  PS_ASSIGN(auto found, c.Project(c.params["project_id"], Need::kView));
  const store::Tenant& t = found.first.tenant;
  PS_ASSIGN(store::Blueprint b,
            store::ReadValue<store::Blueprint>(
                c.app().store, [&](store::Tx& tx) { return tx.GetBlueprint(t, found.second.id); }));
  Json out = store::ToJson(b);
  PS_ASSIGN(auto artifacts,
            store::ReadValue<std::vector<store::Artifact>>(c.app().store, [&](store::Tx& tx) {
              return tx.ListArtifacts(t, found.second.id);
            }));
  // The files of the plan this blueprint is: the run whose plan.json it
  // names (iac_ref), not every plan's.
  std::string run_id;
  for (const auto& a : artifacts) {
    if (a.name == "plan.json" && b.iac_ref == "sha256:" + a.sha256) run_id = a.run_id;
  }
  Json files = Json::array();
  for (const auto& a : artifacts) {
    if ((a.type == store::ArtifactType::kIac || a.type == store::ArtifactType::kCicd) &&
        a.run_id == run_id) {
      files.push_back(store::ToJson(a));
    }
  }
  out["run_id"] = run_id.empty() ? Json(nullptr) : Json(run_id);
  out["artifacts"] = files;
  return Response::WithJson(200, out);
}

Result<Response> Apply(Call& c) {
  PS_ASSIGN(Json body, c.Body());
  PS_ASSIGN(auto found, BodyProject(c, body, Need::kOperate));
  PS_ASSIGN(std::string env, EnvField(c, body, "staging"));
  PS_ASSIGN(std::string ref, StringField(body, "ref", false));
  Json input = {{"ref", ref}, {"env", env}, {"target", "local"}};
  PS_ASSIGN(store::Run run, service::Submit(c.app(), found.first.tenant, c.actor(), found.second,
                                            store::RunKind::kApply, input));
  c.audit_meta["run_id"] = run.id;
  c.audit_meta["env"] = env;
  return Accepted(run);
}

Result<std::vector<store::Run>> RunsOf(Call& c, const Scope& s, const std::string& project_id) {
  return service::ListRuns(c.app(), s.tenant, project_id, 200);
}

const store::Run* Newest(const std::vector<store::Run>& runs, store::RunKind kind) {
  for (const auto& r : runs) {
    if (r.kind == kind) return &r;
  }
  return nullptr;
}

Json ReadinessJson(Call& c, const Scope& s, const store::Run* run) {
  if (!run) return {{"run_id", nullptr}, {"ready", nullptr}, {"checklist", nullptr}};
  auto out = service::ReadinessOf(c.app(), s.tenant, run->id);
  if (!out.ok()) return {{"run_id", run->id}, {"error", out.problem().ToJson()}};
  return {
      {"run_id", run->id},
      {"status", store::ToString(run->status)},
      {"ready", out->checklist.is_object() ? Json(out->ready()) : Json(nullptr)},
      {"checklist", out->checklist},
      {"gates",
       {{"security", out->security}, {"tests", out->tests}, {"performance", out->performance}}}};
}

Result<Response> GetReadiness(Call& c) {
  PS_ASSIGN(auto found, c.Project(c.params["project_id"], Need::kView));
  PS_ASSIGN(auto runs, RunsOf(c, found.first, found.second.id));
  return Response::WithJson(
      200, ReadinessJson(c, found.first, Newest(runs, store::RunKind::kReadiness)));
}

Result<Response> CheckReadiness(Call& c) {
  PS_ASSIGN(Json body, c.Body());
  PS_ASSIGN(auto found, BodyProject(c, body, Need::kOperate));
  service::ReadinessRequest r;
  PS_ASSIGN(r.env, EnvField(c, body, "staging"));
  PS_ASSIGN(r.ref, StringField(body, "ref", false));
  PS_ASSIGN(store::Run run,
            service::SubmitReadiness(c.app(), found.first.tenant, c.actor(), found.second, r));
  c.audit_meta["run_id"] = run.id;
  return Accepted(run);
}

Result<Response> Dashboard(Call& c) {
  PS_ASSIGN(auto found, c.Project(c.params["project_id"], Need::kView));
  const Scope& s = found.first;
  const store::Project& p = found.second;
  PS_ASSIGN(auto runs, RunsOf(c, s, p.id));
  Json latest = Json::object();
  for (auto kind :
       {store::RunKind::kImport, store::RunKind::kBlueprint, store::RunKind::kApply,
        store::RunKind::kReadiness, store::RunKind::kRelease, store::RunKind::kRollback}) {
    const store::Run* r = Newest(runs, kind);
    latest[std::string(store::ToString(kind))] = r ? store::ToJson(*r) : Json(nullptr);
  }
  Json cost = nullptr;
  auto bp = store::ReadValue<store::Blueprint>(
      c.app().store, [&](store::Tx& tx) { return tx.GetBlueprint(s.tenant, p.id); });
  if (bp.ok()) cost = bp->cost_estimate;
  PS_ASSIGN(auto releases,
            store::ReadValue<std::vector<store::Release>>(
                c.app().store, [&](store::Tx& tx) { return tx.ListReleases(s.tenant, p.id); }));
  Json rel = Json::array();
  for (std::size_t i = 0; i < releases.size() && i < 10; ++i)
    rel.push_back(store::ToJson(releases[i]));
  PS_ASSIGN(auto alerts,
            store::ReadValue<std::vector<store::Alert>>(
                c.app().store, [&](store::Tx& tx) { return tx.ListAlerts(s.tenant, p.id); }));
  Json al = Json::array();
  for (std::size_t i = 0; i < alerts.size() && i < 20; ++i) al.push_back(store::ToJson(alerts[i]));
  auto envs = service::EnvironmentsStatus(c.app(), s.tenant, p, "local");
  return Response::WithJson(
      200, {{"project", store::ToJson(p)},
            {"runs", latest},
            {"readiness", ReadinessJson(c, s, Newest(runs, store::RunKind::kReadiness))},
            {"cost", cost},
            {"releases", rel},
            {"alerts", al},
            {"environments", envs.ok() ? *envs : Json(nullptr)}});
}

Result<Response> DeleteProject(Call& c) {
  PS_ASSIGN(auto found, c.Project(c.params["id"], Need::kAdmin));
  PS_TRY(service::DeleteProject(c.app(), found.first.tenant, found.second));
  c.audit_meta["name"] = found.second.name;
  Response r;
  r.status = 204;
  return r;
}

// Stop an environment: a down run (an apply of nothing).
Result<Response> Down(Call& c) {
  PS_ASSIGN(Json body, c.Body());
  PS_ASSIGN(auto found, BodyProject(c, body, Need::kOperate));
  PS_ASSIGN(std::string env, StringField(body, "env"));
  PS_TRY(service::CheckEnvironment(c.app().config, env, false));
  PS_ASSIGN(store::Run run, service::SubmitDown(c.app(), found.first.tenant, c.actor(),
                                                found.second, "local", env));
  c.audit_meta["run_id"] = run.id;
  c.audit_meta["env"] = env;
  return Accepted(run);
}

Result<Response> ListWaivers(Call& c) {
  PS_ASSIGN(auto found, c.Project(c.params["id"], Need::kView));
  PS_ASSIGN(Json w, service::WaiversOf(c.app(), found.first.tenant, found.second.id));
  return Response::WithJson(200, {{"items", w}});
}

Result<Response> Waive(Call& c) {
  PS_ASSIGN(auto found, c.Project(c.params["id"], Need::kAdmin));
  PS_ASSIGN(Json body, c.Body());
  service::Waiver w;
  PS_ASSIGN(w.gate, StringField(body, "gate"));
  PS_ASSIGN(w.reason, StringField(body, "reason"));
  PS_ASSIGN(std::string until, StringField(body, "until"));
  PS_ASSIGN(w.until, service::ParseUntil(until));
  PS_TRY(service::CheckWaiver(w, c.app().clock.Now()));
  PS_ASSIGN(Json out, service::Waive(c.app(), found.first.tenant, c.actor(), found.second, w));
  c.audit_meta["gate"] = w.gate;
  return Response::WithJson(201, out);
}

Result<Response> ListAlerts(Call& c) {
  PS_ASSIGN(auto found, c.Project(c.params["id"], Need::kView));
  PS_ASSIGN(auto alerts,
            store::ReadValue<std::vector<store::Alert>>(c.app().store, [&](store::Tx& tx) {
              return tx.ListAlerts(found.first.tenant, found.second.id);
            }));
  Json items = Json::array();
  for (const auto& a : alerts) items.push_back(store::ToJson(a));
  return Response::WithJson(200, {{"items", items}});
}

}  // namespace

void AddProjectRoutes(std::vector<Route>& routes) {
  routes.push_back({"POST", "/v1/projects/import", "importProject", "projects",
                    "Import a repository into a workspace: registers the project and starts an "
                    "import run (202)",
                    Need::kOperate, "project.import",
                    ObjectSchema({"repo_url", "ref", "workspace"}, {"repo_url", "workspace"}), 202,
                    "application/json", Import});
  routes.push_back({"GET", "/v1/projects", "listProjects", "projects",
                    "Projects the caller may see (?workspace=ORG/WORKSPACE)", Need::kView, "",
                    nullptr, 200, "application/json", ListProjects});
  routes.push_back({"GET", "/v1/projects/{id}", "getProject", "projects", "A project", Need::kView,
                    "", nullptr, 200, "application/json", GetProject});
  routes.push_back({"DELETE", "/v1/projects/{id}", "deleteProject", "projects",
                    "Delete a project: its environments stopped and removed, its records deleted "
                    "(the audit log keeps its lines); 409 while a run has not finished",
                    Need::kAdmin, "project.delete", nullptr, 204, "", DeleteProject});
  routes.push_back({"GET", "/v1/projects/{id}/waivers", "listWaivers", "projects",
                    "The project's gate waivers", Need::kView, "", nullptr, 200, "application/json",
                    ListWaivers});
  routes.push_back({"POST", "/v1/projects/{id}/waivers", "waive", "projects",
                    "Waive a gate until a date, with a reason", Need::kAdmin, "gate.waive",
                    ObjectSchema({"gate", "reason", "until"}, {"gate", "reason", "until"}), 201,
                    "application/json", Waive});
  routes.push_back({"GET", "/v1/projects/{id}/alerts", "listAlerts", "projects",
                    "The project's alerts", Need::kView, "", nullptr, 200, "application/json",
                    ListAlerts});
  routes.push_back(
      {"POST", "/v1/blueprints/generate", "generateBlueprint", "blueprints",
       "Plan: IaC, CI, policies and cost for a target (local, kubernetes, aws, render, "
       "vercel; a blueprint run, 202)",
       Need::kOperate, "blueprint.generate",
       ObjectSchema({"project_id", "ref", "target", "env"}, {"project_id"}), 202,
       "application/json", Generate});
  routes.push_back({"GET", "/v1/blueprints/{project_id}", "getBlueprint", "blueprints",
                    "The project's latest plan", Need::kView, "", nullptr, 200, "application/json",
                    GetBlueprint});
  routes.push_back({"POST", "/v1/pipelines/apply", "applyPipeline", "pipelines",
                    "Provision an environment and deploy (an apply run, 202)", Need::kOperate,
                    "pipeline.apply", ObjectSchema({"project_id", "env", "ref"}, {"project_id"}),
                    202, "application/json", Apply});
  routes.push_back({"POST", "/v1/pipelines/down", "downPipeline", "pipelines",
                    "Stop an environment: everything it runs (a down run, 202)", Need::kOperate,
                    "pipeline.down", ObjectSchema({"project_id", "env"}, {"project_id", "env"}),
                    202, "application/json", Down});
  routes.push_back({"GET", "/v1/readiness/{project_id}", "getReadiness", "readiness",
                    "The newest readiness run's checklist and blockers", Need::kView, "", nullptr,
                    200, "application/json", GetReadiness});
  routes.push_back({"POST", "/v1/readiness/check", "checkReadiness", "readiness",
                    "Run the gates (a readiness run, 202)", Need::kOperate, "readiness.check",
                    ObjectSchema({"project_id", "env", "ref"}, {"project_id"}), 202,
                    "application/json", CheckReadiness});
  routes.push_back({"GET", "/v1/dashboards/{project_id}", "getDashboard", "dashboards",
                    "The project at a glance: newest runs, readiness, cost, releases, alerts, "
                    "environments",
                    Need::kView, "", nullptr, 200, "application/json", Dashboard});
}

}  // namespace ps::api
