// TOML helpers shared by the lockfile readers that read TOML (deps_python.cc,
// deps_other.cc); not a public interface.
#pragma once

#include <optional>
#include <string>

#include "core/toml.h"
#include "security/deps_internal.h"

namespace ps::security::deps {

// Parses TOML from outside: nullopt (and a warning) when malformed.
inline std::optional<toml::table> LoadToml(const Input& in, Collector& c) {
  std::string error;
  auto doc = ParseUntrustedToml(in.content, in.path, &error);
  if (!doc) c.Warn(in.path, "malformed TOML: " + error);
  return doc;
}

// A node's string value, or "" when it is absent or not a string.
inline std::string TStr(const toml::node* n) {
  if (!n) return {};
  if (auto s = n->value<std::string>()) return *s;
  return {};
}

}  // namespace ps::security::deps
