// `prodsprint promote`: let the running release go on.
#include "cli/control.h"

namespace ps::cli {

void RegisterPromote(Commands& commands) {
  auto a = std::make_shared<DeployArgs>();
  auto* sub = commands.app().add_subcommand(
      "promote", "Let the running release go on: ends a pause, or promotes at once");
  sub->add_option("PATH", a->path, "The repository's folder")->required();
  AddEnvFlags(sub, *a);
  const Options& o = commands.options();
  commands.Add(
      sub, [&o, a] { return CmdControl(o, *a, "promote"); },
      std::shared_ptr<const bool>(a, &a->json));
}

}  // namespace ps::cli
