// `prodsprint status`: a project's environments.
#include <iostream>

#include "cli/environment.h"
#include "cli/print.h"
#include "service/environments.h"

namespace ps::cli {
namespace {

Result<int> CmdStatus(const Options& o, const DeployArgs& a) {
  PS_ASSIGN(EnvSession t, OpenEnv(o, a, false));
  auto app = t.session->App();
  PS_ASSIGN(Json status, service::EnvironmentsStatus(app, t.session->tenant, t.project, a.target));
  if (a.json) {
    std::cout << Dump(status, 2) << std::endl;
    return kExitOk;
  }
  const Json& envs = status["environments"];
  const Term term = Term::Detect();
  if (envs.empty()) {
    std::cout << "no environment of " << t.project.name << " yet: 'prodsprint apply " << a.path
              << "' creates staging\n";
    return kExitOk;
  }
  for (const auto& e : envs) {
    std::cout << term.Bold(t.project.name + " / " + e["name"].get<std::string>()) << " (local)  "
              << "supervisor "
              << (e["supervisor"] == "running" ? term.Green("running") : term.Red("stopped"))
              << (e.contains("busy") ? "  " + term.Yellow("busy: " + e["busy"].get<std::string>())
                                     : "")
              << "\n";
    std::vector<std::vector<std::string>> rows = {{term.Bold("SERVICE"), term.Bold("URL"),
                                                   term.Bold("STABLE"), term.Bold("CANDIDATE"),
                                                   term.Bold("WEIGHTS"), term.Bold("INSTANCES")}};
    const Json& procs = e["processes"];
    for (const auto& item : e["services"].items()) {
      const std::string& name = item.key();
      const Json& svc = item.value();
      auto version_of = [&](const Json& colour) -> std::string {
        if (!colour.is_string()) return "-";
        const Json& run = svc["colours"][colour.get<std::string>()]["run"];
        return run.is_object()
                   ? Short(run.value("version", "")) + " (" + colour.get<std::string>() + ")"
                   : "-";
      };
      std::string weights, instances;
      int healthy = 0, total = 0;
      for (const char* c : {"blue", "green"}) {
        const Json& col = svc["colours"][c];
        if (!col["run"].is_object()) continue;
        weights += (weights.empty() ? "" : " ") + std::string(c) + " " +
                   std::to_string(col.value("weight", 0)) + "%";
        for (int i = 0; i < svc.value("instances", 1); ++i) {
          const std::string pname = name + "-" + c + std::to_string(i);
          ++total;
          if (procs.contains(pname) && procs[pname].value("healthy", false)) ++healthy;
        }
      }
      const int port = svc.value("frontend_port", 0);
      std::string health = std::to_string(healthy) + "/" + std::to_string(total) + " healthy";
      if (svc.contains("frontend") && svc["frontend"].value("another_listener", false)) {
        health = term.Red("port " + std::to_string(port) + " also served by another process");
      } else if (svc.contains("frontend") && !svc["frontend"].value("routed", true) && total > 0) {
        health = term.Red("not routed: nothing of ours listens on " + std::to_string(port));
      }
      rows.push_back({name,
                      port > 0 ? "http://127.0.0.1:" + std::to_string(port) + "/" : "(worker)",
                      version_of(svc["stable"]),
                      svc["candidate"].is_string()
                          ? version_of(svc["candidate"])
                          : (svc["warm"].is_string() ? "warm: " + version_of(svc["warm"]) : "-"),
                      weights, health});
    }
    std::cout << Table(rows);
    std::vector<std::string> extra;
    for (const auto& [name, b] : e["backing"].items()) {
      extra.push_back(name + " 127.0.0.1:" + std::to_string(b.value("port", 0)));
    }
    if (e["router"].contains("metrics_port")) {
      extra.push_back("HAProxy metrics http://127.0.0.1:" +
                      std::to_string(e["router"].value("metrics_port", 0)) + "/metrics");
    }
    for (const auto& x : extra) std::cout << "  " << term.Dim(x) << "\n";
    if (e.contains("last_release")) {
      const Json& r = e["last_release"];
      std::cout << "  last release " << Short(r.value("sha", "")) << " " << r.value("strategy", "")
                << ": " << term.Status(r.value("status", ""))
                << (r["meta"].value("reason", "").empty()
                        ? ""
                        : " (" + r["meta"].value("reason", "") + ")")
                << "\n";
    }
    std::cout << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterStatus(Commands& commands) {
  auto a = std::make_shared<DeployArgs>();
  auto* status = commands.app().add_subcommand(
      "status", "Show a project's environments: services, versions, instances, weights, URLs");
  status->add_option("PATH", a->path, "The repository's folder (default: .)");
  status->add_flag("--json", a->json, "Machine-readable output");
  const Options& o = commands.options();
  commands.Add(
      status, [&o, a] { return CmdStatus(o, *a); }, std::shared_ptr<const bool>(a, &a->json));
}

}  // namespace ps::cli
