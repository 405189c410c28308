// `prodsprint plan`: audit a repository and write its blueprint to a folder.
#pragma once

#include <functional>
#include <string>

#include "core/problem.h"

namespace ps::cli {

struct PlanArgs {
  std::string path, ref;
  std::string target = "local", env = "staging";
  std::string out;            // default: PATH/.prodsprint/plan/ENV
  std::string project;        // default: the folder's name
  std::string repo_url;       // for Argo CD; default: none (a finding)
  std::string cloud = "aws";  // target kubernetes: aws (EKS) or gcp (GKE)
  bool json = false;
};

Result<int> CmdPlan(const PlanArgs& args, const std::function<bool()>& stopping);

}  // namespace ps::cli
