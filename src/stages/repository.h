// What a run's stages read besides their input: the project's repository,
// from the project's own record (its repo_url, set when the project was
// registered), never a path in the run's input — a run's input names no
// host path, so an API client cannot point a stage at a folder of its
// choosing; and the settings the run recorded.
#pragma once

#include <string>

#include "engine/stage.h"

namespace ps::stages {

// Whether a repository is named by a git URL (https://, ssh://, git@host:path,
// file://) that is cloned into a checkout, rather than a folder used where it
// is (an absolute path: a project registered from a folder on this machine).
bool IsGitUrl(const std::string& repo_url);

// The project's repository folder: repo_url when it is an absolute path; for
// a git URL, the checkout the run names (input.checkout, which the
// application layer sets from its own state folder, never from a caller),
// made by the import run's `clone` stage. A Problem (422
// repository-not-local) otherwise.
Result<std::string> RepositoryFolder(const engine::StageContext& ctx);

// The project's settings the run recorded when it was created
// (input.settings: policy, release, deploy), read back through the same
// parser and validation as prodsprint.yaml; this process's configuration
// for runs recorded before runs carried their settings.
Result<Config> RunSettings(const engine::StageContext& ctx);

}  // namespace ps::stages
