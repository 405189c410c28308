// `prodsprint release`: a revision released beside the stable version,
// canary or blue/green, rolled back by itself when worse (docs/RELEASE.md).
#include <iostream>

#include "cli/environment.h"
#include "cli/print.h"
#include "service/environments.h"

namespace ps::cli {
namespace {

Result<int> CmdRelease(const Options& o, const DeployArgs& a) {
  if (a.ref.empty()) return problems::InvalidInput("a release needs a revision: --ref REV");
  if (!a.strategy.empty() && a.strategy != "canary" && a.strategy != "bluegreen") {
    return problems::InvalidInput("--strategy is canary or bluegreen");
  }
  PS_ASSIGN(EnvSession t, OpenEnv(o, a, true));
  auto app = t.session->App();
  if (auto holder =
          service::EnvironmentHolder(app, t.session->tenant, t.project, a.target, a.env)) {
    return Problem::Make("environment-busy", "The environment is busy", 409,
                         "'" + a.env + "' is held by " + *holder + "; one release at a time");
  }
  Json input = {{"ref", a.ref}, {"env", a.env}, {"target", a.target}, {"strategy", a.strategy}};
  // Ctrl-C aborts the release: the new version's weight goes to 0 and it
  // stops, rather than leaving traffic split with nobody watching. Here, in
  // this process: nothing to write (the disk may be full).
  PS_ASSIGN(RunDetail d, RunHere(t, store::RunKind::kRelease, input, !a.json, [&] {
              if (!a.json) std::cerr << "interrupted: aborting the release\n";
              t.session->engine->InterruptRunningStages();
            }));
  if (d.run.status != store::RunStatus::kDone) return Failed(d, a.json);
  const Json* out = d.Output("release");
  const std::string status = out ? out->value("status", "") : "";
  if (a.json) {
    std::cout << Dump(out ? *out : Json::object(), 2) << std::endl;
  } else if (out) {
    PrintRelease(Term::Detect(), *out, a.env);
  }
  return status == "promoted" || status == "unchanged" ? kExitOk : kExitFailed;
}

}  // namespace

void RegisterRelease(Commands& commands) {
  auto a = std::make_shared<DeployArgs>();
  auto* release = commands.app().add_subcommand(
      "release",
      "Release a revision beside the stable version and move traffic to it: canary steps\n"
      "(release.steps: setWeight, pause, analysis) or blue/green. ProdSprint drives traffic at\n"
      "release.traffic.rate and compares the new version with the stable one on every request\n"
      "from HAProxy's log (errors and latency, sequential tests); it rolls back by itself when\n"
      "the new version is worse or unhealthy. Exit 0 when promoted, 1 when rolled back.");
  release->add_option("PATH", a->path, "The repository's folder")->required();
  release->add_option("--ref", a->ref, "The git revision to release")->required();
  release->add_option("--strategy", a->strategy, "canary or bluegreen (default: release.strategy)");
  AddEnvFlags(release, *a);
  const Options& o = commands.options();
  commands.Add(
      release, [&o, a] { return CmdRelease(o, *a); }, std::shared_ptr<const bool>(a, &a->json));
}

}  // namespace ps::cli
