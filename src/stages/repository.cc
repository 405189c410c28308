#include "stages/repository.h"

namespace ps::stages {

Result<std::string> RepositoryFolder(const engine::StageContext& ctx) {
  std::string url = ctx.project().repo_url;
  if (url.rfind("file://", 0) == 0) url = url.substr(7);
  if (!url.empty() && url[0] == '/') return url;
  return Problem::Make("repository-not-local", "The repository is not on this machine", 422,
                       "project '" + ctx.project().name + "' reads its repository from '" +
                           ctx.project().repo_url +
                           "', which is not a folder here; this build runs projects registered "
                           "from a folder");
}

}  // namespace ps::stages
