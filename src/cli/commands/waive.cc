// `prodsprint waive`: waive a readiness gate for a while (service/waivers.h).
#include <iostream>

#include "cli/command.h"
#include "service/waivers.h"

namespace ps::cli {
namespace {

struct WaiveArgs {
  std::string path = ".";
  std::string gate;    // security, tests, performance
  std::string reason;  // required
  std::string until;   // YYYY-MM-DD (the end of that day, UTC) or YYYY-MM-DDTHH:MM:SSZ
  bool json = false;
};

Result<int> CmdWaive(const Options& o, const WaiveArgs& a) {
  // Checked before the state is touched: a refused waiver changes nothing.
  PS_ASSIGN(Millis until, service::ParseUntil(a.until));
  service::Waiver waiver{a.gate, a.reason, until};
  if (auto st = service::CheckWaiver(waiver, SystemClock::Instance().Now()); !st.ok()) {
    // The messages name what was given.
    Problem prob = st.problem();
    const std::string shown = FormatTime(until);
    if (auto at = prob.detail.find(shown); at != std::string::npos)
      prob.detail.replace(at, shown.size(), a.until);
    return prob;
  }
  PS_ASSIGN(ProjectSession p, OpenProject(o, a.path, true));
  auto app = p.session->App();
  PS_ASSIGN(const Json w, service::Waive(app, p.session->tenant, Who(), p.project, waiver));
  if (a.json) {
    Json out = w;
    out["project"] = p.project.name;
    out["until_text"] = FormatTime(until);
    std::cout << Dump(out, 2) << std::endl;
  } else {
    std::cout << "Waived the " << a.gate << " gate of " << p.project.name << " until "
              << FormatTime(until) << " (audit log #" << w["id"] << ", by "
              << w["by"].get<std::string>() << ")\n"
              << "The next readiness run counts it; 'prodsprint waivers " << a.path
              << "' lists waivers.\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterWaive(Commands& commands) {
  auto a = std::make_shared<WaiveArgs>();
  auto* waive = commands.app().add_subcommand(
      "waive",
      "Waive a readiness gate for a while: a failed gate that a waiver covers does not block the\n"
      "checklist. Recorded in the audit log with who, why and until when; at most " +
          std::to_string(service::kMaxWaiverDays) + " days.");
  waive->add_option("GATE", a->gate, "security, tests or performance")->required();
  waive->add_option("--path", a->path, "The repository's folder")->capture_default_str();
  waive->add_option("--reason", a->reason, "Why the gate may be skipped")->required();
  waive
      ->add_option("--until", a->until,
                   "YYYY-MM-DD (the end of that day, UTC) or YYYY-MM-DDTHH:MM:SSZ")
      ->required();
  waive->add_flag("--json", a->json, "Machine-readable output");
  const Options& o = commands.options();
  commands.Add(
      waive, [&o, a] { return CmdWaive(o, *a); }, std::shared_ptr<const bool>(a, &a->json));
}

}  // namespace ps::cli
