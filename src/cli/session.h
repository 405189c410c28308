// What commands share: the options every command takes, the state a command
// opens (store, artifacts, targets, engine, tenant: the application layer's
// App), who is acting, and driving a run to its end in this process with
// progress on the terminal.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "artifacts/artifact_store.h"
#include "cli/output.h"
#include "core/config.h"
#include "engine/engine.h"
#include "service/app.h"
#include "service/projects.h"
#include "service/runs.h"
#include "store/store.h"
#include "targets/target.h"

namespace ps::cli {

namespace fs = std::filesystem;

using service::DetailJson;
using service::Finished;
using service::RunDetail;
using service::RunDuration;

// Set by SIGINT/SIGTERM; long commands stop when it turns true.
extern std::atomic<bool> g_interrupted;
Problem Interrupted();

// The flags every command takes.
struct Options {
  std::string state;
  std::string config;
  std::string org = "default";
  std::string workspace = "default";
};

// Everything a command needs once the state is open.
struct Session {
  Config config;
  fs::path state_dir;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<artifacts::FsArtifactStore> artifacts;
  // Where environments run (targets/target.h): the stages' and the
  // commands' one way to them.
  std::shared_ptr<targets::Targets> targets;
  engine::StageRegistry registry;
  store::Tenant tenant;
  Logger log = Logger::Null();
  std::unique_ptr<engine::Engine> engine;
  // The application layer's view of this state.
  service::App App();
};

// Opens the state. `default_config` is the prodsprint.yaml to read when
// --config is not given; `create` makes the state folder and tenant if absent.
Result<std::unique_ptr<Session>> OpenSession(const Options& o, const fs::path& default_config,
                                             bool create);
// Who acts from this command line: "cli:$USER".
service::Actor Who();
// One progress line per event (stderr), for humans.
void PrintEvent(const Term& t, const store::Event& e);
// Runs workers in this process until the run finishes, printing progress.
// On SIGINT/SIGTERM `on_interrupt` (if any) runs before the workers are
// stopped, which waits for the running stages to end.
Result<store::Run> DriveRun(Session& s, const std::string& run_id, bool progress,
                            const std::function<void()>& on_interrupt = {});
// DriveRun as the application layer's Drive.
service::Drive Driver(Session& s, bool progress);

// PATH as given on the command line, made absolute and canonical; a Problem
// (invalid input) when it is not a folder.
Result<fs::path> RepoFolder(const std::string& path);

// A command on a repository: the state opened, the repository's project
// (registered on first use).
struct ProjectSession {
  std::unique_ptr<Session> session;
  fs::path repo;
  store::Project project;
};
Result<ProjectSession> OpenProject(const Options& o, const std::string& path, bool create);

}  // namespace ps::cli
