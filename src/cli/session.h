// What commands share: the options every command takes, the state a command
// opens (store, artifacts, engine, tenant), and driving a run to its end in
// this process with progress on the terminal.
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
#include "store/store.h"
#include "targets/target.h"

namespace ps::cli {

namespace fs = std::filesystem;

// Set by SIGINT/SIGTERM; long commands stop when it turns true.
extern std::atomic<bool> g_interrupted;
Problem Interrupted();

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
};

// Opens the state. `default_config` is the prodsprint.yaml to read when
// --config is not given; `create` makes the state folder and tenant if absent.
Result<std::unique_ptr<Session>> OpenSession(const Options& o, const fs::path& default_config,
                                             bool create);
// Creates a run of `kind` for the project. Its input records the project's
// settings as configured now (input.settings: policy, release, deploy), so
// that whichever process runs its stages reads the same ones.
Result<store::Run> SubmitRun(Session& s, const store::Project& project, store::RunKind kind,
                             Json input);
// `input` with the settings a run of it records (what SubmitRun adds).
Json WithSettings(const Session& s, Json input);
// Resolves a run id or a unique prefix of one.
Result<store::Run> ResolveRun(Session& s, const std::string& id);
bool Finished(store::RunStatus s);
// One progress line per event (stderr), for humans.
void PrintEvent(const Term& t, const store::Event& e);
// Runs workers in this process until the run finishes, printing progress.
// On SIGINT/SIGTERM `on_interrupt` (if any) runs before the workers are
// stopped, which waits for the running stages to end.
Result<store::Run> DriveRun(Session& s, const std::string& run_id, bool progress,
                            const std::function<void()>& on_interrupt = {});

struct RunDetail {
  store::Run run;
  store::Project project;
  std::vector<store::StageRow> stages;
  std::vector<store::AttemptRow> attempts;
  std::vector<store::DeadLetter> dead_letters;
  std::vector<store::Artifact> artifacts;
};

Result<RunDetail> LoadDetail(Session& s, const std::string& run_id);
Json DetailJson(const RunDetail& d);
Millis RunDuration(const store::Run& r);
// The environment `env` of a project, as the targets name it.
targets::EnvRef EnvRefOf(const Session& s, const store::Project& project, const std::string& env);
// PATH as given on the command line, made absolute and canonical; a Problem
// (invalid input) when it is not a folder.
Result<fs::path> RepoFolder(const std::string& path);
// The project of the repository at `repo`, registered on first use.
Result<store::Project> EnsureProject(Session& s, const fs::path& repo);

}  // namespace ps::cli
