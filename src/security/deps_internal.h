// Shared by the lockfile readers (deps_*.cc); not a public interface.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "security/deps.h"

namespace ps::security::deps {

// Collects components from every file; one per purl, merged.
class Collector {
 public:
  // Adds (or finds) a component and returns its purl.
  std::string Add(std::string_view ecosystem, std::string_view name, std::string_view version,
                  const std::string& source);
  Component& At(const std::string& purl) { return by_purl_.at(purl); }
  void Edge(const std::string& from, const std::string& to) {
    if (!from.empty() && !to.empty() && from != to) by_purl_.at(from).depends_on.insert(to);
  }
  void Warn(const std::string& file, std::string message) {
    warnings_.push_back({file, std::move(message)});
  }
  // Marks the components this file added whose names are in `direct` (as
  // the manifest spells them; compared with `normalize` applied).
  void MarkDirect(const std::vector<std::string>& purls, const std::set<std::string>& direct,
                  const std::set<std::string>& dev_direct,
                  const std::function<std::string(std::string_view)>& normalize);
  std::map<std::string, Component>& components() { return by_purl_; }
  std::vector<DependencyWarning>& warnings() { return warnings_; }

 private:
  std::map<std::string, Component> by_purl_;
  std::vector<DependencyWarning> warnings_;
};

// The file being read, with access to its siblings.
struct Input {
  const std::map<std::string, std::string>* files;
  std::string path;  // "sub/package-lock.json"
  std::string dir;   // "sub/" or ""
  const std::string& content;
  const std::string* Sibling(std::string_view name) const {
    auto it = files->find(dir + std::string(name));
    return it == files->end() ? nullptr : &it->second;
  }
};

// Each returns the purls it added (for marking direct ones).
using Reader = std::vector<std::string> (*)(const Input&, Collector&);

std::vector<std::string> ReadNpmLock(const Input& in, Collector& c);
std::vector<std::string> ReadYarnLock(const Input& in, Collector& c);
std::vector<std::string> ReadPnpmLock(const Input& in, Collector& c);
std::vector<std::string> ReadPackageJson(const Input& in, Collector& c);
std::vector<std::string> ReadRequirements(const Input& in, Collector& c);
std::vector<std::string> ReadPoetryLock(const Input& in, Collector& c);
std::vector<std::string> ReadPipfileLock(const Input& in, Collector& c);
std::vector<std::string> ReadUvLock(const Input& in, Collector& c);
std::vector<std::string> ReadPyproject(const Input& in, Collector& c);
std::vector<std::string> ReadGoMod(const Input& in, Collector& c);
std::vector<std::string> ReadCargoLock(const Input& in, Collector& c);
std::vector<std::string> ReadCargoToml(const Input& in, Collector& c);
std::vector<std::string> ReadGemfileLock(const Input& in, Collector& c);
std::vector<std::string> ReadGemfile(const Input& in, Collector& c);
std::vector<std::string> ReadComposerLock(const Input& in, Collector& c);
std::vector<std::string> ReadComposerJson(const Input& in, Collector& c);
std::vector<std::string> ReadPom(const Input& in, Collector& c);
std::vector<std::string> ReadGradleLock(const Input& in, Collector& c);
std::vector<std::string> ReadNuGetLock(const Input& in, Collector& c);
std::vector<std::string> ReadMixLock(const Input& in, Collector& c);

// Direct dependency names from manifests (empty set when absent/malformed).
std::set<std::string> PackageJsonNames(const std::string* text, bool dev);

// Parses JSON from outside: nullopt (and a warning) when malformed.
std::optional<Json> ParseJsonInput(const Input& in, Collector& c);

std::string Identity(std::string_view s);

}  // namespace ps::security::deps
