// The gates' policy for a repository: its prodsprint.yaml's `policy:`, else
// the defaults (an invalid file is a Problem, not the defaults).
#pragma once

#include <filesystem>
#include <string>

#include "core/config.h"

namespace ps::stages::readiness {

inline Result<PolicyConfig> PolicyOf(const std::string& repo) {
  std::error_code ec;
  const auto file = std::filesystem::path(repo) / "prodsprint.yaml";
  if (!std::filesystem::exists(file, ec)) return PolicyConfig{};
  PS_ASSIGN(Config config, LoadConfig(file.string()));
  return config.policy;
}

}  // namespace ps::stages::readiness
