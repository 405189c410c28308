// `prodsprint down`: stop every process of an environment, as a run; with
// a damaged state database, directly (stopping needs none of it).
#include <iostream>

#include "cli/backends.h"
#include "cli/environment.h"
#include "cli/print.h"
#include "service/environments.h"

namespace ps::cli {
namespace {

// The state database is damaged, full or read-only: the environment follows
// from the configuration alone (the tenant cannot be read: the state
// folder's own), and its processes stop without a run recorded.
Result<int> DownWithoutState(const Options& o, const DeployArgs& a, const Problem& why) {
  PS_ASSIGN(const fs::path repo, RepoFolder(a.path));
  const bool found = o.config.empty();
  PS_ASSIGN(const Config c,
            LoadConfig(found ? (repo / "prodsprint.yaml").string() : o.config, found));
  PS_TRY(service::CheckEnvironment(c, a.env, false));
  std::error_code ec;
  const fs::path state =
      fs::absolute(o.state.empty() ? fs::path(c.state_dir) : fs::path(o.state), ec);
  targets::Targets targets;
  InstallTargets(targets, state, /*any_tenant_is_home=*/true);
  PS_ASSIGN(targets::Target * target, targets.Find(a.target));
  targets::EnvRef ref;
  ref.project = c.project_name.empty() ? repo.filename().string() : c.project_name;
  ref.env = a.env;
  std::cerr << "warning: " << why.Message()
            << "\n  stopping the environment's processes without the state database\n";
  if (!target->Exists(ref)) return problems::NotFound("environment", a.env);
  PS_ASSIGN(auto env, target->Open(ref));
  PS_TRY(env->Lock("down"));
  // The processes stop first; a full disk may then keep the environment's
  // state from saying so (the next command sees the supervisor stopped).
  auto st = env->Down();
  if (!st.ok() && !st.problem().Is("disk-full")) return st.problem();
  if (!st.ok()) std::cerr << "warning: " << st.problem().Message() << "\n";
  if (a.json) {
    std::cout << Dump({{"env", a.env}, {"stopped", true}}) << std::endl;
  } else {
    std::cout << "stopped every process of " << ref.project << "/" << a.env
              << " (release folders and data kept in " << env->DataDir().string() << ")\n";
  }
  return kExitOk;
}

Result<int> DownAsRun(const Options& o, const DeployArgs& a) {
  PS_ASSIGN(EnvSession t, OpenEnv(o, a, false));
  auto app = t.session->App();
  PS_ASSIGN(store::Run run,
            service::SubmitDown(app, t.session->tenant, Who(), t.project, a.target, a.env));
  PS_ASSIGN(run, DriveRun(*t.session, run.id, false));
  PS_ASSIGN(RunDetail d, service::LoadDetail(app, t.session->tenant, run.id));
  if (d.run.status != store::RunStatus::kDone) return Failed(d, a.json);
  const Json* out = d.Output("down");
  if (out && out->contains("warning"))
    std::cerr << "warning: " << out->value("warning", "") << "\n";
  if (a.json) {
    std::cout << Dump({{"env", a.env}, {"stopped", true}, {"run", run.id}}) << std::endl;
  } else {
    std::cout << "stopped every process of " << t.project.name << "/" << a.env
              << " (release folders and data kept in " << (out ? out->value("kept", "") : "")
              << "; run " << run.id << ")\n";
  }
  return kExitOk;
}

Result<int> CmdDown(const Options& o, const DeployArgs& a) {
  auto r = DownAsRun(o, a);
  // The store could not be opened or written (damaged, full, read-only).
  if (!r.ok() && r.problem().Slug().rfind("store-", 0) == 0) {
    return DownWithoutState(o, a, r.problem());
  }
  return r;
}

}  // namespace

void RegisterDown(Commands& commands) {
  auto a = std::make_shared<DeployArgs>();
  auto* down = commands.app().add_subcommand(
      "down", "Stop every process of an environment (release folders and data are kept)");
  down->add_option("PATH", a->path, "The repository's folder")->required();
  AddEnvFlags(down, *a);
  const Options& o = commands.options();
  commands.Add(
      down, [&o, a] { return CmdDown(o, *a); }, std::shared_ptr<const bool>(a, &a->json));
}

}  // namespace ps::cli
