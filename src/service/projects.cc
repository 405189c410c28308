#include "service/projects.h"

#include <filesystem>

#include "core/ids.h"

namespace ps::service {

std::string NameOfRepository(const std::string& repo) {
  std::string name = repo;
  while (!name.empty() && name.back() == '/') name.pop_back();
  const auto cut = name.find_last_of("/:");
  if (cut != std::string::npos) name = name.substr(cut + 1);
  if (name.size() > 4 && name.compare(name.size() - 4, 4, ".git") == 0)
    name.resize(name.size() - 4);
  return name.empty() ? "project" : name;
}

Result<store::Project> EnsureProject(App& app, const store::Tenant& tenant, const Actor& actor,
                                     const std::string& repo) {
  return store::WriteValue<store::Project>(app.store, [&](store::Tx& tx) -> Result<store::Project> {
    auto found = tx.FindProjectByRepo(tenant, repo);
    if (found.ok()) return found;
    store::Project p;
    p.id = NewId(app.clock, app.random);
    p.tenant = tenant;
    p.name = app.config.project_name.empty() ? NameOfRepository(repo) : app.config.project_name;
    p.repo_url = repo;
    p.branch = app.config.project_branch;
    p.target = "local";
    p.created_at = p.updated_at = app.clock.Now();
    PS_TRY(tx.CreateProject(p));
    store::AuditEntry audit;
    audit.tenant = tenant;
    audit.user_id = actor.id;
    audit.action = "project.create";
    audit.target = "project:" + p.id;
    audit.meta = {{"name", p.name}, {"repo", repo}};
    audit.created_at = p.created_at;
    PS_TRY(tx.AppendAudit(audit));
    return p;
  });
}

Result<std::vector<store::Project>> ListProjects(App& app, const store::Tenant& tenant) {
  return store::ReadValue<std::vector<store::Project>>(
      app.store, [&](store::Tx& tx) { return tx.ListProjects(tenant); });
}

Status DeleteProject(App& app, const store::Tenant& tenant, const store::Project& project) {
  PS_ASSIGN(auto runs, store::ReadValue<std::vector<store::Run>>(app.store, [&](store::Tx& tx) {
              return tx.ListRuns(tenant, {project.id, 10'000, "", 0});
            }));
  for (const auto& r : runs) {
    if (r.status == store::RunStatus::kPending || r.status == store::RunStatus::kRunning) {
      return problems::Conflict("run " + r.id + " of project '" + project.name +
                                "' has not finished: cancel it first");
    }
  }
  // Its environments go with it: stopped, then their folders removed.
  for (const auto& name : app.targets.Names()) {
    PS_ASSIGN(targets::Target * t, app.targets.Find(name));
    for (const auto& env : t->Environments(EnvRefOf(tenant, project, ""))) {
      const auto ref = EnvRefOf(tenant, project, env);
      if (auto holder = t->LockHolder(ref)) {
        return problems::Conflict("the environment '" + env + "' is busy (" + *holder + ")");
      }
      PS_ASSIGN(auto opened, t->Open(ref));
      PS_TRY(opened->Down());
      opened.reset();
      PS_TRY(t->Remove(ref));
    }
  }
  PS_TRY(app.store.Write([&](store::Tx& tx) { return tx.DeleteProject(tenant, project.id); }));
  if (!app.workdir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(
        app.workdir / "checkouts" / tenant.org_id / tenant.workspace_id / project.id, ec);
  }
  return Ok();
}

targets::EnvRef EnvRefOf(const store::Tenant& tenant, const store::Project& project,
                         const std::string& env) {
  return {tenant.org_id, tenant.workspace_id, project.name, env};
}

}  // namespace ps::service
