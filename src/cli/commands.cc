// The one list of the commands (cli/commands/<name>.cc each): adding a
// command is its file plus one line here.
#include "cli/command.h"

namespace ps::cli {

void Commands::Add(CLI::App* sub, std::function<Result<int>()> run,
                   std::shared_ptr<const bool> json) {
  entries_.push_back({sub, std::move(run), std::move(json)});
}

// One line per command, in the order --help lists them.
// clang-format off
#define PS_CLI_COMMANDS(X) \
  X(Version) \
  X(Up) \
  X(Runs) \
  X(Logs) \
  X(Events) \
  X(Audit) \
  X(Plan) \
  X(Apply) \
  X(Status) \
  X(Release) \
  X(Promote) \
  X(Abort) \
  X(Rollback) \
  X(Down) \
  X(Load) \
  X(Supervise) \
  X(Check) \
  X(Waive) \
  X(Waivers) \
  X(Db) \
  X(Worker) \
  X(Serve) \
  X(Orgs) \
  X(Config) \
  /* end */
// clang-format on

#define PS_DECLARE(name) void Register##name(Commands& commands);
PS_CLI_COMMANDS(PS_DECLARE)
#undef PS_DECLARE

void RegisterCommands(Commands& commands) {
#define PS_REGISTER(name) Register##name(commands);
  PS_CLI_COMMANDS(PS_REGISTER)
#undef PS_REGISTER
}

}  // namespace ps::cli
