// The local target: an environment (staging, production...) of one project
// on this machine. Its folder holds the release folders, logs, secrets, the
// HAProxy configuration and env.json — which versions run where, on which
// ports, with which weights. Processes belong to the environment's
// supervisor daemon (supervisor.h), so they outlive the command.
//
// Each service has two colours of instance slots behind its HAProxy
// frontend. The stable colour serves; a release starts the other colour
// beside it ("the candidate"), moves weight with the runtime API, and either
// promotes it (the old colour drains and stops, or stays warm for blue/green)
// or rolls it back (weight 0 at once, drain, stop).
//
// Every operation takes the environment's lock: two commands never change
// one environment at once.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/problem.h"
#include "targets/local/haproxy.h"
#include "targets/local/supervisor.h"
#include "targets/target.h"

namespace ps::targets::local {

using targets::BackingInfo;
using targets::Health;
using targets::ProgressFn;
using targets::ServiceRun;
using targets::Serving;

class LocalEnvironment final : public targets::Environment {
 public:
  // `dir`: the environment's folder; `executable`: the prodsprint binary
  // (runs the supervisor daemon).
  static Result<LocalEnvironment> Open(std::filesystem::path dir, std::string executable,
                                       std::string project, std::string env);
  LocalEnvironment(LocalEnvironment&&) noexcept;
  LocalEnvironment& operator=(LocalEnvironment&&) noexcept;
  ~LocalEnvironment() override;

  // Holds the environment for one operation; a Problem (409) if another
  // command holds it.
  Status Lock(const std::string& operation) override;

  const std::filesystem::path& dir() const { return dir_; }
  // How long a starting instance may take to become healthy (default 60 s).
  void set_health_timeout(Millis ms) override { health_timeout_ = ms; }
  std::filesystem::path ReleaseDir(const std::string& commit) const override;
  std::filesystem::path LogDir() const override { return dir_ / "logs"; }
  std::filesystem::path DataDir() const override { return dir_; }
  // Secrets generated once per environment and name (random, mode 600).
  Result<std::string> Secret(const std::string& name) override;
  // The environment's secrets (0600): what "${secret:NAME}" references resolve from.
  std::string SecretsFile() const override { return (dir_ / "secrets.json").string(); }

  // Starts (once) a PostgreSQL or Redis server for the environment; for
  // PostgreSQL also a database and role for `service`.
  Result<BackingInfo> EnsureBacking(const std::string& name, const std::string& service) override;

  // Makes `runs` the stable version of their services: a service not
  // running yet starts; one running another version is replaced (the new
  // colour starts, becomes healthy, takes all traffic, the old drains and
  // stops); one already running this exact spec is left alone. Services of
  // the environment not in `runs` are left as they are. Returns what it did.
  Result<Json> Deploy(const std::vector<ServiceRun>& runs, const ProgressFn& progress) override;

  // --- releases ----------------------------------------------------------
  // Starts `run` as the candidate beside the stable version (weight 0).
  Status StartCandidate(const ServiceRun& run, const ProgressFn& progress) override;
  // The candidate's share of the service's traffic, 0..100, applied at once.
  Status SetCandidateWeight(const std::string& service, int percent) override;
  // The candidate becomes stable; the old version drains and stops unless
  // `keep_old_warm` (blue/green: it stays running at weight 0).
  Status PromoteCandidate(const std::string& service, bool keep_old_warm) override;
  // Weight 0 at once, then drain and stop the candidate.
  Status RollbackCandidate(const std::string& service) override;
  // Switches a blue/green service back to its warm previous version.
  Status SwitchBack(const std::string& service);
  // Puts every service back on the version it ran before its last change:
  // an instant switch when that version is still warm, else a redeploy of
  // its (already built) release folder. Returns what it did per service.
  Result<Json> RollbackToPrevious(const ProgressFn& progress) override;
  // The run that served a service before its last change (its release
  // folder already prepared), if the environment remembers one.
  std::optional<ServiceRun> PreviousRun(const std::string& service) const override;
  // Whether the candidate's instances are all running and healthy, and how
  // many restarts they had.
  Health CandidateHealth(const std::string& service) const override;
  // Per-request outcomes from HAProxy's request log.
  Status OpenRequests() override;
  std::vector<targets::RequestOutcome> ReadRequests(Millis max_wait_ms) override;
  // Server-name colour of a request-log record: "stable", "candidate" or "".
  std::string RoleOfServer(const std::string& service, const std::string& server) const;

  // --- reading ------------------------------------------------------------
  Json Describe() const override;  // env.json plus live process state
  const Json& state() const { return state_; }
  std::string request_log_socket() const;
  int FrontendPort(const std::string& service) const override;
  std::vector<std::string> Services() const override;
  std::optional<Serving> Stable(const std::string& service) const override;
  std::optional<Serving> Candidate(const std::string& service) const override;
  // Stops every process of the environment and its supervisor.
  Status Down() override;

 private:
  LocalEnvironment() = default;
  Status Save();
  Status EnsureRouter(const ProgressFn& progress);
  std::vector<ProcessSpec> DesiredSpecs() const;
  RouterConfig Router() const;
  Status ApplyProcesses();
  Result<int> AllocatePort();
  Status StartColour(const std::string& service, const std::string& colour, const ServiceRun& run,
                     const ProgressFn& progress);
  Status StopColour(const std::string& service, const std::string& colour, bool drain);
  Status ApplyWeights(const std::string& service);
  std::string SocketPath(const std::string& name) const;

  std::filesystem::path dir_;
  std::string exe_;
  int lock_fd_ = -1;
  Millis health_timeout_ = 60'000;
  Json state_;
  std::optional<SupervisorClient> sup_;
  std::unique_ptr<RequestLogReader> requests_;
  std::optional<Serving> ColourOf(const std::string& service, const char* role) const;
};

// Whether a command holds the environment's lock, and which ("release (pid 12)").
std::optional<std::string> LockHolder(const std::filesystem::path& env_dir);

// The folder where sockets live: `dir` when paths fit in a socket address,
// else a short folder under /tmp derived from it.
std::filesystem::path SocketDir(const std::filesystem::path& dir);

}  // namespace ps::targets::local
