// `prodsprint apply`: make a revision the running version of an environment.
#include <iostream>

#include "cli/environment.h"
#include "cli/print.h"

namespace ps::cli {
namespace {

Result<int> CmdApply(const Options& o, const DeployArgs& a) {
  PS_ASSIGN(EnvSession t, OpenEnv(o, a, true));
  Json input = {{"ref", a.ref}, {"env", a.env}, {"target", a.target}};
  PS_ASSIGN(RunDetail d, RunHere(t, store::RunKind::kApply, input, !a.json));
  if (d.run.status != store::RunStatus::kDone) return Failed(d, a.json);
  const Json* out = d.Output("apply");
  if (a.json) {
    std::cout << Dump(out ? *out : Json::object(), 2) << std::endl;
    return kExitOk;
  }
  const Term term = Term::Detect();
  std::cout << "\n"
            << term.Bold("Environment " + a.env) << " (" << a.target << ")  version "
            << Short(out->value("version", "")) << "  "
            << (out->value("changed", false) ? term.Green("applied") : term.Dim("nothing changed"))
            << " in " << HumanDuration(RunDuration(d.run)) << "\n\n";
  PrintServices(term, (*out)["services"]);
  for (const auto& s : (*out)["skipped"]) {
    std::cout << term.Yellow("note") << "  " << s.value("service", "") << ": "
              << s.value("reason", s.value("warning", "")) << "\n";
  }
  std::cout << term.Dim("\n'prodsprint status' shows instances and weights; 'prodsprint release " +
                        a.path + " --ref REV' releases another version; 'prodsprint down " +
                        a.path + "' stops it all.")
            << "\n";
  return kExitOk;
}

}  // namespace

void RegisterApply(Commands& commands) {
  auto a = std::make_shared<DeployArgs>();
  auto* apply = commands.app().add_subcommand(
      "apply",
      "Make a revision the running version of an environment on this machine: export it (from\n"
      "git, no checkout) into a release folder, install and build it, start PostgreSQL/Redis if\n"
      "it needs them, run its migrations, start its instances under a supervisor (restarts with\n"
      "backoff, graceful stops) and route to them through HAProxy. A running version is replaced\n"
      "without dropping a request; the same revision again changes nothing.");
  apply->add_option("PATH", a->path, "The repository's folder")->required();
  apply->add_option("--ref", a->ref, "The git revision (default: HEAD)");
  apply->add_option("--target", a->target, "Where: local")->capture_default_str();
  AddEnvFlags(apply, *a);
  const Options& o = commands.options();
  commands.Add(
      apply, [&o, a] { return CmdApply(o, *a); }, std::shared_ptr<const bool>(a, &a->json));
}

}  // namespace ps::cli
