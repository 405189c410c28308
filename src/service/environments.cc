#include "service/environments.h"

#include <algorithm>

#include "core/ids.h"
#include "service/pipelines.h"
#include "service/projects.h"
#include "service/runs.h"
#include "store/model_json.h"

namespace ps::service {
namespace {

Json ReleaseJson(const store::Release& r) {
  return {{"id", r.id},
          {"sha", r.sha},
          {"env", r.env},
          {"strategy", r.strategy},
          {"status", r.status},
          {"risk_score", r.risk_score ? Json(*r.risk_score) : Json(nullptr)},
          {"meta", r.meta},
          {"created_at", r.created_at},
          {"updated_at", r.updated_at}};
}

Result<std::unique_ptr<targets::Environment>> OpenExisting(App& app, const store::Tenant& tenant,
                                                           const store::Project& project,
                                                           const std::string& target,
                                                           const std::string& env) {
  PS_ASSIGN(targets::Target * t, app.targets.Find(target));
  const auto ref = EnvRefOf(tenant, project, env);
  if (!t->Exists(ref)) return problems::NotFound("environment", env);
  return t->Open(ref);
}

// The environment's services that have a stable version (or a candidate).
using Colour = std::optional<targets::Serving> (targets::Environment::*)(const std::string&) const;
std::vector<std::string> ServicesWith(const targets::Environment& env, Colour colour) {
  std::vector<std::string> names;
  for (const auto& name : env.Services()) {
    if ((env.*colour)(name)) names.push_back(name);
  }
  return names;
}

}  // namespace

Status CheckEnvironment(const Config& config, const std::string& env, bool create) {
  if (!IsEnvironmentName(env)) {
    return problems::InvalidInput(
        "environment names are 1-32 lower-case letters, digits and '-' ('" + env + "' is not)");
  }
  // (Commands on an existing environment still reach it after the list changed.)
  if (create && std::find(config.environments.begin(), config.environments.end(), env) ==
                    config.environments.end()) {
    std::string names;
    for (const auto& e : config.environments) names += (names.empty() ? "" : ", ") + e;
    return problems::InvalidInput("unknown environment '" + env + "': the environments are " +
                                  names + " (list more under 'environments:' in prodsprint.yaml)");
  }
  return Ok();
}

Result<Json> EnvironmentsStatus(App& app, const store::Tenant& tenant,
                                const store::Project& project, const std::string& target) {
  PS_ASSIGN(targets::Target * t, app.targets.Find(target));
  Json envs = Json::array();
  for (const auto& name : t->Environments(EnvRefOf(tenant, project, ""))) {
    const auto ref = EnvRefOf(tenant, project, name);
    PS_ASSIGN(auto env, t->Open(ref));
    Json d = env->Describe();
    d["name"] = name;
    if (auto holder = t->LockHolder(ref)) d["busy"] = *holder;
    envs.push_back(d);
  }
  // The latest release of each environment, from the store.
  PS_ASSIGN(auto releases,
            store::ReadValue<std::vector<store::Release>>(
                app.store, [&](store::Tx& tx) { return tx.ListReleases(tenant, project.id); }));
  for (auto& e : envs) {
    for (const auto& r : releases) {
      if (r.env != e["name"]) continue;
      if (!e.contains("last_release") ||
          r.created_at > e["last_release"].value("created_at", Millis{0})) {
        e["last_release"] = ReleaseJson(r);
      }
    }
  }
  return Json{{"project", project.name}, {"environments", envs}};
}

std::optional<std::string> RecoverOrphanedRelease(App& app, const store::Tenant& tenant,
                                                  const Actor& actor, const store::Project& project,
                                                  const std::string& target,
                                                  const std::string& envname) {
  auto t = app.targets.Find(target);
  if (!t.ok()) return std::nullopt;
  const auto ref = EnvRefOf(tenant, project, envname);
  if (!(*t)->Exists(ref) || (*t)->LockHolder(ref)) return std::nullopt;
  const std::string why =
      "the process running it ended before it finished (killed?): its new version was taken out "
      "by the next command on '" +
      envname + "'";
  auto opened = (*t)->Open(ref);
  if (!opened.ok()) return std::nullopt;
  targets::Environment& env = **opened;
  auto unfinished = [&] {
    bool any = false;
    (void)app.store.Read([&](store::Tx& tx) -> Status {
      PS_ASSIGN(auto releases, tx.ListReleases(tenant, project.id));
      for (const auto& r : releases) {
        any = any || (r.env == envname && (r.status == "progressing" || r.status == "paused"));
      }
      return Ok();
    });
    return any;
  };
  const std::vector<std::string> orphans = ServicesWith(env, &targets::Environment::Candidate);
  // Nothing left behind (the usual case): no lock taken, so commands beside
  // this one never find the environment busy because of it.
  if (orphans.empty() && !unfinished()) return std::nullopt;
  // Held to the end: while it is, no release can be running on this
  // environment, so whatever says "progressing" is an orphan's.
  if (!env.Lock("recover").ok()) return std::nullopt;  // another command got there first
  std::string note;
  if (!orphans.empty()) {
    for (const auto& n : orphans) (void)env.SetCandidateWeight(n, 0);
    std::string failed;
    for (const auto& n : orphans) {
      auto st = env.RollbackCandidate(n);
      if (!st.ok()) failed += " " + n + ": " + st.problem().Message() + ";";
    }
    note = "a release in '" + envname +
           "' was left unfinished (its process ended): its new version now gets no traffic" +
           (failed.empty() ? " and was stopped" : " but could not be stopped:" + failed);
  }
  // The records end in a terminal state.
  std::vector<std::string> runs;
  (void)app.store.Write([&](store::Tx& tx) -> Status {
    PS_ASSIGN(auto releases, tx.ListReleases(tenant, project.id));
    for (auto r : releases) {
      if (r.env != envname || (r.status != "progressing" && r.status != "paused")) continue;
      r.status = "aborted";
      r.meta["reason"] = why;
      r.meta["weight"] = 0;
      r.updated_at = app.clock.Now();
      PS_TRY(tx.UpdateRelease(r));
      runs.push_back(r.id);  // a release's id is its run's
    }
    return Ok();
  });
  for (const auto& id : runs) (void)app.engine.Cancel(tenant, id, actor.id + " (recovery): " + why);
  if (note.empty()) return std::nullopt;
  return note;
}

std::optional<std::string> EnvironmentHolder(App& app, const store::Tenant& tenant,
                                             const store::Project& project,
                                             const std::string& target, const std::string& env) {
  auto t = app.targets.Find(target);
  if (!t.ok()) return std::nullopt;
  return (*t)->LockHolder(EnvRefOf(tenant, project, env));
}

std::optional<std::string> ReleaseHolder(App& app, const store::Tenant& tenant,
                                         const store::Project& project, const std::string& target,
                                         const std::string& env) {
  auto holder = EnvironmentHolder(app, tenant, project, target, env);
  if (!holder || holder->rfind("release", 0) != 0) return std::nullopt;
  return holder;
}

bool HasCandidate(App& app, const store::Tenant& tenant, const store::Project& project,
                  const std::string& target, const std::string& env) {
  auto e = OpenExisting(app, tenant, project, target, env);
  return e.ok() && !ServicesWith(**e, &targets::Environment::Candidate).empty();
}

bool HasStable(App& app, const store::Tenant& tenant, const store::Project& project,
               const std::string& target, const std::string& env) {
  auto e = OpenExisting(app, tenant, project, target, env);
  return e.ok() && !ServicesWith(**e, &targets::Environment::Stable).empty();
}

Result<Signalled> SignalRelease(App& app, const store::Tenant& tenant, const Actor& actor,
                                const store::Project& project, const std::string& target,
                                const std::string& env, const std::string& action) {
  PS_ASSIGN(auto runs, ListRuns(app, tenant, project.id, 200));
  for (const auto& r : runs) {
    if (r.kind != store::RunKind::kRelease || Finished(r.status) ||
        r.input.value("env", "") != env || r.input.value("target", "local") != target)
      continue;
    PS_ASSIGN(const std::int64_t seq, app.engine.Signal(tenant, r.id, action, actor.id));
    return Signalled{r, seq};
  }
  return Problem::Make("no-release-in-progress", "No release in progress", 409,
                       "nothing to " + action + " in '" + env + "'");
}

Result<ControlOutcome> ControlRelease(App& app, const store::Tenant& tenant, const Actor& actor,
                                      const store::Project& project, const std::string& target,
                                      const std::string& env, const std::string& action,
                                      Millis wait_ms) {
  if (action != "promote" && action != "abort" && action != "rollback") {
    return problems::InvalidInput("a release takes promote, abort or rollback, not '" + action +
                                  "'");
  }
  ControlOutcome out;
  auto holder = ReleaseHolder(app, tenant, project, target, env);
  if (!holder) {
    // No release runs. A killed one may have left its candidate: abort
    // removes exactly that; rollback goes back to the previous versions.
    if (action == "rollback" ||
        (action == "abort" && HasCandidate(app, tenant, project, target, env))) {
      out.kind = ControlOutcome::Kind::kRollbackRun;
      return out;
    }
    const auto other = EnvironmentHolder(app, tenant, project, target, env);
    return Problem::Make("no-release-in-progress", "No release in progress", 409,
                         "nothing to " + action + " in '" + env + "'" +
                             (other ? " (it is held by " + *other + ")" : ""));
  }
  out.holder = *holder;
  PS_ASSIGN(Signalled sent, SignalRelease(app, tenant, actor, project, target, env, action));
  out.run = sent.run;
  // The release takes it within ~200 ms and says so (run.signal_taken).
  std::int64_t seq = sent.seq;
  for (Millis waited = 0; waited < wait_ms && !out.taken; waited += 20) {
    app.clock.SleepFor(20);
    auto page = EventsAfter(app, tenant, seq, out.run.id, 500);
    if (!page.ok()) break;
    seq = page->next;
    for (const auto& e : page->events) {
      out.taken =
          out.taken || (e.name == "run.signal_taken" && e.payload.value("signal", "") == action);
    }
  }
  return out;
}

Result<store::Run> SubmitDown(App& app, const store::Tenant& tenant, const Actor& actor,
                              const store::Project& project, const std::string& target,
                              const std::string& env) {
  PS_ASSIGN(targets::Target * t, app.targets.Find(target));
  if (!t->Exists(EnvRefOf(tenant, project, env))) return problems::NotFound("environment", env);
  return SubmitPipeline(app, tenant, actor, project, DownPipeline(),
                        {{"env", env}, {"target", target}});
}

}  // namespace ps::service
