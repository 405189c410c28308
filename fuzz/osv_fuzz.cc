// The advisory loader on any bytes: OSV JSON (a record, a list, an API
// answer) or a zip export. Records that load are matched against a small
// graph; nothing crashes, a bad archive is refused whole.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "security/osv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto db = ps::security::AdvisoryDb::Open(":memory:", true);
  if (!db.ok()) __builtin_trap();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto rep = (*db)->ImportBytes("fuzz", bytes);
  (void)rep;
  static const auto graph = ps::security::ReadDependencies(
      {{"package-lock.json",
        R"({"lockfileVersion": 3, "packages": {"node_modules/lodash": {"version": "4.17.11"},
            "node_modules/@x/y": {"version": "1.0.0-rc.1"}}})"},
       {"requirements.txt", "urllib3==1.26.4\nDjango==4.2.post1\n"},
       {"go.mod", "module m\nrequire golang.org/x/net v0.0.0-20230101000000-abcdefabcdef\n"},
       {"Gemfile.lock", "GEM\n  specs:\n    rack (2.2.8)\n"}});
  auto found = (*db)->Match(graph);
  if (!found.ok()) __builtin_trap();
  return 0;
}
