#include "targets/target.h"

namespace ps::targets {

void Targets::Add(std::shared_ptr<Target> target) {
  const std::string name = target->name();
  targets_[name] = std::move(target);
}

Result<Target*> Targets::Find(const std::string& name) const {
  const auto it = targets_.find(name);
  if (it != targets_.end()) return it->second.get();
  std::string known;
  for (const auto& [n, t] : targets_) known += (known.empty() ? "" : ", ") + n;
  return Problem::Make("target-unsupported", "Target not supported", 422,
                       "this build runs environments on: " + (known.empty() ? "nothing" : known) +
                           " (not '" + name +
                           "'); for other targets use the files 'prodsprint plan --target' writes");
}

std::vector<std::string> Targets::Names() const {
  std::vector<std::string> names;
  for (const auto& [n, t] : targets_) names.push_back(n);
  return names;
}

}  // namespace ps::targets
