// Stores are opened by URL through one factory: "sqlite:PATH" today,
// "postgres://..." with the scale-out work. Each backend is a library of
// its own (store/sqlite/, ...) that nothing outside it names but its one
// registration line (cli/backends.cc): to add a backend, write its folder,
// give it a Register...Backend() that calls RegisterStoreBackend, and call
// that from cli/backends.cc.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/problem.h"
#include "store/store.h"

namespace ps::store {

struct StoreBackend {
  std::string scheme;  // "sqlite": URLs "sqlite:PATH"
  // Opens (creating when allowed) the store the rest of the URL names.
  std::function<Result<std::unique_ptr<Store>>(const std::string& rest)> open;
  // What `prodsprint version` says of it (schema version, library version).
  std::function<Json()> describe;
};

// Registers a backend (a later one of the same scheme replaces it).
void RegisterStoreBackend(StoreBackend backend);

// Opens the store `url` names; an invalid-input Problem for an unknown
// scheme (naming the registered ones).
Result<std::unique_ptr<Store>> OpenStore(const std::string& url);

// {scheme: describe()} of every registered backend.
Json StoreBackends();

}  // namespace ps::store
