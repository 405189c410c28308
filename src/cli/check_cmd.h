// `prodsprint check PATH --gate security`: the security gate on a repository
// (docs/SECURITY.md). This build runs its secret scan; the other parts of
// the gate (dependencies, SBOM, licenses, container and IaC rules) come next.
#pragma once

#include <functional>
#include <string>

#include "core/problem.h"

namespace ps::cli {

struct CheckArgs {
  std::string path, ref;
  std::string gate = "security";
  std::string sarif;  // write SARIF 2.1.0 here
  bool json = false;
};

Result<int> CmdCheck(const CheckArgs& args, const std::function<bool()>& stopping);

}  // namespace ps::cli
