// The repository's dependencies as a component graph, read from lockfiles
// (exact versions, hashes, the dependency edges where the format has them)
// and manifests (which dependencies are direct). Formats: npm
// package-lock.json v1-v3, Yarn classic and Berry, pnpm-lock.yaml v5-v9,
// pip requirements, poetry.lock, Pipfile.lock, uv.lock, go.mod, Cargo.lock,
// Gemfile.lock, composer.lock, pom.xml, gradle.lockfile,
// packages.lock.json (NuGet), mix.lock. A malformed file is a warning.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"

namespace ps::security {

struct Component {
  std::string
      ecosystem;     // OSV's name: npm, PyPI, Go, crates.io, RubyGems, Packagist, Maven, NuGet, Hex
  std::string name;  // as the ecosystem writes it ("@scope/pkg", "group:artifact")
  std::string version;                        // exact; "" when only a manifest's range is known
  std::string purl;                           // package URL, the component's identity (bom-ref)
  bool direct = false;                        // named by the project's own manifest
  bool dev = false;                           // only for development/tests
  std::set<std::string> sources;              // the lockfiles/manifests it was read from
  std::map<std::string, std::string> hashes;  // CycloneDX algorithm ("SHA-256") -> hex
  std::set<std::string> licenses;             // SPDX ids or expressions
  std::set<std::string> depends_on;           // purls
  Json ToJson() const;
};

struct DependencyWarning {
  std::string file, message;
};

struct DependencyGraph {
  std::vector<Component> components;  // sorted by purl, one per purl
  std::vector<std::string> files;     // lockfiles and manifests read
  std::vector<DependencyWarning> warnings;
  const Component* Find(const std::string& purl) const;
};

// Whether the file (by its name) is one this reader understands.
bool IsDependencyFile(std::string_view path);

// Reads every dependency file of `files` (repository-relative path ->
// content; pass all files IsDependencyFile accepts). A lockfile's sibling
// manifest (package.json, pyproject.toml, composer.json, Gemfile, mix.exs,
// build.gradle, Pipfile) tells which of its packages are direct; a
// manifest without a lockfile gives direct components without versions.
DependencyGraph ReadDependencies(const std::map<std::string, std::string>& files);

// A package URL (purl spec): "pkg:npm/%40babel/core@7.24.0".
std::string MakePurl(std::string_view ecosystem, std::string_view name, std::string_view version);

// PEP 503's normal form of a Python package name ("Foo_Bar" -> "foo-bar").
std::string NormalizePythonName(std::string_view name);

// Base64 (standard or URL alphabet) to lower-case hex; "" when not base64.
std::string Base64ToHex(std::string_view b64);

}  // namespace ps::security
