// The local target: environments on this machine (environment.h), each in a
// folder derived from tenant, project and environment under one root (the
// state folder's local/): <root>/<project>/<env> for the state folder's
// home tenant, <root>/tenants/<org>/<workspace>/<project>/<env> for any
// other. The home tenant is the first to create an environment there (kept
// in <root>/home-tenant.json), so a state folder made before tenants had
// folders of their own keeps its environments where they are.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "targets/target.h"

namespace ps::targets::local {

struct LocalTargetOptions {
  std::filesystem::path root;  // the state folder's local/
  std::string executable;      // the prodsprint binary (runs each environment's supervisor)
  // Every tenant counts as home: for reaching environments when the
  // tenant cannot be read (a damaged state database).
  bool any_tenant_is_home = false;
};

std::shared_ptr<Target> MakeLocalTarget(LocalTargetOptions options);

// The folder of an environment, given the home tenant (empty: none yet,
// which makes `ref`'s the home).
std::filesystem::path EnvironmentDir(const std::filesystem::path& root, const std::string& home_org,
                                     const std::string& home_workspace, const EnvRef& ref);

}  // namespace ps::targets::local
