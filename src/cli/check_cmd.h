// `prodsprint check` (the security gate; the test and performance gates
// arrive with issue 7) and `prodsprint db` (the offline advisory database).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/problem.h"

namespace ps::cli {

struct CheckArgs {
  std::string path, ref;
  std::string gate = "all";
  std::string sarif;            // write SARIF 2.1.0 here
  std::string sbom;             // write an SBOM here
  std::string sbom_format;      // cyclonedx | spdx ("" = from the file name, else cyclonedx)
  std::string advisory_db;      // "" = the default database
  std::string baseline;         // accept the findings this file lists
  std::string write_baseline;   // write every current finding as accepted
  bool history = false;         // also scan the git history
  std::string gitleaks_config;  // import this gitleaks TOML ("" = the repository's .gitleaks.toml)
  std::string junit;            // --gate tests|performance|all: write the gates as JUnit XML here
  bool rebaseline = false;      // the performance gate takes a new baseline
  bool json = false;
};

Result<int> CmdCheck(const CheckArgs& args, const std::function<bool()>& stopping);

struct DbArgs {
  std::vector<std::string> paths;       // import: files or folders
  std::vector<std::string> ecosystems;  // update: which exports (default: all the readers know)
  std::string url;                      // update: base URL of the exports
  std::string db;                       // "" = the default database
  bool json = false;
};

Result<int> CmdDbImport(const DbArgs& args, const std::function<bool()>& stopping);
Result<int> CmdDbUpdate(const DbArgs& args, const std::function<bool()>& stopping);
Result<int> CmdDbStatus(const DbArgs& args);

}  // namespace ps::cli
