// Every lockfile and manifest reader in one target: the first byte picks the
// format (the file name it is read as, and the sibling manifest that some
// readers consult), the rest is that file, and after a "\n\0\n" separator
// its sibling. Whatever the bytes, the reader answers components with purls
// and never crashes. (One binary rather than twenty: CI builds and starts it
// once; libFuzzer learns the format byte like any other.)
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

#include "security/deps.h"
#include "security/versions.h"

namespace {

struct Format {
  const char* file;
  const char* sibling;  // "" when the reader reads the file alone
};

// The order is the corpus' contract (fuzz/corpus/deps/ files start with the index).
constexpr Format kFormats[] = {
    {"package-lock.json", "package.json"},
    {"yarn.lock", "package.json"},
    {"pnpm-lock.yaml", ""},
    {"package.json", ""},
    {"requirements.txt", ""},
    {"poetry.lock", "pyproject.toml"},
    {"Pipfile.lock", "Pipfile"},
    {"uv.lock", ""},
    {"pyproject.toml", ""},
    {"go.mod", ""},
    {"Cargo.lock", ""},
    {"Cargo.toml", ""},
    {"Gemfile.lock", ""},
    {"Gemfile", ""},
    {"composer.lock", "composer.json"},
    {"composer.json", ""},
    {"pom.xml", ""},
    {"gradle.lockfile", "build.gradle"},
    {"packages.lock.json", ""},
    {"mix.lock", "mix.exs"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Format& format = kFormats[data[0] % std::size(kFormats)];
  std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::map<std::string, std::string> files;
  const auto sep = input.find(std::string("\n\0\n", 3));
  files[format.file] = input.substr(0, sep);
  if (sep != std::string::npos && *format.sibling) files[format.sibling] = input.substr(sep + 3);
  const auto graph = ps::security::ReadDependencies(files);
  for (const auto& c : graph.components) {
    if (c.purl.rfind("pkg:", 0) != 0) __builtin_trap();
    if (graph.Find(c.purl) != &c) __builtin_trap();
    // Version order is total and antisymmetric on what lockfiles hold.
    const auto scheme = ps::security::SchemeOfEcosystem(c.ecosystem);
    for (const auto& d : graph.components) {
      const int ab = ps::security::CompareVersions(scheme, c.version, d.version);
      const int ba = ps::security::CompareVersions(scheme, d.version, c.version);
      if ((ab < 0) != (ba > 0) || (ab == 0) != (ba == 0)) __builtin_trap();
      if (&d - &graph.components.front() > 8) break;
    }
  }
  return 0;
}
