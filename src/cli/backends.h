// The one list of the backends this binary carries: store backends and
// targets. Adding a backend is one folder plus one line in backends.cc.
#pragma once

#include <filesystem>
#include <string>

#include "targets/target.h"

namespace ps::cli {

// Registers every store backend, once (later calls do nothing).
void RegisterBackends();

// The targets of a state folder: environments live under <state>/<target>/
// (targets/local/local_target.h says how tenants are kept apart).
// `any_tenant_is_home`: reach environments without knowing the tenant (the
// state database cannot be read).
void InstallTargets(targets::Targets& targets, const std::filesystem::path& state_dir,
                    bool any_tenant_is_home = false);

// The hidden `__supervise DIR`: the local target's process supervisor.
int RunLocalSupervisor(const std::string& dir);

}  // namespace ps::cli
