#include "cli/deploy_cmd.h"

#include <arpa/inet.h>
#include <unistd.h>
#include <algorithm>

#include <charconv>
#include <iostream>
#include <thread>

#include "cli/backends.h"
#include "cli/builtin.h"
#include "core/fs.h"
#include "load/http_load.h"
#include "stages/plan/blueprint.h"
#include "store/model_json.h"

namespace ps::cli {
namespace {

using store::Run;
using store::RunStatus;
struct Target {
  std::unique_ptr<Session> session;
  fs::path repo;
  store::Project project;
  targets::Target* target = nullptr;
  targets::EnvRef ref;
};

Status CheckEnvName(const std::string& env) {
  if (env.empty() || env.size() > 32 ||
      env.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    return problems::InvalidInput(
        "environment names are 1-32 lower-case letters, digits and '-' ('" + env + "' is not)");
  }
  return Ok();
}

// A release whose process ended before it finished (kill -9, a crash, a
// full disk) leaves its new version serving its share with nobody
// watching, and its records "progressing". The next command on the
// environment finds it (a candidate, and no live process holding the
// environment), takes the candidate out — weight 0 first, which needs no
// disk — and ends the records: the release "aborted", its run cancelled.
void RecoverOrphanedRelease(Target& t, const DeployArgs& a) {
  if (!t.target->Exists(t.ref) || t.target->LockHolder(t.ref)) return;
  const std::string why =
      "the process running it ended before it finished (killed?): its new version was taken out "
      "by the next command on '" +
      a.env + "'";
  auto opened = t.target->Open(t.ref);
  if (!opened.ok()) return;
  targets::Environment* env = opened->get();
  auto& s = *t.session;
  auto unfinished = [&] {
    bool any = false;
    (void)s.store->Read([&](store::Tx& tx) -> Status {
      PS_ASSIGN(auto releases, tx.ListReleases(s.tenant, t.project.id));
      for (const auto& r : releases) {
        any = any || (r.env == a.env && (r.status == "progressing" || r.status == "paused"));
      }
      return Ok();
    });
    return any;
  };
  std::vector<std::string> orphans;
  for (const auto& name : env->Services()) {
    if (env->Candidate(name)) orphans.push_back(name);
  }
  // Nothing left behind (the usual case): no lock taken, so commands beside
  // this one never find the environment busy because of it.
  if (orphans.empty() && !unfinished()) return;
  // Held to the end: while it is, no release can be running on this
  // environment, so whatever says "progressing" is an orphan's.
  if (!env->Lock("recover").ok()) return;  // another command got there first
  if (!orphans.empty()) {
    for (const auto& n : orphans) (void)env->SetCandidateWeight(n, 0);
    std::string failed;
    for (const auto& n : orphans) {
      auto st = env->RollbackCandidate(n);
      if (!st.ok()) failed += " " + n + ": " + st.problem().Message() + ";";
    }
    std::cerr << "warning: a release in '" << a.env << "' was left unfinished (its process "
              << "ended): its new version now gets no traffic"
              << (failed.empty() ? " and was stopped" : " but could not be stopped:" + failed)
              << "\n";
  }
  // The records end in a terminal state.
  std::vector<std::string> runs;
  (void)s.store->Write([&](store::Tx& tx) -> Status {
    PS_ASSIGN(auto releases, tx.ListReleases(s.tenant, t.project.id));
    for (auto r : releases) {
      if (r.env != a.env || (r.status != "progressing" && r.status != "paused")) continue;
      r.status = "aborted";
      r.meta["reason"] = why;
      r.meta["weight"] = 0;
      r.updated_at = SystemClock::Instance().Now();
      PS_TRY(tx.UpdateRelease(r));
      runs.push_back(r.id);  // a release's id is its run's
    }
    return Ok();
  });
  for (const auto& id : runs) (void)s.engine->Cancel(s.tenant, id, "recovery: " + why);
}

Result<Target> Open(const Options& o, const DeployArgs& a, bool create) {
  PS_TRY(CheckEnvName(a.env));
  Target t;
  PS_ASSIGN(t.repo, RepoFolder(a.path));
  {
    // Only the environments the configuration names: a typo does not
    // create a third one. Checked before the state is touched.
    const bool found = o.config.empty();
    PS_ASSIGN(const Config c,
              LoadConfig(found ? (t.repo / "prodsprint.yaml").string() : o.config, found));
    // (Commands on an existing environment still reach it after the list changed.)
    if (create &&
        std::find(c.environments.begin(), c.environments.end(), a.env) == c.environments.end()) {
      std::string names;
      for (const auto& e : c.environments) names += (names.empty() ? "" : ", ") + e;
      return problems::InvalidInput("unknown environment '" + a.env + "': the environments are " +
                                    names +
                                    " (list more under 'environments:' in prodsprint.yaml)");
    }
  }
  PS_ASSIGN(t.session, OpenSession(o, t.repo / "prodsprint.yaml", create));
  PS_ASSIGN(t.project, EnsureProject(*t.session, t.repo));
  PS_ASSIGN(t.target, t.session->targets->Find(a.target));
  t.ref = EnvRefOf(*t.session, t.project, a.env);
  RecoverOrphanedRelease(t, a);
  return t;
}

Result<RunDetail> Submit(Target& t, store::RunKind kind, const Json& input, bool progress,
                         const std::function<void()>& on_interrupt = {}) {
  PS_ASSIGN(Run run, SubmitRun(*t.session, t.project, kind, input));
  if (progress) {
    const Term term = Term::Detect();
    std::cerr << term.Bold("ProdSprint") << " " << store::ToString(kind) << "  " << t.project.name
              << "  " << term.Dim(input.value("env", "") + " · run " + run.id) << "\n";
  }
  PS_ASSIGN(run, DriveRun(*t.session, run.id, progress, on_interrupt));
  return LoadDetail(*t.session, run.id);
}

const Json* StageOutput(const RunDetail& d, const std::string& name) {
  for (const auto& st : d.stages)
    if (st.name == name && st.output.is_object() && !st.output.empty()) return &st.output;
  return nullptr;
}

Result<int> Failed(const RunDetail& d, bool json) {
  if (json) {
    std::cout << Dump(DetailJson(d), 2) << std::endl;
    return kExitFailed;
  }
  auto p = Problem::FromJson(d.run.error);
  for (const auto& st : d.stages) {
    if (st.error.is_object()) p = Problem::FromJson(st.error);
  }
  if (p) {
    PrintProblem(*p, false);
    if (p->extensions.contains("log_tail")) {
      std::cerr << "--- " << p->extensions.value("log", "log") << " (end) ---\n"
                << p->extensions["log_tail"].get<std::string>() << "\n";
    }
  }
  std::cerr << "details: prodsprint run show " << d.run.id << "\n";
  return p ? ExitCodeFor(*p) : kExitFailed;
}

std::string Short(const std::string& v) { return v.substr(0, 12); }

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

void PrintServices(const Term& term, const Json& services) {
  std::vector<std::vector<std::string>> rows = {
      {term.Bold("SERVICE"), term.Bold("ACTION"), term.Bold("VERSION"), term.Bold("URL")}};
  for (const auto& s : services) {
    rows.push_back({s.value("service", ""), s.value("action", ""), Short(s.value("version", "")),
                    s.value("url", "")});
  }
  std::cout << Table(rows);
}

}  // namespace

Result<int> CmdApply(const Options& o, const DeployArgs& a) {
  PS_ASSIGN(Target t, Open(o, a, true));
  Json input = {{"path", t.repo.string()}, {"ref", a.ref}, {"env", a.env}, {"target", a.target}};
  PS_ASSIGN(RunDetail d, Submit(t, store::RunKind::kApply, input, !a.json));
  if (d.run.status != RunStatus::kDone) return Failed(d, a.json);
  const Json* out = StageOutput(d, "apply");
  if (a.json) {
    std::cout << Dump(out ? *out : Json::object(), 2) << std::endl;
    return kExitOk;
  }
  const Term term = Term::Detect();
  std::cout << "\n"
            << term.Bold("Environment " + a.env) << " (local)  version "
            << Short(out->value("version", "")) << "  "
            << (out->value("changed", false) ? term.Green("applied") : term.Dim("nothing changed"))
            << " in " << HumanDuration(RunDuration(d.run)) << "\n\n";
  PrintServices(term, (*out)["services"]);
  for (const auto& s : (*out)["skipped"]) {
    std::cout << term.Yellow("note") << "  " << s.value("service", "") << ": "
              << s.value("reason", s.value("warning", "")) << "\n";
  }
  std::cout << term.Dim("\n'prodsprint status' shows instances and weights; 'prodsprint release " +
                        a.path + " --ref REV' releases another version; 'prodsprint down " +
                        a.path + "' stops it all.")
            << "\n";
  return kExitOk;
}

Result<int> CmdStatus(const Options& o, const DeployArgs& a) {
  PS_ASSIGN(Target t, Open(o, a, false));
  Json envs = Json::array();
  for (const auto& name : t.target->Environments(t.ref)) {
    targets::EnvRef ref = t.ref;
    ref.env = name;
    PS_ASSIGN(auto env, t.target->Open(ref));
    Json d = env->Describe();
    d["name"] = name;
    if (auto holder = t.target->LockHolder(ref)) d["busy"] = *holder;
    envs.push_back(d);
  }
  // The latest release of each environment, from the state store.
  PS_ASSIGN(auto releases,
            store::ReadValue<std::vector<store::Release>>(*t.session->store, [&](store::Tx& tx) {
              return tx.ListReleases(t.session->tenant, t.project.id);
            }));
  for (auto& e : envs) {
    for (const auto& r : releases) {
      if (r.env != e["name"]) continue;
      if (!e.contains("last_release") ||
          r.created_at > e["last_release"].value("created_at", Millis{0})) {
        e["last_release"] = ReleaseJson(r);
      }
    }
  }
  if (a.json) {
    std::cout << Dump({{"project", t.project.name}, {"environments", envs}}, 2) << std::endl;
    return kExitOk;
  }
  const Term term = Term::Detect();
  if (envs.empty()) {
    std::cout << "no environment of " << t.project.name << " yet: 'prodsprint apply " << a.path
              << "' creates staging\n";
    return kExitOk;
  }
  for (const auto& e : envs) {
    std::cout << term.Bold(t.project.name + " / " + e["name"].get<std::string>()) << " (local)  "
              << "supervisor "
              << (e["supervisor"] == "running" ? term.Green("running") : term.Red("stopped"))
              << (e.contains("busy") ? "  " + term.Yellow("busy: " + e["busy"].get<std::string>())
                                     : "")
              << "\n";
    std::vector<std::vector<std::string>> rows = {{term.Bold("SERVICE"), term.Bold("URL"),
                                                   term.Bold("STABLE"), term.Bold("CANDIDATE"),
                                                   term.Bold("WEIGHTS"), term.Bold("INSTANCES")}};
    const Json& procs = e["processes"];
    for (const auto& [name, svc] : e["services"].items()) {
      auto version_of = [&](const Json& colour) -> std::string {
        if (!colour.is_string()) return "-";
        const Json& run = svc["colours"][colour.get<std::string>()]["run"];
        return run.is_object()
                   ? Short(run.value("version", "")) + " (" + colour.get<std::string>() + ")"
                   : "-";
      };
      std::string weights, instances;
      int healthy = 0, total = 0;
      for (const char* c : {"blue", "green"}) {
        const Json& col = svc["colours"][c];
        if (!col["run"].is_object()) continue;
        weights += (weights.empty() ? "" : " ") + std::string(c) + " " +
                   std::to_string(col.value("weight", 0)) + "%";
        for (int i = 0; i < svc.value("instances", 1); ++i) {
          const std::string pname = name + "-" + c + std::to_string(i);
          ++total;
          if (procs.contains(pname) && procs[pname].value("healthy", false)) ++healthy;
        }
      }
      const int port = svc.value("frontend_port", 0);
      std::string health = std::to_string(healthy) + "/" + std::to_string(total) + " healthy";
      if (svc.contains("frontend") && svc["frontend"].value("another_listener", false)) {
        health = term.Red("port " + std::to_string(port) + " also served by another process");
      } else if (svc.contains("frontend") && !svc["frontend"].value("routed", true) && total > 0) {
        health = term.Red("not routed: nothing of ours listens on " + std::to_string(port));
      }
      rows.push_back({name,
                      port > 0 ? "http://127.0.0.1:" + std::to_string(port) + "/" : "(worker)",
                      version_of(svc["stable"]),
                      svc["candidate"].is_string()
                          ? version_of(svc["candidate"])
                          : (svc["warm"].is_string() ? "warm: " + version_of(svc["warm"]) : "-"),
                      weights, health});
    }
    std::cout << Table(rows);
    std::vector<std::string> extra;
    for (const auto& [name, b] : e["backing"].items()) {
      extra.push_back(name + " 127.0.0.1:" + std::to_string(b.value("port", 0)));
    }
    if (e["router"].contains("metrics_port")) {
      extra.push_back("HAProxy metrics http://127.0.0.1:" +
                      std::to_string(e["router"].value("metrics_port", 0)) + "/metrics");
    }
    for (const auto& x : extra) std::cout << "  " << term.Dim(x) << "\n";
    if (e.contains("last_release")) {
      const Json& r = e["last_release"];
      std::cout << "  last release " << Short(r.value("sha", "")) << " " << r.value("strategy", "")
                << ": " << term.Status(r.value("status", ""))
                << (r["meta"].value("reason", "").empty()
                        ? ""
                        : " (" + r["meta"].value("reason", "") + ")")
                << "\n";
    }
    std::cout << "\n";
  }
  return kExitOk;
}

void PrintRelease(const Term& term, const Json& out, const std::string& env) {
  const std::string status = out.value("status", "");
  Millis took = 0;
  for (const auto& dec : out.value("decisions", Json::array())) took = dec.value("at_ms", took);
  std::cout << "\n"
            << term.Bold("Release " + Short(out.value("version", "")) + " to " + env) << "  ";
  if (status == "promoted") {
    std::cout << term.Green("promoted") << " after " << HumanDuration(took) << "\n";
  } else if (status == "unchanged") {
    std::cout << term.Dim("nothing to release: ") << out.value("detail", "") << "\n";
  } else {
    std::cout << term.Red(status) << ": " << out.value("reason", "") << "\n";
    if (out.contains("detection_ms")) {
      std::cout << "  new version's weight 0 after "
                << HumanDuration(out["detection_ms"].get<Millis>())
                << " from its first request; the stable version serves\n";
    }
  }
  for (const auto& dec : out.value("decisions", Json::array())) {
    const std::string what = dec.value("what", ""), verdict = dec.value("verdict", "");
    std::string line = "  " + HumanDuration(dec.value("at_ms", Millis{0})) + "  " + what +
                       (verdict == what || verdict == "continue" ? "" : " " + verdict) +
                       "  weight " + std::to_string(dec.value("weight", 0)) + "%";
    for (const auto& [svc, st] : dec["services"].items()) {
      const Json& rq = st["requests"];
      const Json& er = st["errors"];
      line += "  " + svc + ": new " + std::to_string(rq.value("canary", 0)) + " req, " +
              std::to_string(er.value("canary", 0)) + " failed; stable " +
              std::to_string(rq.value("stable", 0)) + " req, " +
              std::to_string(er.value("stable", 0)) + " failed";
    }
    std::cout << term.Dim(line) << "\n";
  }
}

Result<int> CmdRelease(const Options& o, const DeployArgs& a) {
  if (a.ref.empty()) return problems::InvalidInput("a release needs a revision: --ref REV");
  if (!a.strategy.empty() && a.strategy != "canary" && a.strategy != "bluegreen") {
    return problems::InvalidInput("--strategy is canary or bluegreen");
  }
  PS_ASSIGN(Target t, Open(o, a, true));
  if (auto holder = t.target->LockHolder(t.ref)) {
    return Problem::Make("environment-busy", "The environment is busy", 409,
                         "'" + a.env + "' is held by " + *holder + "; one release at a time");
  }
  Json input = {{"path", t.repo.string()},
                {"ref", a.ref},
                {"env", a.env},
                {"target", a.target},
                {"strategy", a.strategy}};
  // Ctrl-C aborts the release: the new version's weight goes to 0 and it
  // stops, rather than leaving traffic split with nobody watching.
  PS_ASSIGN(RunDetail d, Submit(t, store::RunKind::kRelease, input, !a.json, [&] {
              if (!a.json) std::cerr << "interrupted: aborting the release\n";
              // Here, in this process: no file needed (the disk may be full).
              t.session->engine->InterruptRunningStages();
              (void)t.target->PostControl(t.ref, "abort");
            }));
  if (d.run.status != RunStatus::kDone) return Failed(d, a.json);
  const Json* out = StageOutput(d, "release");
  const std::string status = out ? out->value("status", "") : "";
  if (a.json) {
    std::cout << Dump(out ? *out : Json::object(), 2) << std::endl;
  } else if (out) {
    PrintRelease(Term::Detect(), *out, a.env);
  }
  return status == "promoted" || status == "unchanged" ? kExitOk : kExitFailed;
}

Result<int> CmdControl(const Options& o, const DeployArgs& a, const std::string& action) {
  PS_ASSIGN(Target t, Open(o, a, false));
  auto holder = t.target->LockHolder(t.ref);
  if (!holder && action == "abort" && t.target->Exists(t.ref)) {
    // No release runs, but one that was killed may have left its candidate:
    // rollback removes exactly that.
    auto env = t.target->Open(t.ref);
    if (env.ok()) {
      for (const auto& name : (*env)->Services()) {
        if ((*env)->Candidate(name)) return CmdRollback(o, a);
      }
    }
  }
  if (!holder || holder->rfind("release", 0) != 0) {
    return Problem::Make("no-release-in-progress", "No release in progress", 409,
                         "nothing to " + action + " in '" + a.env + "'" +
                             (holder ? " (it is held by " + *holder + ")" : ""));
  }
  PS_TRY(t.target->PostControl(t.ref, action));
  // The release takes the request within ~200 ms.
  for (int i = 0; i < 100; ++i) {
    if (!t.target->ControlPending(t.ref)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (a.json) {
    std::cout << Dump({{"requested", action}, {"env", a.env}, {"release", *holder}}) << std::endl;
  } else {
    std::cout << action << " requested of " << *holder << "\n";
  }
  return kExitOk;
}

Result<int> CmdRollback(const Options& o, const DeployArgs& a) {
  PS_ASSIGN(Target t, Open(o, a, false));
  if (auto holder = t.target->LockHolder(t.ref); holder && holder->rfind("release", 0) == 0) {
    return CmdControl(o, a, "rollback");
  }
  Json input = {{"path", t.repo.string()}, {"env", a.env}, {"target", a.target}};
  PS_ASSIGN(RunDetail d, Submit(t, store::RunKind::kRollback, input, !a.json));
  if (d.run.status != RunStatus::kDone) return Failed(d, a.json);
  const Json* out = StageOutput(d, "rollback");
  if (a.json) {
    std::cout << Dump(out ? *out : Json::object(), 2) << std::endl;
  } else {
    std::cout << "\n";
    PrintServices(Term::Detect(), (*out)["services"]);
  }
  return kExitOk;
}

Result<int> CmdDown(const Options& o, const DeployArgs& a) {
  targets::Target* target = nullptr;
  targets::EnvRef ref;
  targets::Targets without_state;
  auto t = Open(o, a, false);
  if (t.ok()) {
    target = t->target;
    ref = t->ref;
  } else if (t.problem().Slug().rfind("store-", 0) == 0) {
    // The state database is damaged, full or read-only: stopping processes
    // needs none of it. The environment follows from the configuration
    // alone (the tenant cannot be read: the state folder's own).
    PS_TRY(CheckEnvName(a.env));
    PS_ASSIGN(const fs::path repo, RepoFolder(a.path));
    const bool found = o.config.empty();
    PS_ASSIGN(const Config c,
              LoadConfig(found ? (repo / "prodsprint.yaml").string() : o.config, found));
    std::error_code ec;
    const fs::path state =
        fs::absolute(o.state.empty() ? fs::path(c.state_dir) : fs::path(o.state), ec);
    InstallTargets(without_state, state, store::Tenant{"*", "*"});
    PS_ASSIGN(target, without_state.Find(a.target));
    ref.project = c.project_name.empty() ? repo.filename().string() : c.project_name;
    ref.env = a.env;
    std::cerr << "warning: " << t.problem().Message()
              << "\n  stopping the environment's processes without the state database\n";
  } else {
    return t.problem();
  }
  if (!target->Exists(ref)) return problems::NotFound("environment", a.env);
  PS_ASSIGN(auto env, target->Open(ref));
  PS_TRY(env->Lock("down"));
  // The processes stop first; a full disk may then keep the environment's
  // state from saying so (the next command sees the supervisor stopped anyway).
  auto st = env->Down();
  if (!st.ok() && !st.problem().Is("disk-full")) return st.problem();
  if (!st.ok()) std::cerr << "warning: " << st.problem().Message() << "\n";
  if (a.json) {
    std::cout << Dump({{"env", a.env}, {"stopped", true}}) << std::endl;
  } else {
    std::cout << "stopped every process of " << ref.project << "/" << a.env
              << " (release folders and data kept in " << env->DataDir().string() << ")\n";
  }
  return kExitOk;
}

Result<int> CmdLoad(const LoadArgs& a) {
  // http://ADDRESS:PORT/path only: a load generator for addresses it can
  // reach without name resolution.
  load::LoadOptions lo;
  lo.paths.clear();
  for (const auto& url : a.urls) {
    const std::string prefix = "http://";
    if (url.rfind(prefix, 0) != 0)
      return problems::InvalidInput("the URL must start with http://: " + url);
    std::string rest = url.substr(prefix.size());
    const auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash),
                path = slash == std::string::npos ? "/" : rest.substr(slash);
    const auto colon = hostport.rfind(':');
    std::string host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
    if (host == "localhost") host = "127.0.0.1";
    int port = 80;
    if (colon != std::string::npos) {
      const std::string p = hostport.substr(colon + 1);
      auto r = std::from_chars(p.data(), p.data() + p.size(), port);
      if (r.ec != std::errc() || r.ptr != p.data() + p.size() || port < 1 || port > 65535)
        return problems::InvalidInput("bad port in " + url);
    }
    in_addr probe{};
    if (inet_pton(AF_INET, host.c_str(), &probe) != 1) {
      return problems::InvalidInput("give an IPv4 address (no name resolution): " + url);
    }
    if (path.find_first_of(" \r\n") != std::string::npos)
      return problems::InvalidInput("a path may not hold spaces or line breaks: " + url);
    if (lo.paths.empty()) {
      lo.host = host;
      lo.port = port;
    } else if (host != lo.host || port != lo.port) {
      return problems::InvalidInput("every URL must name the same host and port: " + url);
    }
    lo.paths.push_back(path);
  }
  lo.rate = a.rate;
  lo.closed_loop = a.closed;
  lo.connections = a.connections;
  lo.threads = std::min(a.threads, a.connections);
  lo.warmup_ms = static_cast<std::int64_t>(a.warmup_s * 1000);
  lo.duration_ms = static_cast<std::int64_t>((a.duration_s + a.warmup_s) * 1000);
  load::LoadGenerator gen(lo);
  gen.Start();
  // Until the duration passes or Ctrl-C: then the summary of what was sent.
  const Term term = Term::Detect();
  const bool live = !a.json && isatty(STDERR_FILENO);
  const auto begin = std::chrono::steady_clock::now();
  const auto end = begin + std::chrono::milliseconds(lo.duration_ms);
  auto last = begin;
  while (std::chrono::steady_clock::now() < end && !g_interrupted) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto now = std::chrono::steady_clock::now();
    if (live && now - last >= std::chrono::seconds(1)) {
      last = now;
      const auto s = gen.Summarize();
      const double elapsed = std::chrono::duration<double>(now - begin).count();
      std::fprintf(stderr, "\r  %4.0fs/%.0fs  %lld requests  %.0f/s  p99 %.2f ms  %lld failed   ",
                   elapsed, a.duration_s + a.warmup_s, static_cast<long long>(s.completed),
                   s.achieved_rate, s.p99_ms, static_cast<long long>(s.failed));
    }
  }
  if (live) std::fprintf(stderr, "\r%78s\r", "");
  gen.Stop();
  gen.Wait();
  const auto s = gen.Summarize();
  // Nothing answered well: the target is down or wrong, not "measured".
  const bool every_failed = s.completed == 0 || s.failed >= s.completed;
  if (a.json) {
    Json j = s.ToJson();
    j["connections"] = lo.connections;
    j["threads"] = lo.threads;
    if (!lo.closed_loop) j["rate"] = lo.rate;
    std::cout << Dump(j, 2) << std::endl;
    return every_failed ? kExitFailed : kExitOk;
  }
  std::printf("%s %s loop, %d connection(s) on %d thread(s)%s\n", term.Bold("Load").c_str(),
              lo.closed_loop ? "closed" : "open", lo.connections, lo.threads,
              lo.closed_loop ? "" : (", " + FormatNumber(lo.rate) + " requests/s offered").c_str());
  std::printf(
      "  %lld requests in %.1fs: %.1f/s, %lld failed (2xx %lld, 3xx %lld, 4xx %lld, 5xx "
      "%lld, no answer %lld)\n",
      static_cast<long long>(s.completed), s.duration_s, s.achieved_rate,
      static_cast<long long>(s.failed), static_cast<long long>(s.status_2xx),
      static_cast<long long>(s.status_3xx), static_cast<long long>(s.status_4xx),
      static_cast<long long>(s.status_5xx), static_cast<long long>(s.errors));
  std::printf("  latency %s   p50 %8s  p90 %8s  p95 %8s  p99 %8s  p99.9 %8s  max %8s\n",
              lo.closed_loop ? "(service)  " : "(from due) ", load::FormatMs(s.p50_ms).c_str(),
              load::FormatMs(s.p90_ms).c_str(), load::FormatMs(s.p95_ms).c_str(),
              load::FormatMs(s.p99_ms).c_str(), load::FormatMs(s.p999_ms).c_str(),
              load::FormatMs(s.max_ms).c_str());
  if (s.routes.size() > 1) {
    for (const auto& r : s.routes) {
      const auto& h = r.latency;
      std::printf(
          "  %-22s p50 %8s  p90 %8s  p95 %8s  p99 %8s  p99.9 %8s  max %8s  (%llu, %llu "
          "failed)\n",
          r.route.size() > 22 ? (r.route.substr(0, 21) + "~").c_str() : r.route.c_str(),
          load::FormatMs(h.QuantileMs(0.5)).c_str(), load::FormatMs(h.QuantileMs(0.9)).c_str(),
          load::FormatMs(h.QuantileMs(0.95)).c_str(), load::FormatMs(h.QuantileMs(0.99)).c_str(),
          load::FormatMs(h.QuantileMs(0.999)).c_str(), load::FormatMs(h.MaxMs()).c_str(),
          static_cast<unsigned long long>(r.requests), static_cast<unsigned long long>(r.failed));
    }
  }
  if (every_failed) {
    std::fprintf(stderr, "every request failed: is the service up at that address?\n");
    return kExitFailed;
  }
  return kExitOk;
}

int CmdSupervise(const std::string& dir) { return RunLocalSupervisor(dir); }

}  // namespace ps::cli
