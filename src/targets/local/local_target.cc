#include "targets/local/local_target.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "core/fs.h"
#include "core/ids.h"
#include "core/json.h"
#include "targets/local/environment.h"

namespace ps::targets::local {
namespace {

namespace fs = std::filesystem;

class LocalTarget final : public Target {
 public:
  explicit LocalTarget(LocalTargetOptions o) : o_(std::move(o)) {}
  std::string name() const override { return "local"; }

  Result<std::unique_ptr<Environment>> Open(const EnvRef& ref) override {
    PS_TRY(CheckName(ref));
    PS_TRY(ClaimHome(ref));
    PS_ASSIGN(auto env, LocalEnvironment::Open(Dir(ref), o_.executable, ref.project, ref.env));
    return std::unique_ptr<Environment>(std::make_unique<LocalEnvironment>(std::move(env)));
  }

  bool Exists(const EnvRef& ref) const override {
    std::error_code ec;
    return CheckName(ref).ok() && fs::exists(Dir(ref) / "env.json", ec);
  }

  std::vector<std::string> Environments(const EnvRef& ref) const override {
    std::vector<std::string> names;
    EnvRef r = ref;
    r.env = "x";
    const fs::path project = Dir(r).parent_path();
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(project, ec)) {
      if (e.is_directory(ec) && !e.is_symlink(ec) && fs::exists(e.path() / "env.json", ec))
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::optional<std::string> LockHolder(const EnvRef& ref) const override {
    if (!CheckName(ref).ok()) return std::nullopt;
    return local::LockHolder(Dir(ref));
  }

  Status Remove(const EnvRef& ref) override {
    PS_TRY(CheckName(ref));
    const fs::path dir = Dir(ref);
    std::error_code ec;
    fs::remove_all(SocketDir(dir), ec);
    fs::remove_all(dir, ec);
    if (ec) return problems::Internal("could not remove " + dir.string() + ": " + ec.message());
    return Ok();
  }

 private:
  // An environment's name becomes a folder: only what cannot climb out.
  static Status CheckName(const EnvRef& ref) {
    if (!IsEnvironmentName(ref.env)) {
      return problems::InvalidInput(
          "environment names are 1-32 lower-case letters, digits and '-'");
    }
    return Ok();
  }

  // The home tenant from home-tenant.json, if one claimed it.
  std::optional<std::pair<std::string, std::string>> Home() const {
    auto text = ReadFile(o_.root / "home-tenant.json", 4096);
    if (!text.ok()) return std::nullopt;
    const Json j = Json::parse(*text, nullptr, false);
    if (!j.is_object() || !j.value("org_id", Json()).is_string() ||
        !j.value("workspace_id", Json()).is_string())
      return std::nullopt;
    return std::make_pair(j["org_id"].get<std::string>(), j["workspace_id"].get<std::string>());
  }

  // The first tenant to create an environment here becomes the home.
  Status ClaimHome(const EnvRef& ref) const {
    if (o_.any_tenant_is_home || Home()) return Ok();
    PS_TRY(EnsureDir(o_.root));
    return WriteFileAtomic(
        o_.root / "home-tenant.json",
        Json{{"org_id", ref.org_id}, {"workspace_id", ref.workspace_id}}.dump() + "\n");
  }

  std::filesystem::path Dir(const EnvRef& ref) const {
    if (o_.any_tenant_is_home) return EnvironmentDir(o_.root, "", "", ref);
    const auto home = Home();
    return EnvironmentDir(o_.root, home ? home->first : "", home ? home->second : "", ref);
  }

  LocalTargetOptions o_;
};

}  // namespace

fs::path EnvironmentDir(const fs::path& root, const std::string& home_org,
                        const std::string& home_workspace, const EnvRef& ref) {
  const bool home =
      home_org.empty() || (ref.org_id == home_org && ref.workspace_id == home_workspace);
  const fs::path base = home ? root : root / "tenants" / Slug(ref.org_id) / Slug(ref.workspace_id);
  return base / Slug(ref.project) / ref.env;
}

std::shared_ptr<Target> MakeLocalTarget(LocalTargetOptions options) {
  return std::make_shared<LocalTarget>(std::move(options));
}

}  // namespace ps::targets::local
