// The local target's commands: apply, status, release, promote, abort,
// rollback, down, and the load generator (docs/CLI.md, docs/RELEASE.md).
#pragma once

#include <string>
#include <vector>

#include "cli/session.h"

namespace ps::cli {

struct DeployArgs {
  std::string path;  // the repository
  std::string ref;
  std::string env = "staging";
  std::string target = "local";
  std::string strategy;  // release: canary or bluegreen (default: release.strategy)
  bool json = false;
};

Result<int> CmdApply(const Options& o, const DeployArgs& a);
Result<int> CmdStatus(const Options& o, const DeployArgs& a);
Result<int> CmdRelease(const Options& o, const DeployArgs& a);
// promote, abort: a request to the running release.
Result<int> CmdControl(const Options& o, const DeployArgs& a, const std::string& action);
// A request to the running release, or (none running) back to the previous versions.
Result<int> CmdRollback(const Options& o, const DeployArgs& a);
Result<int> CmdDown(const Options& o, const DeployArgs& a);

struct LoadArgs {
  std::vector<std::string> urls;  // one host:port; each path is a route
  double rate = 100;
  double duration_s = 10;
  double warmup_s = 0;
  int connections = 16;
  int threads = 1;
  bool closed = false;
  bool json = false;
};
Result<int> CmdLoad(const LoadArgs& a);

// A release stage's result as `release` and `up` print it: the outcome, then
// each decision with both versions' requests and failures.
void PrintRelease(const Term& term, const Json& out, const std::string& env);

// The hidden `__supervise DIR`: the environment's process supervisor.
int CmdSupervise(const std::string& dir);

}  // namespace ps::cli
