// `prodsprint waivers`: the waivers of a repository's gates.
#include <iostream>

#include "cli/command.h"
#include "service/waivers.h"

namespace ps::cli {
namespace {

Result<int> CmdWaivers(const Options& o, const std::string& path, bool json) {
  PS_ASSIGN(ProjectSession p, OpenProject(o, path, true));
  auto app = p.session->App();
  PS_ASSIGN(Json list, service::WaiversOf(app, p.session->tenant, p.project.id));
  const Millis now = SystemClock::Instance().Now();
  for (auto& w : list) w["active"] = w["until"].get<Millis>() > now;
  if (json) {
    std::cout << Dump(list, 2) << std::endl;
    return kExitOk;
  }
  if (list.empty()) {
    std::cout << "no waivers for " << p.project.name << "\n";
    return kExitOk;
  }
  const Term t = Term::Detect();
  std::vector<std::vector<std::string>> rows = {
      {t.Bold("GATE"), t.Bold("UNTIL"), t.Bold("STATE"), t.Bold("BY"), t.Bold("REASON")}};
  for (const auto& w : list) {
    rows.push_back({w["gate"], FormatTime(w["until"].get<Millis>()).substr(0, 10),
                    w["active"].get<bool>() ? t.Yellow("active") : t.Dim("expired"), w["by"],
                    w["reason"]});
  }
  std::cout << Table(rows);
  return kExitOk;
}

}  // namespace

void RegisterWaivers(Commands& commands) {
  auto path = std::make_shared<std::string>(".");
  auto json = std::make_shared<bool>(false);
  auto* waivers =
      commands.app().add_subcommand("waivers", "List the waivers of a repository's gates");
  waivers->add_option("PATH", *path, "The repository's folder")->capture_default_str();
  waivers->add_flag("--json", *json, "Machine-readable output");
  const Options& o = commands.options();
  commands.Add(
      waivers, [&o, path, json] { return CmdWaivers(o, *path, *json); }, json);
}

}  // namespace ps::cli
