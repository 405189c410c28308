// What apply and release share: a version of the repository made ready to
// run on the local target — the revision exported (libgit2) into a release
// folder, its dependencies installed and build run, the backing servers it
// needs started, its environment assembled (PORT per instance, DATABASE_URL,
// REDIS_URL, generated secrets, defaults from the audit), its migrations run
// as a release step. Each step is done once per commit: re-running changes
// nothing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/stage.h"
#include "stages/repository.h"
#include "targets/target.h"

namespace ps::stages::deploy {

struct PreparedVersion {
  std::string commit;       // the commit id (or "worktree-<hash>")
  std::string release_dir;  // absolute
  std::vector<targets::ServiceRun> runs;
  Json steps = Json::array();    // what was done, each with its duration
  Json skipped = Json::array();  // services not run locally, and why
  Json audited;                  // the audit of the version (its services' facts)
};

// The environment a run names: input.target (default "local") and
// input.env (default "staging") of the run's tenant and project. `env`
// overrides input.env (the performance gate's reference environment).
Result<std::unique_ptr<targets::Environment>> OpenEnvironment(engine::StageContext& ctx,
                                                              const targets::Targets& targets,
                                                              const std::string& env = "");
// Whether that environment exists already (without creating it).
bool EnvironmentExists(engine::StageContext& ctx, const targets::Targets& targets,
                       const std::string& env);

using stages::RunSettings;

Result<PreparedVersion> PrepareVersion(engine::StageContext& ctx, targets::Environment& env,
                                       const std::string& path, const std::string& ref);

}  // namespace ps::stages::deploy
