#include "store/backends.h"

#include <map>
#include <mutex>

namespace ps::store {

namespace {

std::mutex& Mu() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, StoreBackend>& Registry() {
  static std::map<std::string, StoreBackend> r;
  return r;
}

}  // namespace

void RegisterStoreBackend(StoreBackend backend) {
  std::lock_guard lock(Mu());
  const std::string scheme = backend.scheme;
  Registry()[scheme] = std::move(backend);
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& url) {
  StoreBackend backend;
  std::string names;
  {
    std::lock_guard lock(Mu());
    const auto colon = url.find(':');
    auto it = colon == std::string::npos ? Registry().end() : Registry().find(url.substr(0, colon));
    for (const auto& [scheme, b] : Registry()) names += (names.empty() ? "" : ", ") + scheme + ":";
    if (it == Registry().end()) {
      return problems::InvalidInput("no store backend for '" + url + "' (known: " +
                                    (names.empty() ? "none registered" : names) + ")");
    }
    backend = it->second;
  }
  return backend.open(url.substr(url.find(':') + 1));
}

Json StoreBackends() {
  std::lock_guard lock(Mu());
  Json out = Json::object();
  for (const auto& [scheme, b] : Registry())
    out[scheme] = b.describe ? b.describe() : Json::object();
  return out;
}

}  // namespace ps::store
