// What the environment commands (apply, status, release, promote, abort,
// rollback, down) share: their flags, opening the project and its target,
// and running a run to its end with progress.
#pragma once

#include <string>

#include "cli/command.h"

namespace ps::cli {

struct DeployArgs {
  std::string path;  // the repository
  std::string ref;
  std::string env = "staging";
  std::string target = "local";
  std::string strategy;  // release: canary or bluegreen (default: release.strategy)
  bool json = false;
};

// --env and --json.
void AddEnvFlags(CLI::App* sub, DeployArgs& a);

// A command on one environment of a repository's project.
struct EnvSession : ProjectSession {
  std::string target;
  std::string env;
};

// Opens it: the environment's name checked, and (with `create`) one the
// configuration names; a release its process left unfinished is taken out
// first (and said on stderr).
Result<EnvSession> OpenEnv(const Options& o, const DeployArgs& a, bool create);

// Creates a run of `kind` with `input`, runs it here to its end (progress on
// stderr unless --json) and loads it.
Result<RunDetail> RunHere(EnvSession& t, store::RunKind kind, const Json& input, bool progress,
                          const std::function<void()>& on_interrupt = {});

}  // namespace ps::cli
