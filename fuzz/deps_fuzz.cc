// One lockfile or manifest format per binary (PS_FUZZ_FILE names it, e.g.
// "package-lock.json"): the input is that file, and after a "\n\0\n"
// separator its sibling manifest (PS_FUZZ_SIBLING). Whatever the bytes, the
// reader answers components with purls and never crashes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "security/deps.h"
#include "security/versions.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> files;
  const auto sep = input.find(std::string("\n\0\n", 3));
  files[PS_FUZZ_FILE] = input.substr(0, sep);
  if (sep != std::string::npos && std::string(PS_FUZZ_SIBLING).size()) {
    files[PS_FUZZ_SIBLING] = input.substr(sep + 3);
  }
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
