// Projects: a repository registered in a tenant.
#pragma once

#include <string>
#include <vector>

#include "service/app.h"
#include "store/model.h"

namespace ps::service {

// The project of the repository folder `repo` (absolute, canonical),
// registered on first use with the configuration's name and branch.
Result<store::Project> EnsureProject(App& app, const store::Tenant& tenant, const Actor& actor,
                                     const std::string& repo);

Result<std::vector<store::Project>> ListProjects(App& app, const store::Tenant& tenant);

// An environment of a project, as the targets name it.
targets::EnvRef EnvRefOf(const store::Tenant& tenant, const store::Project& project,
                         const std::string& env);

}  // namespace ps::service
