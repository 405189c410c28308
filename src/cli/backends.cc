#include "cli/backends.h"

#include <mutex>

#include "store/sqlite/sqlite_store.h"
#include "targets/local/local_target.h"
#include "targets/local/supervisor.h"

namespace ps::cli {

void RegisterBackends() {
  static std::once_flag once;
  std::call_once(once, [] {
    store::sqlite::RegisterSqliteBackend();  // "sqlite:PATH"
  });
}

void InstallTargets(targets::Targets& targets, const std::filesystem::path& state_dir,
                    bool any_tenant_is_home) {
  std::error_code ec;
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  targets.Add(
      targets::local::MakeLocalTarget({state_dir / "local", exe, any_tenant_is_home}));  // "local"
}

int RunLocalSupervisor(const std::string& dir) { return targets::local::RunSupervisorDaemon(dir); }

}  // namespace ps::cli
