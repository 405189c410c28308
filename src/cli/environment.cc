#include "cli/environment.h"

#include <iostream>

#include "cli/backends.h"
#include "service/environments.h"

namespace ps::cli {

void AddEnvFlags(CLI::App* sub, DeployArgs& a) {
  sub->add_option("--env", a.env, "The environment (staging, production, ...)")
      ->capture_default_str();
  sub->add_flag("--json", a.json, "Machine-readable output");
}

Result<EnvSession> OpenEnv(const Options& o, const DeployArgs& a, bool create) {
  PS_ASSIGN(const fs::path repo, RepoFolder(a.path));
  {
    // Checked before the state is touched.
    const bool found = o.config.empty();
    PS_ASSIGN(const Config c,
              LoadConfig(found ? (repo / "prodsprint.yaml").string() : o.config, found));
    PS_TRY(service::CheckEnvironment(c, a.env, create));
    // A target this build has (making one touches nothing).
    targets::Targets known;
    InstallTargets(known, "/nonexistent");
    PS_TRY(known.Find(a.target));
  }
  EnvSession t;
  PS_ASSIGN(static_cast<ProjectSession&>(t), OpenProject(o, a.path, create));
  t.target = a.target;
  t.env = a.env;
  auto app = t.session->App();
  if (auto note = service::RecoverOrphanedRelease(app, t.session->tenant, Who(), t.project,
                                                  a.target, a.env)) {
    std::cerr << "warning: " << *note << "\n";
  }
  return t;
}

Result<RunDetail> RunHere(EnvSession& t, store::RunKind kind, const Json& input, bool progress,
                          const std::function<void()>& on_interrupt) {
  auto app = t.session->App();
  PS_ASSIGN(store::Run run, service::Submit(app, t.session->tenant, Who(), t.project, kind, input));
  if (progress) {
    const Term term = Term::Detect();
    std::cerr << term.Bold("ProdSprint") << " " << store::ToString(kind) << "  " << t.project.name
              << "  " << term.Dim(input.value("env", "") + " · run " + run.id) << "\n";
  }
  PS_ASSIGN(run, DriveRun(*t.session, run.id, progress, on_interrupt));
  return service::LoadDetail(app, t.session->tenant, run.id);
}

}  // namespace ps::cli
