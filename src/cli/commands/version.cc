// `prodsprint version`: this binary's version and its parts'.
#include <sqlite3.h>

#include <iostream>

#include "cli/command.h"
#include "stages/git/libgit2.h"
#include "store/backends.h"

namespace ps::cli {

void RegisterVersion(Commands& commands) {
  auto json = std::make_shared<bool>(false);
  auto* sub =
      commands.app().add_subcommand("version", "Print the version of prodsprint and its parts");
  sub->add_flag("--json", *json, "Machine-readable output");
  commands.Add(
      sub,
      [json]() -> Result<int> {
        int major = 0, minor = 0, rev = 0;
        if (auto g = stages::git::Load(); g.ok()) (*g)->libgit2_version(&major, &minor, &rev);
        Json v{{"version", PS_VERSION},
               {"schema", store::StoreBackends()["sqlite"].value("schema", 0)},
               {"sqlite", sqlite3_libversion()},
               {"libgit2",
                std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(rev)}};
        if (*json) {
          std::cout << Dump(v, 2) << std::endl;
        } else {
          std::cout << "prodsprint " << PS_VERSION << " (state schema " << v["schema"]
                    << ", sqlite " << v["sqlite"].get<std::string>() << ", libgit2 "
                    << v["libgit2"].get<std::string>() << ")" << std::endl;
        }
        return kExitOk;
      },
      json);
}

}  // namespace ps::cli
