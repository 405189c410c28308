#include "targets/local/local_target.h"

#include "core/fs.h"
#include "core/ids.h"
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
    PS_ASSIGN(auto env,
              LocalEnvironment::Open(EnvironmentDir(o_, ref), o_.executable, ref.project, ref.env));
    return std::unique_ptr<Environment>(std::make_unique<LocalEnvironment>(std::move(env)));
  }

  bool Exists(const EnvRef& ref) const override {
    std::error_code ec;
    return CheckName(ref).ok() && fs::exists(EnvironmentDir(o_, ref) / "env.json", ec);
  }

  std::vector<std::string> Environments(const EnvRef& ref) const override {
    std::vector<std::string> names;
    EnvRef r = ref;
    r.env = "x";
    const fs::path project = EnvironmentDir(o_, r).parent_path();
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
    return local::LockHolder(EnvironmentDir(o_, ref));
  }

  Status Remove(const EnvRef& ref) override {
    PS_TRY(CheckName(ref));
    const fs::path dir = EnvironmentDir(o_, ref);
    std::error_code ec;
    fs::remove_all(SocketDir(dir), ec);
    fs::remove_all(dir, ec);
    if (ec) return problems::Internal("could not remove " + dir.string() + ": " + ec.message());
    return Ok();
  }

 private:
  // An environment's name becomes a folder: only what cannot climb out.
  static Status CheckName(const EnvRef& ref) {
    if (ref.env.empty() || ref.env.size() > 32 ||
        ref.env.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
      return problems::InvalidInput(
          "environment names are 1-32 lower-case letters, digits and '-'");
    }
    return Ok();
  }

  LocalTargetOptions o_;
};

}  // namespace

fs::path EnvironmentDir(const LocalTargetOptions& o, const EnvRef& ref) {
  fs::path base = o.root;
  const bool home =
      o.home_org_id == "*" || (!o.home_org_id.empty() && ref.org_id == o.home_org_id &&
                               ref.workspace_id == o.home_workspace_id);
  if (!home) {
    base = base / "tenants" / Slug(ref.org_id) / Slug(ref.workspace_id);
  }
  return base / Slug(ref.project) / ref.env;
}

std::shared_ptr<Target> MakeLocalTarget(LocalTargetOptions options) {
  return std::make_shared<LocalTarget>(std::move(options));
}

}  // namespace ps::targets::local
