// Projects: a repository registered in a tenant.
#pragma once

#include <string>
#include <vector>

#include "service/app.h"
#include "store/model.h"

namespace ps::service {

// A project's default name: the repository's last path segment, without
// ".git" ("/src/shop" and "https://host/acme/shop.git" are both "shop").
std::string NameOfRepository(const std::string& repo);

// The project of the repository `repo` (a canonical absolute folder, or a
// git URL), registered on first use with the configuration's name and
// branch.
Result<store::Project> EnsureProject(App& app, const store::Tenant& tenant, const Actor& actor,
                                     const std::string& repo);

Result<std::vector<store::Project>> ListProjects(App& app, const store::Tenant& tenant);

// Deletes a project: its environments on every target are stopped and
// removed, its records deleted (the audit log keeps its lines), and its
// checkout when it was cloned. Refused (409) while one of its runs has not
// finished or an environment is busy.
Status DeleteProject(App& app, const store::Tenant& tenant, const store::Project& project);

// An environment of a project, as the targets name it.
targets::EnvRef EnvRefOf(const store::Tenant& tenant, const store::Project& project,
                         const std::string& env);

}  // namespace ps::service
