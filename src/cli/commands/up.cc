// `prodsprint up`: ProdSprint's main job (docs/UP.md), the pipeline the
// application layer runs (service/up.h), printed.
#include <iostream>

#include "cli/command.h"
#include "cli/print.h"
#include "service/up.h"
#include "stages/audit/repo_view.h"

namespace ps::cli {
namespace {

struct UpArgs {
  std::string path, ref;
  bool apply = false;
  int workers = 0;
};

Result<int> CmdUp(const Options& o, const UpArgs& a, bool json) {
  const std::string& path = a.path;
  const std::string& ref = a.ref;
  const bool apply = a.apply;
  PS_ASSIGN(const fs::path repo, RepoFolder(path));
  // A revision that does not exist is a usage error now, not a failed run.
  if (!ref.empty()) PS_TRY(stages::audit::OpenView(repo.string(), ref));
  PS_ASSIGN(ProjectSession p, OpenProject(o, path, true));
  Session& s = *p.session;
  if (a.workers > 0) s.config.engine.workers = a.workers;
  const Term term = Term::Detect();
  if (!json) {
    std::cerr << term.Bold("ProdSprint") << " " << PS_VERSION << "  " << p.project.name << "  "
              << term.Dim(repo.string()) << "\n";
  }
  service::UpRequest req;
  req.repo = repo.string();
  req.ref = ref;
  req.apply = apply;
  req.reports_dir = s.state_dir / "reports";
  service::UpListener listener;
  listener.note = [&](const std::string& m) {
    if (!json) std::cerr << term.Dim(m) << "\n";
  };
  listener.phase = [&](const std::string& m) {
    if (!json) std::cerr << "\n" << term.Bold(m) << "\n";
  };
  auto app = s.App();
  PS_ASSIGN(service::UpOutcome u,
            service::Up(app, s.tenant, Who(), p.project, req, Driver(s, !json), listener));
  if (json) {
    std::cout << Dump(u.ToJson(), 2) << std::endl;
    return u.ok() ? kExitOk : kExitFailed;
  }
  std::cout << "\n";
  std::vector<std::vector<std::string>> rows;
  if (u.source.is_object()) {
    const Json& tree = u.source["tree"];
    const Json& git = u.source["git"];
    std::string vcs = git.value("vcs", "none");
    if (vcs == "git") {
      std::string commit = git.contains("commit") && git["commit"].is_string()
                               ? git["commit"].get<std::string>().substr(0, 12)
                               : "(no commits)";
      vcs = "git " + commit +
            (git.contains("ref")      ? " (--ref " + git.value("ref", "") + ")"
             : git.contains("branch") ? " on " + git.value("branch", "")
                                      : "") +
            (git.contains("path_in_repo") ? ", folder " + git.value("path_in_repo", "") : "") +
            (git.contains("ref")         ? ""
             : git.value("dirty", false) ? ", uncommitted changes"
                                         : ", clean");
    }
    rows.push_back({term.Bold("Repository"), tree.value("root", "")});
    rows.push_back({term.Bold("Version"), vcs});
    rows.push_back({term.Bold("Files"), std::to_string(tree.value("files", 0)) + " (" +
                                            std::to_string(tree.value("bytes", 0)) + " bytes)"});
    rows.push_back({term.Bold("Fingerprint"), tree.value("fingerprint", "")});
    const auto& outside = tree["symlinks_outside"];
    if (outside.is_array() && !outside.empty()) {
      rows.push_back({term.Yellow("Warning"),
                      std::to_string(outside.size()) +
                          " symbolic link(s) point outside the repository; not followed"});
    }
  }
  rows.push_back({term.Bold("Run"), u.run.id + "  " +
                                        term.Status(std::string(store::ToString(u.run.status))) +
                                        " in " + HumanDuration(RunDuration(u.run))});
  std::cout << Table(rows);
  for (const auto& st : u.import.stages) {
    if (st.name == "audit" && st.output.is_object() && st.output.contains("services")) {
      std::cout << "\n";
      PrintAudit(term, st.output, p.project.name);
    }
  }
  if (u.blueprint) {
    for (const auto& st : u.blueprint->stages) {
      if (st.name != "plan" || !st.output.is_object() || !st.output.contains("files")) continue;
      const Json& p = st.output;
      int errors = 0, warnings = 0;
      for (const auto& f : p["findings"]) {
        errors += f["severity"] == "error";
        warnings += f["severity"] == "warning";
      }
      std::cout << "\n"
                << term.Bold("Plan") << " (" << p["target"].get<std::string>() << "/"
                << p["env"].get<std::string>() << "): " << p["files"].size() << " file(s), "
                << p["findings"].size() << " finding(s) (" << errors << " error(s), " << warnings
                << " warning(s)); stored as artifacts of run " << u.blueprint->run.id << "\n";
      for (const auto& f : p["files"]) std::cout << "  " << f["path"].get<std::string>() << "\n";
      std::cout << term.Dim("  'prodsprint plan " + path +
                            "' writes them to a folder and lists the findings")
                << "\n";
    }
  }
  if (u.apply) {
    for (const auto& st : u.apply->stages) {
      if (st.name != "apply" || !st.output.is_object() || !st.output.contains("services")) continue;
      std::cout << "\n"
                << term.Bold("Staging") << " (local): version "
                << st.output.value("version", "").substr(0, 12) << "\n";
      for (const auto& svc : st.output["services"]) {
        std::cout << "  " << svc.value("service", "") << "  " << svc.value("action", "") << "  "
                  << term.Cyan(svc.value("url", "(worker)")) << "\n";
      }
      std::cout << term.Dim("  'prodsprint status " + path + "' shows it; 'prodsprint down " +
                            path + "' stops it")
                << "\n";
    }
  } else if (!apply) {
    std::cout << "\n"
              << term.Dim("'prodsprint up " + path +
                          " --apply' also runs it as local staging (prodsprint apply)")
              << "\n";
  }
  if (u.security.is_object()) PrintSecurityGate(term, u.security, u.readiness->run.id, path);
  if (u.tests.is_object()) PrintTestGate(term, u.tests, u.readiness->run.id);
  if (u.performance.is_object()) PrintPerfGate(term, u.performance, u.readiness->run.id);
  if (u.checklist.is_object()) PrintChecklist(term, u.checklist);
  if (u.release_kind == "release" && u.release_out.is_object()) {
    PrintRelease(term, u.release_out, "production");
  } else if (u.release_kind == "first deploy" && u.release_out.is_object()) {
    std::cout << "\n"
              << term.Bold("Production") << " (local): first version "
              << u.release_out.value("version", "").substr(0, 12) << "\n";
    for (const auto& svc : u.release_out.value("services", Json::array())) {
      std::cout << "  " << svc.value("service", "") << "  " << svc.value("action", "") << "  "
                << term.Cyan(svc.value("url", "(worker)")) << "\n";
    }
  }
  if (!u.outcome.empty()) {
    const bool good = u.ok();
    std::cout << "\n" << (good ? term.Green(u.outcome) : term.Red(u.outcome)) << "\n";
  }
  if (u.report && u.report->files) {
    std::cout << term.Dim("Report: " + u.report->files->markdown.string() + "\n        " +
                          u.report->files->html.string())
              << "\n";
  }
  if (u.report) {
    for (const auto& p : u.report->problems)
      std::cerr << "warning: the report was not stored whole: " << p << "\n";
  }
  if (u.run.status == store::RunStatus::kError) {
    // Which stage, why, and how to go on.
    std::string failed_stage;
    if (auto fd = service::LoadDetail(app, s.tenant, u.run.id); fd.ok()) {
      for (const auto& st : fd->stages) {
        if (st.status == store::StageStatus::kError) failed_stage = st.name;
      }
    }
    std::cout << term.Red("The pipeline stopped at the " +
                          std::string(store::ToString(u.run.kind)) + " run" +
                          (failed_stage.empty() ? "" : ", stage '" + failed_stage + "'"))
              << "\n";
    auto prob = Problem::FromJson(u.run.error);
    if (prob) PrintProblem(*prob, false);
    std::cout << "details: prodsprint run show " << u.run.id << "\n"
              << "to resume: fix the cause and run 'prodsprint up " << path
              << (apply ? " --apply" : "") << (ref.empty() ? "" : " --ref " + ref)
              << "' again; with the same source, the failed run resumes from its failed stage "
                 "(finished stages are not redone)\n";
  }
  return u.ok() ? kExitOk : kExitFailed;
}

}  // namespace

void RegisterUp(Commands& commands) {
  auto args = std::make_shared<UpArgs>();
  auto json = std::make_shared<bool>(false);
  auto* up = commands.app().add_subcommand(
      "up",
      "ProdSprint's main job (docs/UP.md). Registers the repository as a project, audits it and\n"
      "plans it; with --apply, runs the version as local staging, runs the readiness gates there\n"
      "(security, tests with the smoke routes, performance against the baseline) and, when the\n"
      "checklist is ready, releases it to local production: the first version by an apply, later\n"
      "ones as a canary (the traffic split shown live) that rolls back by itself when worse. Ends\n"
      "with a summary and a report (Markdown and HTML) in the state folder's reports/. A failed\n"
      "run is resumed from its failed stage by the next up with the same source. Exit 1 when a\n"
      "run fails, the checklist is not ready, or the release was rolled back.");
  up->add_option("PATH", args->path, "The repository's folder")->required();
  up->add_flag("--json", *json, "Print the run, its stages and results as JSON");
  up->add_option("--workers", args->workers, "Worker threads (default: engine.workers)")
      ->check(CLI::Range(1, 64));
  up->add_flag("--apply", args->apply,
               "The whole pipeline: run the version as local staging (supervised processes behind "
               "HAProxy), run the gates there, then release it to local production (the first "
               "time an apply, then a canary that rolls back by itself) and write the report");
  up->add_option("--ref", args->ref,
                 "The git revision to deploy, check and release (default HEAD)");
  const Options& o = commands.options();
  commands.Add(
      up, [&o, args, json] { return CmdUp(o, *args, *json); }, json);
}

}  // namespace ps::cli
