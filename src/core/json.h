// JSON: nlohmann::json, and one way to print it. Text from outside (file
// names, config keys, repository content) may hold invalid UTF-8; Dump
// replaces such bytes with U+FFFD instead of throwing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ps {

using Json = nlohmann::json;

inline std::string Dump(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace ps
