// The gates' policy for a repository: its prodsprint.yaml's `policy:`, else
// the defaults (an invalid file is a Problem, not the defaults).
#pragma once

#include <filesystem>
#include <string>

#include "core/config.h"
#include "engine/stage.h"
#include "stages/repository.h"

namespace ps::stages::readiness {

inline Result<PolicyConfig> PolicyOf(const std::string& repo) {
  std::error_code ec;
  const auto file = std::filesystem::path(repo) / "prodsprint.yaml";
  if (!std::filesystem::exists(file, ec)) return PolicyConfig{};
  PS_ASSIGN(Config config, LoadConfig(file.string()));
  return config.policy;
}

// The gates' policy for a run: the settings it recorded (the project's
// configuration when it was created, --config included); the repository's
// prodsprint.yaml for runs recorded before runs carried their settings.
inline Result<PolicyConfig> RunPolicy(const engine::StageContext& ctx, const std::string& repo) {
  if (!ctx.run_input().contains("settings")) return PolicyOf(repo);
  PS_ASSIGN(Config settings, RunSettings(ctx));
  return settings.policy;
}

}  // namespace ps::stages::readiness
