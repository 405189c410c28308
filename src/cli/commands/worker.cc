// `prodsprint worker`: serve the state store's runs until stopped.
#include <iostream>
#include <thread>

#include "cli/command.h"
#include "engine/worker_pool.h"

namespace ps::cli {
namespace {

Result<int> CmdWorker(const Options& o, int workers, bool until_idle) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  if (workers > 0) s->config.engine.workers = workers;
  engine::WorkerPool pool(*s->engine, s->config.engine.workers, engine::ProcessWorkerId());
  pool.Start();
  std::cerr << "serving " << s->store->Describe() << " with " << s->config.engine.workers
            << " worker(s); Ctrl-C stops after the current stages\n";
  int idle_checks = 0;
  while (!g_interrupted) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!until_idle) continue;
    // Idle: nothing ready, running, or waiting for its backoff.
    auto app = s->App();
    const auto work = service::HasWork(app, s->tenant);
    const bool busy = !work.ok() || *work;
    if (work.ok() && !busy && ++idle_checks >= 2) break;
    if (busy) idle_checks = 0;
  }
  pool.Stop();
  return g_interrupted ? kExitInterrupted : kExitOk;
}

}  // namespace

void RegisterWorker(Commands& commands) {
  struct Args {
    int workers = 0;
    bool until_idle = false;
  };
  auto a = std::make_shared<Args>();
  auto* worker = commands.app().add_subcommand(
      "worker",
      "Serve the state store's runs with worker threads until stopped (Ctrl-C finishes the\n"
      "current stages first). Several workers, in several processes, may share one store.");
  worker->add_option("--workers", a->workers, "Worker threads (default: engine.workers)")
      ->check(CLI::Range(1, 64));
  worker->add_flag("--until-idle", a->until_idle, "Exit once no run has work left");
  const Options& o = commands.options();
  commands.Add(worker, [&o, a] { return CmdWorker(o, a->workers, a->until_idle); });
}

}  // namespace ps::cli
