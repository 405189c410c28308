// `prodsprint __supervise DIR` (hidden): the local target's process
// supervisor daemon, started by the target itself.
#include "cli/backends.h"
#include "cli/command.h"

namespace ps::cli {

void RegisterSupervise(Commands& commands) {
  auto dir = std::make_shared<std::string>();
  auto* supervise = commands.app().add_subcommand("__supervise", "");
  supervise->group("");  // internal
  supervise->add_option("DIR", *dir)->required();
  commands.Add(supervise, [dir]() -> Result<int> { return RunLocalSupervisor(*dir); });
}

}  // namespace ps::cli
