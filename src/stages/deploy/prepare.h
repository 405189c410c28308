// What apply and release share: a version of the repository made ready to
// run on the local target — the revision exported (libgit2) into a release
// folder, its dependencies installed and build run, the backing servers it
// needs started, its environment assembled (PORT per instance, DATABASE_URL,
// REDIS_URL, generated secrets, defaults from the audit), its migrations run
// as a release step. Each step is done once per commit: re-running changes
// nothing.
#pragma once

#include <string>
#include <vector>

#include "engine/stage.h"
#include "targets/local/environment.h"

namespace ps::stages::deploy {

struct PreparedVersion {
  std::string commit;       // the commit id (or "worktree-<hash>")
  std::string release_dir;  // absolute
  std::vector<targets::local::ServiceRun> runs;
  Json steps = Json::array();    // what was done, each with its duration
  Json skipped = Json::array();  // services not run locally, and why
  Json audited;                  // the audit of the version (its services' facts)
};

// The environment folder of the run's input (input.env_dir), opened.
Result<targets::local::LocalEnvironment> OpenEnvironment(engine::StageContext& ctx);

Result<PreparedVersion> PrepareVersion(engine::StageContext& ctx,
                                       targets::local::LocalEnvironment& env,
                                       const std::string& path, const std::string& ref);

}  // namespace ps::stages::deploy
