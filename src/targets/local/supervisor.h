// The local target's process supervisor. A small daemon per environment
// (`prodsprint __supervise DIR`) owns the environment's processes — the
// service instances, HAProxy, PostgreSQL, Redis — so they outlive the command
// that started them. It reads the desired set from DIR/desired.json whenever
// the file changes and reconciles: starts what is missing, stops (SIGTERM,
// then SIGKILL after the grace period) what was removed or changed, restarts
// what crashed with exponential backoff (0.5 s doubling to 30 s; reset after
// 10 s up), and probes health (HTTP path or TCP). It writes what is true to
// DIR/state.json after every change. One daemon per folder (flock).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/problem.h"

namespace ps::targets::local {

struct HealthCheck {
  std::string kind = "none";  // "http", "tcp" or "none"
  int port = 0;
  std::string path = "/";
};

struct ProcessSpec {
  std::string name;  // unique in the environment
  std::vector<std::string> argv;
  std::string cwd;
  std::map<std::string, std::string> env;
  std::string log;           // stdout+stderr appended here
  std::string run_as;        // user to run as when root (PostgreSQL)
  std::string secrets_file;  // resolves the env's "${secret:NAME}" at each start
  HealthCheck health;
  Millis stop_grace_ms = 10'000;
  // A process that reloads in place (HAProxy's master): when only
  // `reload_key` changes, it gets `reload_signal` instead of a restart.
  int reload_signal = 0;
  std::string reload_key;

  Json ToJson() const;
  static Result<ProcessSpec> FromJson(const Json& j);
  // Identity of what runs: a changed spec means stop the old, start the new.
  std::string Fingerprint() const;
};

struct ProcessStatus {
  std::string name;
  pid_t pid = 0;
  std::string state;  // "running", "backoff", "stopped"
  bool healthy = false;
  int restarts = 0;
  std::string last_exit;  // "exit 1", "killed by SIGKILL"
  Millis started_at = 0, healthy_since = 0, next_start_at = 0;
  std::uint64_t start_ticks = 0;  // /proc start time, to recognise the pid later

  Json ToJson() const;
  static ProcessStatus FromJson(const Json& j);
};

// The reconciliation logic, without the daemon around it (tests drive it).
class Supervisor {
 public:
  explicit Supervisor(Clock& clock) : clock_(clock) {}
  ~Supervisor();
  // Starts, stops and restarts to match `specs`. Stops run in parallel.
  void SetDesired(std::vector<ProcessSpec> specs);
  // Reaps exits, restarts what is due, probes health. Call often (~50 ms).
  // True if anything visible changed.
  bool Tick();
  void StopAll();
  std::vector<ProcessStatus> Status() const;

 private:
  struct Entry {
    ProcessSpec spec;
    std::string fingerprint;
    ProcessStatus status;
    int consecutive_failures = 0;
    Millis next_probe_at = 0;
  };
  void Start(Entry& e);

  Clock& clock_;
  std::map<std::string, Entry> entries_;
};

// The daemon's main loop; returns its exit code. Detaches from the caller's
// terminal first when `detach`.
int RunSupervisorDaemon(const std::filesystem::path& dir);

// What commands use to talk to an environment's daemon.
class SupervisorClient {
 public:
  SupervisorClient(std::filesystem::path dir, std::string executable)
      : dir_(std::move(dir)), exe_(std::move(executable)) {}
  bool Running() const;
  // Starts the daemon unless it runs; waits until it answers.
  Status Ensure(Millis timeout_ms = 5000);
  // Replaces the desired set and waits until the daemon has acted on it.
  Status Apply(const std::vector<ProcessSpec>& specs, Millis timeout_ms = 30'000);
  // The desired set last written (empty if none).
  std::vector<ProcessSpec> Desired() const;
  Result<std::vector<ProcessStatus>> Read() const;
  // Waits until `name` is running and healthy; a Problem with the log's tail
  // if it exits for good or `timeout_ms` passes.
  Status WaitHealthy(const std::string& name, Millis timeout_ms) const;
  // Stops every process and the daemon.
  Status Shutdown(Millis timeout_ms = 30'000);
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::string exe_;
};

}  // namespace ps::targets::local
