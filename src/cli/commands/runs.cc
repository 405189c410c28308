// `prodsprint runs`: list runs, or show, retry and cancel one.
#include <iostream>
#include <map>

#include "cli/command.h"
#include "cli/print.h"
#include "store/model_json.h"

namespace ps::cli {
namespace {

using store::Run;
using store::RunStatus;

struct RunsArgs {
  std::string run_id, project;
  int limit = 50;
  bool no_wait = false;
};

Result<int> CmdRunsList(const Options& o, bool json, int limit, const std::string& project) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  auto app = s->App();
  PS_ASSIGN(auto runs, service::ListRuns(app, s->tenant, project, limit));
  PS_ASSIGN(auto projects, service::ListProjects(app, s->tenant));
  std::map<std::string, std::string> names;
  for (const auto& p : projects) names[p.id] = p.name;
  if (json) {
    Json arr = Json::array();
    for (const auto& r : runs) arr.push_back(store::ToJson(r));
    std::cout << Dump(arr, 2) << std::endl;
    return kExitOk;
  }
  if (runs.empty()) {
    std::cout << "no runs yet: 'prodsprint up PATH' starts one\n";
    return kExitOk;
  }
  const Term t = Term::Detect();
  std::vector<std::vector<std::string>> rows = {{t.Bold("RUN"), t.Bold("KIND"), t.Bold("STATUS"),
                                                 t.Bold("STAGE"), t.Bold("PROJECT"),
                                                 t.Bold("CREATED"), t.Bold("DURATION")}};
  for (const auto& r : runs) {
    rows.push_back({r.id, std::string(store::ToString(r.kind)),
                    t.Status(std::string(store::ToString(r.status))), r.stage, names[r.project_id],
                    FormatTime(r.created_at), HumanDuration(RunDuration(r))});
  }
  std::cout << Table(rows);
  return kExitOk;
}

Result<int> CmdRunShow(const Options& o, const std::string& id, bool json) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  auto app = s->App();
  PS_ASSIGN(Run run, service::ResolveRun(app, s->tenant, id));
  PS_ASSIGN(RunDetail d, service::LoadDetail(app, s->tenant, run.id));
  if (json) {
    std::cout << Dump(DetailJson(d), 2) << std::endl;
  } else {
    PrintDetail(Term::Detect(), *s, d);
  }
  return kExitOk;
}

Result<int> CmdRunsCancel(const Options& o, const std::string& id, bool json) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  auto app = s->App();
  PS_ASSIGN(Run run, service::ResolveRun(app, s->tenant, id));
  PS_TRY(service::Cancel(app, s->tenant, Who(), run.id));
  PS_ASSIGN(RunDetail d, service::LoadDetail(app, s->tenant, run.id));
  if (json) {
    std::cout << Dump(DetailJson(d), 2) << std::endl;
  } else {
    std::cout << "run " << run.id << " cancelled";
    bool running = false;
    for (const auto& st : d.stages) running = running || st.status == store::StageStatus::kRunning;
    if (running) std::cout << "; running stages stop at their next heartbeat";
    std::cout << "\n";
  }
  return kExitOk;
}

Result<int> CmdRunsRetry(const Options& o, const std::string& id, bool json, bool wait) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  auto app = s->App();
  PS_ASSIGN(Run run, service::ResolveRun(app, s->tenant, id));
  PS_TRY(service::Retry(app, s->tenant, Who(), run.id));
  if (!json) std::cerr << "run " << run.id << " replayed from its dead letters\n";
  if (wait) {
    PS_ASSIGN(run, DriveRun(*s, run.id, !json));
  }
  PS_ASSIGN(RunDetail d, service::LoadDetail(app, s->tenant, run.id));
  if (json) {
    std::cout << Dump(DetailJson(d), 2) << std::endl;
  } else if (wait) {
    std::cout << "run " << run.id << " "
              << Term::Detect().Status(std::string(store::ToString(d.run.status))) << "\n";
  }
  if (!wait) return kExitOk;
  return d.run.status == RunStatus::kDone ? kExitOk : kExitFailed;
}

}  // namespace

void RegisterRuns(Commands& commands) {
  auto a = std::make_shared<RunsArgs>();
  auto json = std::make_shared<bool>(false);
  auto* runs = commands.app().add_subcommand("runs", "List runs, or show, retry and cancel one");
  runs->alias("run");
  runs->require_subcommand(0, 1);
  runs->add_flag("--json", *json, "Machine-readable output");
  runs->add_option("--limit", a->limit, "How many runs, newest first")->check(CLI::Range(1, 10000));
  runs->add_option("--project", a->project, "Only runs of this project id");
  auto* list = runs->add_subcommand("list", "List runs, newest first (the default)");
  list->add_flag("--json", *json, "Machine-readable output");
  list->add_option("--limit", a->limit, "How many runs")->check(CLI::Range(1, 10000));
  list->add_option("--project", a->project, "Only runs of this project id");
  auto* show =
      runs->add_subcommand("show", "Show a run: its stages, attempts, dead letters and artifacts");
  show->add_option("RUN", a->run_id, "Run id or a unique prefix of it")->required();
  show->add_flag("--json", *json, "Machine-readable output");
  auto* retry = runs->add_subcommand(
      "retry",
      "Replay a failed or cancelled run from its dead letters: failed and cancelled stages get\n"
      "a fresh budget of attempts, finished stages are kept. Runs the workers until it ends.");
  retry->add_option("RUN", a->run_id, "Run id or a unique prefix of it")->required();
  retry->add_flag("--json", *json, "Machine-readable output");
  retry->add_flag("--no-wait", a->no_wait,
                  "Only mark the run for replay; 'prodsprint worker' runs it");
  auto* cancel = runs->add_subcommand(
      "cancel",
      "Cancel a run: waiting stages never start, running ones stop at their next heartbeat");
  cancel->add_option("RUN", a->run_id, "Run id or a unique prefix of it")->required();
  cancel->add_flag("--json", *json, "Machine-readable output");
  const Options& o = commands.options();
  commands.Add(
      runs,
      [&o, a, json, show, retry, cancel]() -> Result<int> {
        if (show->parsed()) return CmdRunShow(o, a->run_id, *json);
        if (retry->parsed()) return CmdRunsRetry(o, a->run_id, *json, !a->no_wait);
        if (cancel->parsed()) return CmdRunsCancel(o, a->run_id, *json);
        return CmdRunsList(o, *json, a->limit, a->project);
      },
      json);
}

}  // namespace ps::cli
