// `prodsprint logs`: a run's stage logs, followed until it ends.
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <thread>

#include "cli/command.h"

namespace ps::cli {
namespace {

Result<int> CmdLogs(const Options& o, const std::string& id, bool follow,
                    const std::string& only_stage) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  auto app = s->App();
  PS_ASSIGN(store::Run run, service::ResolveRun(app, s->tenant, id));
  const Term t = Term::Detect();
  std::map<std::string, std::uint64_t> offsets;  // log file -> bytes printed
  std::string current;                           // the file whose lines were printed last
  while (true) {
    PS_ASSIGN(auto logs, service::StageLogs(app, s->tenant, run.id));
    PS_ASSIGN(run, service::ResolveRun(app, s->tenant, run.id));
    bool any_running = false;
    for (const auto& a : logs) {
      any_running = any_running || a.running;
      if (!only_stage.empty() && a.stage != only_stage) continue;
      const fs::path path = a.path;
      std::ifstream in(path, std::ios::binary);
      if (!in) continue;
      auto& off = offsets[path.string()];
      in.seekg(static_cast<std::streamoff>(off));
      std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      // Print whole lines only; a partial last line waits for its end.
      auto end = chunk.rfind('\n');
      if (end == std::string::npos) continue;
      chunk.resize(end + 1);
      if (current != path.string()) {
        std::cout << t.Bold("==> " + a.stage + " attempt " + std::to_string(a.attempt) + " <==")
                  << "\n";
        current = path.string();
      }
      std::cout << chunk << std::flush;
      off += chunk.size();
    }
    if (!follow || (Finished(run.status) && !any_running) || g_interrupted) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (offsets.empty() && !follow) std::cerr << "no logs for run " << run.id << " yet\n";
  return kExitOk;
}

}  // namespace

void RegisterLogs(Commands& commands) {
  struct Args {
    std::string run_id, stage;
    bool follow = false;
  };
  auto a = std::make_shared<Args>();
  auto* logs = commands.app().add_subcommand("logs", "Print the stage logs of a run");
  logs->add_option("RUN", a->run_id, "Run id or a unique prefix of it")->required();
  logs->add_flag("-f,--follow", a->follow, "Keep printing new lines until the run ends");
  logs->add_option("--stage", a->stage, "Only this stage");
  const Options& o = commands.options();
  commands.Add(logs, [&o, a] { return CmdLogs(o, a->run_id, a->follow, a->stage); });
}

}  // namespace ps::cli
