#include "cli/environment.h"

#include <algorithm>
#include <iostream>

#include "service/environments.h"

namespace ps::cli {

void AddEnvFlags(CLI::App* sub, DeployArgs& a) {
  sub->add_option("--env", a.env, "The environment (staging, production, ...)")
      ->capture_default_str();
  sub->add_flag("--json", a.json, "Machine-readable output");
}

Status CheckEnvName(const std::string& env) {
  if (env.empty() || env.size() > 32 ||
      env.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    return problems::InvalidInput(
        "environment names are 1-32 lower-case letters, digits and '-' ('" + env + "' is not)");
  }
  return Ok();
}

Result<EnvSession> OpenEnv(const Options& o, const DeployArgs& a, bool create) {
  PS_TRY(CheckEnvName(a.env));
  PS_ASSIGN(const fs::path repo, RepoFolder(a.path));
  {
    // Only the environments the configuration names: a typo does not
    // create a third one. Checked before the state is touched.
    const bool found = o.config.empty();
    PS_ASSIGN(const Config c,
              LoadConfig(found ? (repo / "prodsprint.yaml").string() : o.config, found));
    // (Commands on an existing environment still reach it after the list changed.)
    if (create &&
        std::find(c.environments.begin(), c.environments.end(), a.env) == c.environments.end()) {
      std::string names;
      for (const auto& e : c.environments) names += (names.empty() ? "" : ", ") + e;
      return problems::InvalidInput("unknown environment '" + a.env + "': the environments are " +
                                    names +
                                    " (list more under 'environments:' in prodsprint.yaml)");
    }
  }
  EnvSession t;
  PS_ASSIGN(static_cast<ProjectSession&>(t), OpenProject(o, a.path, create));
  t.target = a.target;
  t.env = a.env;
  auto app = t.session->App();
  PS_TRY(app.targets.Find(a.target));
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
