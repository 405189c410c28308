// The local target: environments on this machine (environment.h), each in a
// folder derived from tenant, project and environment under one root (the
// state folder's local/): <root>/<project>/<env> for the tenant the folder
// was made for (the CLI's default), <root>/tenants/<org>/<workspace>/<project>/<env>
// for any other.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "targets/target.h"

namespace ps::targets::local {

struct LocalTargetOptions {
  std::filesystem::path root;  // the state folder's local/
  std::string executable;      // the prodsprint binary (runs each environment's supervisor)
  // The tenant whose environments sit directly under root (empty: none;
  // "*": whichever tenant asks, for when the tenant cannot be read).
  std::string home_org_id, home_workspace_id;
};

std::shared_ptr<Target> MakeLocalTarget(LocalTargetOptions options);

// The folder of an environment of the local target.
std::filesystem::path EnvironmentDir(const LocalTargetOptions& options, const EnvRef& ref);

}  // namespace ps::targets::local
