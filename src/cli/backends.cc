#include "cli/backends.h"

#include <mutex>

#include "store/sqlite/sqlite_store.h"

namespace ps::cli {

void RegisterBackends() {
  static std::once_flag once;
  std::call_once(once, [] {
    store::sqlite::RegisterSqliteBackend();  // "sqlite:PATH"
  });
}

}  // namespace ps::cli
