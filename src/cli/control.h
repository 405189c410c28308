// promote, abort and rollback of a running release: a signal to its run
// (service/environments.h), shared by their commands.
#pragma once

#include <string>

#include "cli/environment.h"

namespace ps::cli {

// Sends `action` to the release running in the environment and waits (up
// to 2 s) for it to be taken. `abort` with no release running but a
// candidate left over is a rollback; `rollback` with no release running is
// the rollback run.
Result<int> CmdControl(const Options& o, const DeployArgs& a, const std::string& action);
// The rollback run: every service back to the version it ran before.
Result<int> CmdRollbackRun(const Options& o, const DeployArgs& a);

}  // namespace ps::cli
