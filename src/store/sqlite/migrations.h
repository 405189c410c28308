// Versioned schema migrations of the sqlite store. Migration N brings the
// schema from version N-1 to N (PRAGMA user_version). Never edit a shipped
// migration: append a new one.
#pragma once

#include <string_view>
#include <vector>

namespace ps::store::sqlite {

const std::vector<std::string_view>& Migrations();
inline int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

}  // namespace ps::store::sqlite
