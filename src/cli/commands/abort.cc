// `prodsprint abort`: stop the running release.
#include "cli/control.h"

namespace ps::cli {

void RegisterAbort(Commands& commands) {
  auto a = std::make_shared<DeployArgs>();
  auto* sub = commands.app().add_subcommand(
      "abort", "Stop the running release: the new version's weight goes to 0, it drains and stops");
  sub->add_option("PATH", a->path, "The repository's folder")->required();
  AddEnvFlags(sub, *a);
  const Options& o = commands.options();
  commands.Add(
      sub, [&o, a] { return CmdControl(o, *a, "abort"); },
      std::shared_ptr<const bool>(a, &a->json));
}

}  // namespace ps::cli
