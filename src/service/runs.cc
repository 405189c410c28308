#include "service/runs.h"

#include <filesystem>
#include <optional>

#include "core/ids.h"
#include "service/pipelines.h"
#include "stages/repository.h"
#include "store/model_json.h"

namespace ps::service {

using store::Run;
using store::RunStatus;
using store::Tx;

const Json* RunDetail::Output(const std::string& name) const {
  for (const auto& st : stages) {
    if (st.name == name && st.output.is_object() && !st.output.empty()) return &st.output;
  }
  return nullptr;
}

Result<RunDetail> LoadDetail(App& app, const store::Tenant& tenant, const std::string& run_id) {
  return store::ReadValue<RunDetail>(app.store, [&](Tx& tx) -> Result<RunDetail> {
    RunDetail d;
    PS_ASSIGN(d.run, tx.GetRun(tenant, run_id));
    PS_ASSIGN(d.project, tx.GetProject(tenant, d.run.project_id));
    PS_ASSIGN(d.stages, tx.ListStages(tenant, run_id));
    PS_ASSIGN(d.attempts, tx.ListAttempts(tenant, run_id));
    PS_ASSIGN(d.dead_letters, tx.ListDeadLetters(tenant, run_id, true));
    PS_ASSIGN(d.artifacts, tx.ListArtifacts(tenant, d.run.project_id, run_id));
    return d;
  });
}

Json DetailJson(const RunDetail& d) {
  Json stages = Json::array(), attempts = Json::array(), dls = Json::array(), arts = Json::array();
  for (const auto& x : d.stages) stages.push_back(store::ToJson(x));
  for (const auto& x : d.attempts) attempts.push_back(store::ToJson(x));
  for (const auto& x : d.dead_letters) dls.push_back(store::ToJson(x));
  for (const auto& x : d.artifacts) arts.push_back(store::ToJson(x));
  return {{"run", store::ToJson(d.run)},
          {"project", store::ToJson(d.project)},
          {"stages", stages},
          {"attempts", attempts},
          {"dead_letters", dls},
          {"artifacts", arts}};
}

Millis RunDuration(const Run& r) { return r.updated_at - r.created_at; }

bool Finished(RunStatus s) { return s == RunStatus::kDone || s == RunStatus::kError; }

Json WithSettings(const Config& config, Json input) {
  const Json c = config.ToJson();
  input["settings"] = {{"policy", c["policy"]}, {"release", c["release"]}, {"deploy", c["deploy"]}};
  return input;
}

Result<Run> SubmitPipeline(App& app, const store::Tenant& tenant, const Actor& actor,
                           const store::Project& project, const engine::PipelineSpec& spec,
                           Json input) {
  std::filesystem::path folder;
  if (stages::IsGitUrl(project.repo_url)) {
    // Its checkout: derived here from the state folder, never taken from
    // a caller.
    if (app.workdir.empty()) {
      return problems::InvalidInput("project '" + project.name + "' is cloned from a git URL; " +
                                    "this process has no state folder to clone into");
    }
    folder = app.workdir / "checkouts" / tenant.org_id / tenant.workspace_id / project.id;
    input["checkout"] = folder.string();
  } else {
    input.erase("checkout");
    folder = project.repo_url;
  }
  std::optional<Config> own;
  if (app.project_config && !folder.empty()) {
    // Untrusted: a link is refused, errors name the file and line (422).
    const auto file = folder / "prodsprint.yaml";
    std::error_code ec;
    if (std::filesystem::exists(file, ec) || std::filesystem::is_symlink(file, ec)) {
      PS_ASSIGN(own, LoadConfig(file.string(), /*found_in_repository=*/true));
    }
  }
  return app.engine.Submit(tenant, project.id, spec,
                           WithSettings(own ? *own : app.config, std::move(input)), actor.id);
}

Result<Run> Submit(App& app, const store::Tenant& tenant, const Actor& actor,
                   const store::Project& project, store::RunKind kind, Json input) {
  PS_ASSIGN(engine::PipelineSpec spec, PipelineFor(kind));
  if (kind == store::RunKind::kImport && stages::IsGitUrl(project.repo_url)) {
    spec = CloneImportPipeline();
  }
  return SubmitPipeline(app, tenant, actor, project, spec, std::move(input));
}

Result<Run> ResolveRun(App& app, const store::Tenant& tenant, const std::string& id) {
  if (id.empty()) return problems::InvalidInput("a run id is required");
  return store::ReadValue<Run>(app.store, [&](Tx& tx) -> Result<Run> {
    if (IsUuid(id)) return tx.GetRun(tenant, id);
    PS_ASSIGN(auto runs, tx.FindRuns(tenant, id));
    if (runs.empty()) return problems::NotFound("run", id);
    if (runs.size() > 1) {
      std::string list;
      for (const auto& r : runs) list += "\n" + r.id;
      return Problem::Make("ambiguous", "Ambiguous run id", 409,
                           "'" + id + "' starts " + std::to_string(runs.size()) + " runs:" + list);
    }
    return runs.front();
  });
}

Result<std::vector<Run>> ListRuns(App& app, const store::Tenant& tenant,
                                  const std::string& project_id, int limit) {
  return ListRunsPage(app, tenant, {project_id, limit, "", 0});
}

Result<std::vector<Run>> ListRunsPage(App& app, const store::Tenant& tenant,
                                      const store::RunFilter& filter) {
  return store::ReadValue<std::vector<Run>>(app.store,
                                            [&](Tx& tx) { return tx.ListRuns(tenant, filter); });
}

Status Cancel(App& app, const store::Tenant& tenant, const Actor& actor,
              const std::string& run_id) {
  return app.engine.Cancel(tenant, run_id, actor.id);
}

Status Retry(App& app, const store::Tenant& tenant, const Actor& actor, const std::string& run_id) {
  return app.engine.Retry(tenant, run_id, actor.id);
}

Result<std::vector<StageLog>> StageLogs(App& app, const store::Tenant& tenant,
                                        const std::string& run_id) {
  PS_ASSIGN(auto attempts, store::ReadValue<std::vector<store::AttemptRow>>(
                               app.store, [&](Tx& tx) { return tx.ListAttempts(tenant, run_id); }));
  std::vector<StageLog> logs;
  for (const auto& a : attempts) {
    logs.push_back({a.stage, a.attempt, app.engine.LogPath(run_id, a.stage, a.attempt).string(),
                    a.status == store::AttemptStatus::kRunning});
  }
  return logs;
}

Result<bool> HasWork(App& app, const store::Tenant& tenant) {
  return store::ReadValue<bool>(app.store, [&](Tx& tx) -> Result<bool> {
    PS_ASSIGN(auto runs, tx.ListRuns(tenant, {"", 1000}));
    for (const auto& r : runs) {
      if (!Finished(r.status)) return true;
    }
    PS_ASSIGN(auto expired, tx.FindExpiredLeases(INT64_MAX, 1));
    return !expired.empty();
  });
}

Result<EventPage> EventsAfter(App& app, const store::Tenant& tenant, std::int64_t after,
                              const std::string& run_id, int limit) {
  EventPage page;
  page.next = after;
  PS_ASSIGN(page.events, store::ReadValue<std::vector<store::Event>>(app.store, [&](Tx& tx) {
              return tx.ListEvents(tenant, after, limit, run_id);
            }));
  if (!page.events.empty()) page.next = page.events.back().seq;
  return page;
}

Result<std::int64_t> LatestEvent(App& app, const store::Tenant& tenant, const std::string& run_id) {
  std::int64_t seq = 0;
  while (true) {
    PS_ASSIGN(EventPage page, EventsAfter(app, tenant, seq, run_id, 1000));
    if (page.events.empty()) return seq;
    seq = page.next;
  }
}

}  // namespace ps::service
