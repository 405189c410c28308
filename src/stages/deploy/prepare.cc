#include "stages/deploy/prepare.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "core/fs.h"
#include "core/process.h"
#include "stages/audit/audit.h"
#include "stages/plan/blueprint.h"

namespace ps::stages::deploy {
namespace {

namespace fs = std::filesystem;

using targets::ServiceRun;

constexpr std::uint64_t kMaxFileBytes = 256ull << 20;
constexpr std::uint64_t kMaxTreeBytes = 4ull << 30;
constexpr Millis kBuildTimeout = 20 * 60'000;

Millis SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A symlink target that, resolved from `link`'s folder, stays in the tree.
bool InsideTree(const std::string& link, const std::string& target) {
  if (target.empty() || target[0] == '/') return false;
  fs::path p = fs::path(link).parent_path() / target;
  int depth = 0;
  for (const auto& part : p.lexically_normal()) {
    if (part == "..") {
      if (--depth < 0) return false;
    } else if (part != "." && !part.empty()) {
      ++depth;
    }
  }
  return true;
}

Status Export(audit::RepoView& view, const fs::path& dest, Json& warnings,
              const std::function<bool()>& stopping) {
  const fs::path tmp = dest.string() + ".tmp-" + std::to_string(getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  PS_TRY(EnsureDir(tmp));
  std::uint64_t total = 0;
  Status failed = Ok();
  audit::WalkOptions wo;
  wo.honour_gitignore = true;
  wo.stopping = stopping;
  auto walked = view.Walk(wo, [&](const audit::FileEntry& f) {
    if (!failed.ok()) return;
    const fs::path out = tmp / f.path;
    fs::create_directories(out.parent_path(), ec);
    if (f.symlink) {
      if (InsideTree(f.path, f.link_target)) {
        fs::create_symlink(f.link_target, out, ec);
      } else {
        warnings.push_back(f.path + ": symbolic link out of the tree (" + f.link_target +
                           ") not exported");
      }
      return;
    }
    if (f.size > kMaxFileBytes || (total += f.size) > kMaxTreeBytes) {
      failed = Problem::Make("release-too-large", "The revision is too large to export", 413,
                             f.path + ": files over 256 MiB, or 4 GiB in all, are not exported");
      return;
    }
    auto content = view.Read(f.path, f.size);
    if (!content.ok()) {
      failed = content.problem();
      return;
    }
    failed = WriteFileAtomic(out, *content);
    if (failed.ok() && f.executable) ::chmod(out.c_str(), 0755);
  });
  if (!walked.ok()) failed = walked.problem();
  if (!failed.ok()) {
    fs::remove_all(tmp, ec);
    return failed;
  }
  fs::rename(tmp, dest, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    if (!fs::exists(dest)) return problems::Internal("cannot create " + dest.string());
  }
  return Ok();
}

// Runs a shell command of the release (install, build, migrate) with its log.
Status RunStep(engine::StageContext& ctx, const std::string& what, const std::string& command,
               const std::string& cwd, const std::map<std::string, std::string>& env,
               const std::string& secrets_file, const std::string& log) {
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", command};
  o.cwd = cwd;
  o.env = env;
  o.secrets_file = secrets_file;
  o.log_path = log;
  ctx.log().Info("release step", {{"step", what}, {"command", command}, {"cwd", cwd}});
  PS_ASSIGN(ExitStatus exit, RunToCompletion(o, kBuildTimeout, [&] { return ctx.Stopping(); }));
  if (!exit.ok()) {
    return Problem::Make(what + "-failed", "The " + what + " failed", 422,
                         "'" + command + "' in " + cwd + ": " + exit.Describe())
        .With("log", log)
        .With("log_tail", LogTail(log, 1500));
  }
  return Ok();
}

bool HasDependencies(const fs::path& package_json) {
  auto text = ReadFile(package_json, 8 << 20);
  if (!text.ok()) return false;
  Json j = Json::parse(*text, nullptr, false);
  if (!j.is_object()) return false;
  for (const char* k : {"dependencies", "devDependencies"}) {
    if (j.contains(k) && j[k].is_object() && !j[k].empty()) return true;
  }
  return false;
}

}  // namespace

namespace {

targets::EnvRef RefOf(const engine::StageContext& ctx, const std::string& env) {
  return {ctx.tenant().org_id, ctx.tenant().workspace_id, ctx.project().name,
          env.empty() ? ctx.run_input().value("env", "staging") : env};
}

}  // namespace

Result<std::unique_ptr<targets::Environment>> OpenEnvironment(engine::StageContext& ctx,
                                                              const targets::Targets& targets,
                                                              const std::string& env) {
  // Everything checked before the environment is made.
  PS_ASSIGN(const Config settings, RunSettings(ctx));
  PS_ASSIGN(targets::Target * target, targets.Find(ctx.run_input().value("target", "local")));
  PS_ASSIGN(auto opened, target->Open(RefOf(ctx, env)));
  opened->set_health_timeout(settings.release.health_timeout);
  return opened;
}

bool EnvironmentExists(engine::StageContext& ctx, const targets::Targets& targets,
                       const std::string& env) {
  auto target = targets.Find(ctx.run_input().value("target", "local"));
  return target.ok() && (*target)->Exists(RefOf(ctx, env));
}

Result<PreparedVersion> PrepareVersion(engine::StageContext& ctx, targets::Environment& env,
                                       const std::string& path, const std::string& ref) {
  PreparedVersion pv;
  auto step = [&](const std::string& name, Millis started, Json extra = Json::object()) {
    extra["step"] = name;
    extra["duration_ms"] = SteadyMs() - started;
    pv.steps.push_back(extra);
  };
  Millis t0 = SteadyMs();
  // A git revision (HEAD by default); a folder outside git as it is.
  std::string rev = ref;
  if (rev.empty() && audit::OpenGitRevision(path, "HEAD").ok()) rev = "HEAD";
  PS_ASSIGN(std::unique_ptr<audit::RepoView> view, audit::OpenView(path, rev));
  pv.commit = view->Commit();
  PS_ASSIGN(Json audited, audit::Audit(*view, {}, [&] { return ctx.Stopping(); }));
  if (pv.commit.empty()) {
    // A working tree without git: its version is its content.
    std::string manifest;
    audit::WalkOptions wo;
    (void)view->Walk(wo, [&](const audit::FileEntry& f) {
      manifest += f.path + ":" + std::to_string(f.size) + "\n";
      if (!f.symlink && f.size < (1 << 20)) {
        if (auto c = view->Read(f.path, f.size); c.ok()) manifest += Sha256Hex(*c) + "\n";
      }
    });
    pv.commit = "worktree-" + Sha256Hex(manifest).substr(0, 16);
  }
  step("audit", t0, {{"version", pv.commit}});
  pv.audited = audited;

  const fs::path dir = env.ReleaseDir(pv.commit);
  pv.release_dir = dir.string();
  std::error_code ec;
  t0 = SteadyMs();
  if (!fs::exists(dir, ec)) {
    ctx.Progress(0.1, "exporting " + view->Describe() + " to " + dir.string());
    Json warnings = Json::array();
    PS_TRY(EnsureDir(dir.parent_path()));
    PS_TRY(Export(*view, dir, warnings, [&] { return ctx.Stopping(); }));
    step("export", t0, {{"folder", dir.string()}, {"warnings", warnings}});
  } else {
    step("export", t0, {{"folder", dir.string()}, {"reused", true}});
  }

  PS_ASSIGN(const Config settings, RunSettings(ctx));
  const auto& rc = settings.release;
  const auto services = plan::ServicesOf(audited);
  for (const auto& s : services) {
    std::string kind = s.kind == "web" ? "web" : (s.kind == "worker" ? "worker" : s.kind);
    if (kind != "web" && kind != "worker") {
      pv.skipped.push_back(
          {{"service", s.name},
           {"reason",
            "a " + (kind.empty() ? std::string("service of unknown kind") : kind + " service") +
                " is not run on the local target"}});
      continue;
    }
    if (s.start_command.empty()) {
      pv.skipped.push_back({{"service", s.name}, {"reason", "no start command was found"}});
      continue;
    }
    if (!s.image_of.empty()) kind = "worker";
    const std::string cwd = (dir / (s.root == "." ? "" : s.root)).lexically_normal().string();
    const std::string slug = plan::Slug(s.name);
    const std::string log =
        (env.LogDir() / ("build-" + slug + "-" + pv.commit.substr(0, 12) + ".log")).string();

    std::map<std::string, std::string> envv;
    // Values the audit found defaults for; secrets generated for the environment.
    std::vector<std::string> unset;
    for (const auto& e : s.env_vars) {
      const std::string name = e.value("name", "");
      if (name.empty() || name == "PORT") continue;
      if (e.value("secret", false)) {
        // Stored as a reference; the value reaches only the process's
        // environment, from the 0600 secrets file, when it starts.
        PS_TRY(env.Secret(name));
        envv[name] = SecretRef(name);
      } else if (e.contains("default") && e["default"].is_string()) {
        // A repository's value never names one of the environment's secrets
        // (it would be resolved into that process's environment).
        const std::string value = e["default"].get<std::string>();
        if (value.find("${secret:") != std::string::npos) {
          if (e.value("required", false)) unset.push_back(name);
          continue;
        }
        envv[name] = value;
      } else if (e.value("required", false)) {
        unset.push_back(name);
      }
    }
    for (const auto& b : s.backing) {
      if (b != "postgres" && b != "redis") continue;
      t0 = SteadyMs();
      ctx.Progress(0.3, "starting " + b + " for " + s.name);
      PS_ASSIGN(auto info, env.EnsureBacking(b, s.name));
      for (const auto& [k, v] : info.env) envv[k] = v;
      step("backing", t0, {{"service", s.name}, {"backing", b}, {"port", info.port}});
    }
    envv["PRODSPRINT_ENV"] = ctx.run_input().value("env", "staging");
    envv["PRODSPRINT_VERSION"] = pv.commit;
    if (s.runtime == "node" || s.language == "JavaScript" || s.language == "TypeScript") {
      envv["NODE_ENV"] = "production";
    }

    // Install and build, once per commit and service.
    const fs::path marker = fs::path(cwd) / (".prodsprint-built-" + slug);
    std::vector<std::pair<std::string, std::string>> commands;
    if (fs::exists(fs::path(cwd) / "package.json", ec) &&
        HasDependencies(fs::path(cwd) / "package.json") &&
        !fs::exists(fs::path(cwd) / "node_modules", ec)) {
      const bool lock = fs::exists(fs::path(cwd) / "package-lock.json", ec);
      commands.push_back({"install", lock ? "npm ci --no-audit --no-fund --include=dev"
                                          : "npm install --no-audit --no-fund --include=dev"});
    }
    if (fs::exists(fs::path(cwd) / "requirements.txt", ec)) {
      commands.push_back(
          {"install", "python3 -m venv .venv && .venv/bin/pip install -q -r requirements.txt"});
    }
    if (!s.build_command.empty()) commands.push_back({"build", s.build_command});
    if (!fs::exists(marker, ec)) {
      for (const auto& [what, command] : commands) {
        t0 = SteadyMs();
        ctx.Progress(0.4, what + " " + s.name + ": " + command);
        auto build_env = envv;
        build_env["NODE_ENV"] = "development";
        PS_TRY(RunStep(ctx, what, command, cwd, build_env, env.SecretsFile(), log));
        step(what, t0, {{"service", s.name}, {"command", command}, {"log", log}});
      }
      PS_TRY(WriteFileAtomic(marker, pv.commit + "\n"));
    }
    if (fs::exists(fs::path(cwd) / ".venv" / "bin", ec)) {
      const char* path_env = std::getenv("PATH");
      envv["PATH"] = (fs::path(cwd) / ".venv" / "bin").string() + ":" +
                     (path_env ? path_env : "/usr/bin:/bin");
    }
    // Migrations: a release step, once per commit and service.
    if (s.migrations.is_object() && s.migrations.contains("command") &&
        s.migrations["command"].is_string()) {
      const fs::path mmarker = fs::path(cwd) / (".prodsprint-migrated-" + slug);
      if (!fs::exists(mmarker, ec)) {
        t0 = SteadyMs();
        const std::string command = s.migrations["command"];
        ctx.Progress(0.5, "migrating " + s.name + ": " + command);
        PS_TRY(RunStep(ctx, "migration", command, cwd, envv, env.SecretsFile(), log));
        PS_TRY(WriteFileAtomic(mmarker, pv.commit + "\n"));
        step("migrate", t0, {{"service", s.name}, {"command", command}});
      }
    }
    ServiceRun run;
    run.name = slug;
    run.kind = kind;
    run.cwd = cwd;
    run.command = s.start_command;
    run.env = envv;
    run.instances = rc.instances;
    if (kind == "web" && !s.healthcheck.empty() && s.healthcheck[0] == '/') {
      run.health_path = s.healthcheck;
    }
    run.version = pv.commit;
    if (!unset.empty()) {
      Json names = unset;
      pv.skipped.push_back({{"service", s.name},
                            {"warning", "required variables without a value"},
                            {"names", names}});
    }
    pv.runs.push_back(std::move(run));
  }
  if (pv.runs.empty()) {
    return Problem::Make(
               "nothing-to-run", "Nothing to run locally", 422,
               "no web or worker service with a start command was found in " + view->Describe())
        .With("skipped", pv.skipped);
  }
  return pv;
}

}  // namespace ps::stages::deploy
