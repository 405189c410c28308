#include "engine/pipeline.h"

#include <map>
#include <set>

namespace ps::engine {

Result<std::vector<StageSpec>> ResolvePipeline(const PipelineSpec& spec,
                                               const EngineConfig& config) {
  if (spec.stages.empty()) return problems::InvalidInput("a pipeline needs at least one stage");
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < spec.stages.size(); ++i) {
    const auto& name = spec.stages[i].name;
    if (name.empty() || name.size() > 64 ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos) {
      return problems::InvalidInput("stage name '" + name +
                                    "' must be 1-64 of a-z, 0-9, '-' and '_'");
    }
    if (!index.emplace(name, i).second) {
      return problems::InvalidInput("stage '" + name + "' is declared twice");
    }
  }
  for (const auto& s : spec.stages) {
    for (const auto& n : s.needs) {
      if (!index.count(n)) {
        return problems::InvalidInput("stage '" + s.name + "' needs unknown stage '" + n + "'");
      }
    }
  }
  // Kahn's algorithm, always taking the earliest-declared ready stage.
  std::vector<int> missing(spec.stages.size());
  for (std::size_t i = 0; i < spec.stages.size(); ++i) {
    missing[i] = static_cast<int>(
        std::set<std::string>(spec.stages[i].needs.begin(), spec.stages[i].needs.end()).size());
  }
  std::vector<StageSpec> order;
  std::vector<bool> placed(spec.stages.size(), false);
  while (order.size() < spec.stages.size()) {
    bool progressed = false;
    for (std::size_t i = 0; i < spec.stages.size(); ++i) {
      if (placed[i] || missing[i] != 0) continue;
      placed[i] = true;
      progressed = true;
      StageSpec s = spec.stages[i];
      auto o = config.stages.find(s.name);
      if (o != config.stages.end() && o->second.timeout) s.timeout = *o->second.timeout;
      if (o != config.stages.end() && o->second.max_attempts) {
        s.max_attempts = *o->second.max_attempts;
      }
      if (s.timeout <= 0) s.timeout = config.stage_timeout;
      if (s.max_attempts <= 0) s.max_attempts = config.max_attempts;
      order.push_back(std::move(s));
      for (std::size_t j = 0; j < spec.stages.size(); ++j) {
        std::set<std::string> needs(spec.stages[j].needs.begin(), spec.stages[j].needs.end());
        if (needs.count(spec.stages[i].name)) --missing[j];
      }
      break;
    }
    if (!progressed) return problems::InvalidInput("the stages' needs form a cycle");
  }
  return order;
}

Millis BackoffDelay(int next_attempt, Millis base, Millis cap, Random& random) {
  if (next_attempt < 2 || base <= 0 || cap <= 0) return 0;
  Millis ceiling = base;
  for (int i = 2; i < next_attempt && ceiling < cap; ++i) ceiling *= 2;
  if (ceiling > cap) ceiling = cap;
  return static_cast<Millis>(random.Uniform(static_cast<std::uint64_t>(ceiling) + 1));
}

}  // namespace ps::engine
