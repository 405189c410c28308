#include "cli/control.h"

#include <iostream>
#include <thread>

#include "cli/print.h"
#include "service/environments.h"

namespace ps::cli {

Result<int> CmdControl(const Options& o, const DeployArgs& a, const std::string& action) {
  PS_ASSIGN(EnvSession t, OpenEnv(o, a, false));
  auto app = t.session->App();
  const auto& tenant = t.session->tenant;
  auto holder = service::ReleaseHolder(app, tenant, t.project, a.target, a.env);
  if (!holder && action == "abort" &&
      service::HasCandidate(app, tenant, t.project, a.target, a.env)) {
    // No release runs, but one that was killed may have left its candidate:
    // rollback removes exactly that.
    return CmdRollbackRun(o, a);
  }
  if (!holder && action == "rollback") return CmdRollbackRun(o, a);
  if (!holder) {
    PS_ASSIGN(targets::Target * target, app.targets.Find(a.target));
    const auto other = target->LockHolder(service::EnvRefOf(tenant, t.project, a.env));
    return Problem::Make("no-release-in-progress", "No release in progress", 409,
                         "nothing to " + action + " in '" + a.env + "'" +
                             (other ? " (it is held by " + *other + ")" : ""));
  }
  PS_ASSIGN(service::Signalled sent,
            service::SignalRelease(app, tenant, Who(), t.project, a.target, a.env, action));
  const store::Run& run = sent.run;
  // The release takes it within ~200 ms and says so (run.signal_taken).
  bool taken = false;
  std::int64_t seq = sent.seq;
  for (int i = 0; i < 100 && !taken; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto page = service::EventsAfter(app, tenant, seq, run.id, 500);
    if (!page.ok()) break;
    seq = page->next;
    for (const auto& e : page->events) {
      taken = taken || (e.name == "run.signal_taken" && e.payload.value("signal", "") == action);
    }
  }
  if (a.json) {
    std::cout << Dump({{"requested", action},
                       {"env", a.env},
                       {"release", *holder},
                       {"run", run.id},
                       {"taken", taken}})
              << std::endl;
  } else {
    std::cout << action << " requested of " << *holder
              << (taken ? "" : " (not taken yet: it is recorded with the run)") << "\n";
  }
  return kExitOk;
}

Result<int> CmdRollbackRun(const Options& o, const DeployArgs& a) {
  PS_ASSIGN(EnvSession t, OpenEnv(o, a, false));
  Json input = {{"env", a.env}, {"target", a.target}};
  PS_ASSIGN(RunDetail d, RunHere(t, store::RunKind::kRollback, input, !a.json));
  if (d.run.status != store::RunStatus::kDone) return Failed(d, a.json);
  const Json* out = d.Output("rollback");
  if (a.json) {
    std::cout << Dump(out ? *out : Json::object(), 2) << std::endl;
  } else {
    std::cout << "\n";
    PrintServices(Term::Detect(), out ? (*out)["services"] : Json::array());
  }
  return kExitOk;
}

}  // namespace ps::cli
