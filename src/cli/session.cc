// The state a command opens, and driving runs to their end (session.h).
#include "cli/session.h"

#include <iostream>
#include <thread>

#include <unistd.h>

#include "cli/backends.h"
#include "core/fs.h"
#include "core/ids.h"
#include "engine/worker_pool.h"
#include "service/pipelines.h"
#include "store/backends.h"
#include "store/model_json.h"
#include "store/tenancy.h"

namespace ps::cli {

using store::Run;
using store::RunStatus;
using store::Tenant;
using store::Tx;

std::atomic<bool> g_interrupted{false};

Problem Interrupted() {
  return Problem::Make("interrupted", "Interrupted", 499,
                       "stopped by a signal; the run is kept and continues with "
                       "'prodsprint worker' or the same command again");
}

// Opens the state. `default_config` is the prodsprint.yaml to read when
// --config is not given; `create` makes the state folder and tenant if absent.
Result<std::unique_ptr<Session>> OpenSession(const Options& o, const fs::path& default_config,
                                             bool create) {
  auto s = std::make_unique<Session>();
  std::error_code ec;
  fs::path config_path = o.config.empty() ? default_config : fs::path(o.config);
  if (!o.config.empty() && !fs::exists(config_path, ec)) {
    return problems::NotFound("configuration file", o.config);
  }
  PS_ASSIGN(s->config, LoadConfig(config_path.string(), o.config.empty()));
  s->state_dir = o.state.empty() ? fs::path(s->config.state_dir) : fs::path(o.state);
  s->state_dir = fs::absolute(s->state_dir, ec);
  const fs::path db_path = s->state_dir / "state.db";
  if (!create && !fs::exists(db_path, ec)) {
    return problems::NotFound("ProdSprint state", s->state_dir.string())
        .With("hint", "run 'prodsprint up PATH' first, or point --state at an existing state");
  }
  PS_TRY(EnsurePrivateDir(s->state_dir));
  RegisterBackends();
  PS_ASSIGN(s->store, store::OpenStore("sqlite:" + db_path.string()));
  s->artifacts = std::make_unique<artifacts::FsArtifactStore>(s->state_dir / "artifacts");
  s->targets = std::make_shared<targets::Targets>();
  service::RegisterBuiltinStages(s->registry, s->targets);
  auto& clock = SystemClock::Instance();
  auto& random = SystemRandom::Instance();
  if (create) {
    PS_ASSIGN(s->tenant, store::EnsureTenant(*s->store, o.org, o.workspace, clock, random));
  } else {
    PS_ASSIGN(s->tenant, store::FindTenant(*s->store, o.org, o.workspace));
  }
  InstallTargets(*s->targets, s->state_dir);
  s->log = Logger::Stderr(s->config.log_format, s->config.log_level)
               .With({{"org", s->tenant.org_id}, {"workspace", s->tenant.workspace_id}});
  s->engine = std::make_unique<engine::Engine>(
      engine::EngineDeps{*s->store, *s->artifacts, s->registry, clock, random, s->log, s->config,
                         s->state_dir / "logs", true, engine::LocalOwnerAlive});
  return s;
}

// One progress line per event (stderr), for humans.
void PrintEvent(const Term& t, const store::Event& e) {
  const auto& p = e.payload;
  const std::string stage = p.value("stage", "");
  std::string line;
  if (e.name == "stage.started") {
    line =
        t.Cyan("▸ ") + t.Bold(stage) + t.Dim("  attempt " + std::to_string(p.value("attempt", 0)));
  } else if (e.name == "stage.done") {
    line = t.Green("✓ ") + t.Bold(stage) + "  done in " + HumanDuration(p.value("duration_ms", 0));
  } else if (e.name == "stage.progress") {
    line = t.Dim("  " + stage + "  " +
                 std::to_string(static_cast<int>(p.value("fraction", 0.0) * 100)) + "%  " +
                 p.value("message", ""));
  } else if (e.name == "stage.retrying") {
    const auto prob = Problem::FromJson(p.value("problem", Json::object()));
    line = t.Yellow("↻ ") + t.Bold(stage) + "  attempt " + std::to_string(p.value("attempt", 0)) +
           " " + p.value("outcome", "") + (prob ? " (" + prob->Message() + ")" : "") +
           "; retrying in " + HumanDuration(p.value("delay_ms", 0));
  } else if (e.name == "error.stage_failed") {
    const auto prob = Problem::FromJson(p.value("problem", Json::object()));
    line = t.Red("✗ ") + t.Bold(stage) + "  failed after attempt " +
           std::to_string(p.value("attempt", 0)) + (prob ? ": " + prob->Message() : "");
  } else if (e.name == "run.cancelled") {
    line = t.Yellow("■ ") + "run cancelled by " + p.value("by", "?");
  } else if (e.name == "run.retried") {
    line = t.Cyan("↻ ") + "run replayed from its dead letters";
  } else if (e.name.rfind("run.", 0) == 0) {
    return;  // the summary says how the run ended
  } else {
    line = t.Cyan("• ") + e.name;
  }
  std::cerr << line << std::endl;
}

// Runs workers in this process until the run finishes, printing progress.
Result<Run> DriveRun(Session& s, const std::string& run_id, bool progress,
                     const std::function<void()>& on_interrupt) {
  const Term term = Term::Detect();
  auto app = s.App();
  // Only new events: a resumed run's history was printed before. The same
  // cursor as `events --after` and the API's Last-Event-ID.
  PS_ASSIGN(std::int64_t seq, service::LatestEvent(app, s.tenant, run_id));
  engine::WorkerPool pool(*s.engine, s.config.engine.workers, engine::ProcessWorkerId());
  pool.Start();
  Run run;
  bool interrupted = false;
  while (true) {
    // The run first, then its events: a run read as finished has every
    // event it will ever have committed, so none is missed on the way out.
    auto now = service::ResolveRun(app, s.tenant, run_id);
    auto page = now.ok() ? service::EventsAfter(app, s.tenant, seq, run_id, 500)
                         : Result<service::EventPage>(now.problem());
    if (!page.ok()) {
      if (page.problem().Is("store-busy")) continue;
      pool.Stop();
      return std::move(page).problem();
    }
    run = *now;
    const auto& events = page->events;
    seq = page->next;
    if (progress) {
      for (const auto& e : events) PrintEvent(term, e);
    }
    if (Finished(run.status) && events.empty()) break;
    // The run cannot record its progress (a full disk, a read-only state):
    // its stages end themselves (a release rolls out its candidate: that
    // needs no disk), and the cause is said, not waited on.
    if (auto failure = pool.Failure()) {
      s.engine->InterruptRunningStages();
      pool.Stop();
      Problem p = *failure;
      p.detail =
          "the run could not record its progress, so it was stopped (a release rolls its "
          "new version out first): " +
          p.detail;
      return p;
    }
    if (g_interrupted) {
      interrupted = true;
      // A run with its own way to stop (a release aborts) ends its stage
      // itself; any other stage is abandoned, to run again on resume.
      if (on_interrupt) {
        on_interrupt();
      } else {
        s.engine->AbandonRunningStages();
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  pool.Stop();
  if (interrupted) return Interrupted();
  return run;
}

Result<fs::path> RepoFolder(const std::string& path) {
  std::error_code ec;
  fs::path repo = fs::weakly_canonical(fs::absolute(path.empty() ? "." : path, ec), ec);
  if (ec || !fs::is_directory(repo, ec)) {
    return problems::InvalidInput("'" + path + "' is not a folder (give the repository's path)");
  }
  return repo;
}

Result<ProjectSession> OpenProject(const Options& o, const std::string& path, bool create) {
  ProjectSession p;
  PS_ASSIGN(p.repo, RepoFolder(path));
  PS_ASSIGN(p.session, OpenSession(o, p.repo / "prodsprint.yaml", create));
  auto app = p.session->App();
  PS_ASSIGN(p.project, service::EnsureProject(app, p.session->tenant, Who(), p.repo.string()));
  return p;
}

service::App Session::App() {
  return service::App{config,
                      *store,
                      *artifacts,
                      *engine,
                      *targets,
                      SystemClock::Instance(),
                      SystemRandom::Instance(),
                      state_dir};
}

service::Actor Who() {
  const char* user = std::getenv("USER");
  return {std::string("cli:") + (user && *user ? user : std::to_string(getuid()))};
}

service::Drive Driver(Session& s, bool progress) {
  return [&s, progress](const std::string& run_id, const std::function<void()>& on_interrupt) {
    return DriveRun(s, run_id, progress, on_interrupt);
  };
}

}  // namespace ps::cli
