// Reading a TOML manifest for a detector: parsed, or a warning and nothing.
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>

#include "stages/audit/audit.h"

namespace ps::stages::audit {

inline std::optional<toml::table> ReadToml(RepoIndex& idx, const std::string& path,
                                           std::string* text_out = nullptr) {
  auto text = idx.Read(path);
  if (!text) return std::nullopt;
  try {
    toml::table doc = toml::parse(*text, path);
    if (text_out) *text_out = *text;
    return doc;
  } catch (const toml::parse_error& e) {
    idx.Warn(path, std::string("malformed TOML: ") + std::string(e.description()));
    return std::nullopt;
  }
}

}  // namespace ps::stages::audit
