#include "cli/control.h"

#include <iostream>

#include "cli/print.h"
#include "service/environments.h"

namespace ps::cli {

Result<int> CmdControl(const Options& o, const DeployArgs& a, const std::string& action) {
  PS_ASSIGN(EnvSession t, OpenEnv(o, a, false));
  auto app = t.session->App();
  PS_ASSIGN(service::ControlOutcome c,
            service::ControlRelease(app, t.session->tenant, Who(), t.project, a.target, a.env,
                                    action, 2'000));
  if (c.kind == service::ControlOutcome::Kind::kRollbackRun) return CmdRollbackRun(o, a);
  if (a.json) {
    std::cout << Dump({{"requested", action},
                       {"env", a.env},
                       {"release", c.holder},
                       {"run", c.run.id},
                       {"taken", c.taken}})
              << std::endl;
  } else {
    std::cout << action << " requested of " << c.holder
              << (c.taken ? "" : " (not taken yet: it is recorded with the release's run)") << "\n";
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
