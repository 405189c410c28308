// The target interface: where a project's environments (staging,
// production...) run. The apply, release, rollback and readiness stages, and
// the application layer above them, see environments only through it; the
// local target (targets/local/: supervised processes behind HAProxy) is one
// implementation, a fake one drives the release stage in simulated time in
// the tests, and Kubernetes plugs in here later.
//
// An environment is named by tenant, project and environment name, never by
// a folder: a target derives where it keeps an environment from those, so
// no caller (an API client least of all) can point it at a host path.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/problem.h"

namespace ps::targets {

// What to run for one service of one version.
struct ServiceRun {
  std::string name;
  std::string kind = "web";                // "web" (routed traffic) or "worker"
  std::string cwd;                         // absolute: the service's folder in the release folder
  std::string command;                     // run with /bin/sh -c
  std::map<std::string, std::string> env;  // PORT is added per instance
  int instances = 1;
  std::string health_path;  // web: HTTP path; empty: TCP
  std::string version;      // the commit
};

// A backing server the environment runs (PostgreSQL, Redis) and how a
// service reaches it.
struct BackingInfo {
  std::string name;  // "postgres", "redis"
  int port = 0;
  std::map<std::string, std::string> env;  // DATABASE_URL, REDIS_URL...
};

// One version of a service as it runs: what it runs and where its instances
// answer (loopback ports; empty when the target has none to offer).
struct Serving {
  ServiceRun run;
  std::vector<int> ports;
};

// Whether a candidate's instances are all running and healthy, and how many
// restarts they had.
struct Health {
  bool healthy = false;
  int restarts = 0;
  std::string detail;
};

// One request as the environment's router saw it: which version served it,
// and how it went.
struct RequestOutcome {
  std::string service;
  bool candidate = false;  // served by the candidate (else by the stable version)
  bool failed = false;     // a 5xx, or no answer
  double ms = 0;           // total time
};

using ProgressFn = std::function<void(const std::string&)>;

// Names an environment: the tenant's ids, the project's name, the
// environment's name.
struct EnvRef {
  std::string org_id, workspace_id;
  std::string project;
  std::string env;
};

// One environment of one project, opened. Every operation that changes it
// runs under Lock(): two commands never change one environment at once.
class Environment {
 public:
  virtual ~Environment() = default;

  // Holds the environment for one operation until this object goes away; a
  // Problem (409) if another command holds it.
  virtual Status Lock(const std::string& operation) = 0;
  // How long a starting instance may take to become healthy.
  virtual void set_health_timeout(Millis ms) = 0;

  // Where a version's files go (the release folder of `commit`), where build
  // logs go, and a folder of the environment's own (baselines, test reports).
  virtual std::filesystem::path ReleaseDir(const std::string& commit) const = 0;
  virtual std::filesystem::path LogDir() const = 0;
  virtual std::filesystem::path DataDir() const = 0;
  // A secret generated once per environment and name.
  virtual Result<std::string> Secret(const std::string& name) = 0;
  // The file "${secret:NAME}" references resolve from when a process starts.
  virtual std::string SecretsFile() const = 0;
  // Starts (once) a PostgreSQL or Redis server for the environment; for
  // PostgreSQL also a database and role for `service`.
  virtual Result<BackingInfo> EnsureBacking(const std::string& name,
                                            const std::string& service) = 0;

  // Makes `runs` the stable version of their services (a service running
  // another version is replaced without a gap; one running this exact spec
  // is left alone). Returns what it did, per service.
  virtual Result<Json> Deploy(const std::vector<ServiceRun>& runs, const ProgressFn& progress) = 0;

  // --- releases ---------------------------------------------------------
  // Starts `run` as the candidate beside the stable version (weight 0).
  virtual Status StartCandidate(const ServiceRun& run, const ProgressFn& progress) = 0;
  // The candidate's share of the service's traffic, 0..100, applied at once.
  virtual Status SetCandidateWeight(const std::string& service, int percent) = 0;
  // The candidate becomes stable; the old version drains and stops unless
  // `keep_old_warm` (blue/green: it stays running at weight 0).
  virtual Status PromoteCandidate(const std::string& service, bool keep_old_warm) = 0;
  // Weight 0 at once, then drain and stop the candidate.
  virtual Status RollbackCandidate(const std::string& service) = 0;
  // Puts every service back on the version it ran before its last change.
  // Returns what it did per service.
  virtual Result<Json> RollbackToPrevious(const ProgressFn& progress) = 0;
  virtual Health CandidateHealth(const std::string& service) const = 0;
  // Starts collecting per-request outcomes; ReadRequests returns those seen
  // since the last call, waiting up to `max_wait_ms` for the first one.
  virtual Status OpenRequests() = 0;
  virtual std::vector<RequestOutcome> ReadRequests(Millis max_wait_ms) = 0;

  // --- reading ----------------------------------------------------------
  virtual std::vector<std::string> Services() const = 0;
  virtual std::optional<Serving> Stable(const std::string& service) const = 0;
  virtual std::optional<Serving> Candidate(const std::string& service) const = 0;
  // The run that served a service before its last change (its release
  // folder already prepared), if the environment remembers one.
  virtual std::optional<ServiceRun> PreviousRun(const std::string& service) const = 0;
  // The loopback port of the service's routed traffic; 0 if none.
  virtual int FrontendPort(const std::string& service) const = 0;
  // What runs where, for `status` and reports.
  virtual Json Describe() const = 0;
  // Stops everything the environment runs.
  virtual Status Down() = 0;
};

// A kind of place environments run in.
class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;
  // Opens (creating on first use) an environment.
  virtual Result<std::unique_ptr<Environment>> Open(const EnvRef& ref) = 0;
  // Whether the environment was ever deployed to.
  virtual bool Exists(const EnvRef& ref) const = 0;
  // The project's environments that exist (ref.env is ignored).
  virtual std::vector<std::string> Environments(const EnvRef& ref) const = 0;
  // Which command holds the environment's lock ("release (pid 12)"), if any.
  virtual std::optional<std::string> LockHolder(const EnvRef& ref) const = 0;
  // Removes what is left of a stopped environment (its folder).
  virtual Status Remove(const EnvRef& ref) = 0;
};

// The targets a process offers, by name. Filled once at start-up, in one
// place (the registration); read-only after.
class Targets {
 public:
  void Add(std::shared_ptr<Target> target);
  // The target named `name`, or a Problem (422 target-unsupported).
  Result<Target*> Find(const std::string& name) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, std::shared_ptr<Target>> targets_;
};

}  // namespace ps::targets
