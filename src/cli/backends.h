// The one list of the backends this binary carries: store backends and
// targets. Adding a backend is one folder plus one line in backends.cc.
#pragma once

#include <filesystem>
#include <string>

#include "store/model.h"
#include "targets/target.h"

namespace ps::cli {

// Registers every store backend, once (later calls do nothing).
void RegisterBackends();

// The targets of a state folder: environments live under <state>/<target>/;
// those of `home` (the tenant the folder was made for) directly, any other
// tenant's under tenants/.
void InstallTargets(targets::Targets& targets, const std::filesystem::path& state_dir,
                    const store::Tenant& home);

// The hidden `__supervise DIR`: the local target's process supervisor.
int RunLocalSupervisor(const std::string& dir);

}  // namespace ps::cli
