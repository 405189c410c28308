// Reading a TOML manifest for a detector: parsed, or a warning and nothing.
#pragma once

#include <optional>
#include <string>

#include "core/toml.h"
#include "stages/audit/audit.h"

namespace ps::stages::audit {

inline std::optional<toml::table> ReadToml(RepoIndex& idx, const std::string& path,
                                           std::string* text_out = nullptr) {
  auto text = idx.Read(path);
  if (!text) return std::nullopt;
  std::string error;
  auto doc = ParseUntrustedToml(*text, path, &error);
  if (!doc) {
    idx.Warn(path, "malformed TOML: " + error);
    return std::nullopt;
  }
  if (text_out) *text_out = *text;
  return doc;
}

}  // namespace ps::stages::audit
