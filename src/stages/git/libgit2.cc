#include "stages/git/libgit2.h"

#include <dlfcn.h>

#include <mutex>

namespace ps::stages::git {

std::string Api::Error(const std::string& what) const {
  const git_error* e = error_last ? error_last() : nullptr;
  return what + (e && e->message ? std::string(": ") + e->message : "");
}

Result<const Api*> Load() {
  static std::once_flag once;
  static Api api;
  static std::string failure;
  std::call_once(once, [] {
    void* lib = nullptr;
    for (const char* name : {"libgit2.so.1.5", "libgit2.so"}) {
      lib = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (lib) break;
    }
    if (!lib) {
      failure = std::string("libgit2 is not installed (") + ::dlerror() +
                "); install libgit2-1.5 (scripts/install-deps does)";
      return;
    }
#define PS_GIT_RESOLVE(name)                                                   \
  api.name = reinterpret_cast<decltype(api.name)>(::dlsym(lib, "git_" #name)); \
  if (!api.name && failure.empty()) failure = "libgit2 has no function git_" #name;
    PS_GIT_FUNCTIONS(PS_GIT_RESOLVE)
#undef PS_GIT_RESOLVE
    // Never unloaded: libgit2 keeps global state until the process ends.
    if (failure.empty()) api.libgit2_init();
  });
  if (!failure.empty()) return problems::Internal(failure);
  return &api;
}

}  // namespace ps::stages::git
