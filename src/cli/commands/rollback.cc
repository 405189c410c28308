// `prodsprint rollback`: the running release aborted, or (none running)
// every service back to the version it ran before.
#include "cli/control.h"

namespace ps::cli {

void RegisterRollback(Commands& commands) {
  auto a = std::make_shared<DeployArgs>();
  auto* sub = commands.app().add_subcommand(
      "rollback",
      "Roll back: the running release (as abort), or, when none runs, every service back to the\n"
      "version it ran before (instantly when blue/green kept it warm)");
  sub->add_option("PATH", a->path, "The repository's folder")->required();
  AddEnvFlags(sub, *a);
  const Options& o = commands.options();
  commands.Add(
      sub, [&o, a] { return CmdControl(o, *a, "rollback"); },
      std::shared_ptr<const bool>(a, &a->json));
}

}  // namespace ps::cli
