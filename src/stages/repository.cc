#include "stages/repository.h"

namespace ps::stages {

bool IsGitUrl(const std::string& url) {
  return url.rfind("https://", 0) == 0 || url.rfind("ssh://", 0) == 0 ||
         url.rfind("git@", 0) == 0 || url.rfind("file://", 0) == 0;
}

Result<std::string> RepositoryFolder(const engine::StageContext& ctx) {
  const std::string& url = ctx.project().repo_url;
  if (IsGitUrl(url)) {
    const std::string checkout = ctx.run_input().value("checkout", "");
    if (!checkout.empty() && checkout.front() == '/') return checkout;
    return Problem::Make("repository-not-local", "The repository is not on this machine", 422,
                         "project '" + ctx.project().name + "' is cloned from " + url +
                             ", and this run names no checkout to read");
  }
  if (!url.empty() && url[0] == '/') return url;
  return Problem::Make("repository-not-local", "The repository is not on this machine", 422,
                       "project '" + ctx.project().name + "' reads its repository from '" +
                           ctx.project().repo_url +
                           "', which is not a folder here; this build runs projects registered "
                           "from a folder");
}

Result<Config> RunSettings(const engine::StageContext& ctx) {
  const Json& in = ctx.run_input();
  if (!in.contains("settings")) return ctx.config();
  if (!in["settings"].is_object()) return problems::InvalidInput("input.settings is not an object");
  // The settings are the configuration's own JSON form (Config::ToJson):
  // read back by the same parser and validation as prodsprint.yaml.
  return ParseConfig(in["settings"].dump(), "the run's settings");
}

}  // namespace ps::stages
