// Environments: what runs where, and the commands that change them — each
// recorded as a run (apply, release, rollback, down) or as a signal to the
// running release's run (promote, abort), through the engine.
#pragma once

#include <optional>
#include <string>

#include "service/app.h"
#include "store/model.h"

namespace ps::service {

// Whether `env` is a valid environment name (1-32 of a-z, 0-9, '-') and,
// for creating one, one the configuration lists (`environments:`): a typo
// does not create a third environment.
Status CheckEnvironment(const Config& config, const std::string& env, bool create);

// The project's environments on `target`: each one's description (what
// runs, ports, weights, processes), "busy" when a command holds it, and its
// latest release.
Result<Json> EnvironmentsStatus(App& app, const store::Tenant& tenant,
                                const store::Project& project, const std::string& target);

// A release whose process ended before it finished (kill -9, a crash, a full
// disk) leaves its new version serving its share with nobody watching, and
// its records "progressing". Finds it (a candidate, and no live process
// holding the environment), takes the candidate out — weight 0 first, which
// needs no disk — and ends the records: the release "aborted", its run
// cancelled. Returns what it did, for the caller to say; nothing when
// nothing was left.
std::optional<std::string> RecoverOrphanedRelease(App& app, const store::Tenant& tenant,
                                                  const Actor& actor, const store::Project& project,
                                                  const std::string& target,
                                                  const std::string& env);

// The command holding the environment now ("release 01a2… (pid 12)"), if any.
std::optional<std::string> EnvironmentHolder(App& app, const store::Tenant& tenant,
                                             const store::Project& project,
                                             const std::string& target, const std::string& env);
// Whether a release runs in the environment now: the command holding it.
std::optional<std::string> ReleaseHolder(App& app, const store::Tenant& tenant,
                                         const store::Project& project, const std::string& target,
                                         const std::string& env);
// Whether the environment has a candidate left (a release that ended badly).
bool HasCandidate(App& app, const store::Tenant& tenant, const store::Project& project,
                  const std::string& target, const std::string& env);
// Whether any service of the environment has a stable version.
bool HasStable(App& app, const store::Tenant& tenant, const store::Project& project,
               const std::string& target, const std::string& env);

// Sends "promote", "abort" or "rollback" to the release running in the
// environment (Engine::Signal); a Problem (409 no-release-in-progress) when
// none runs. Returns the release's run and the signal's event sequence.
struct Signalled {
  store::Run run;
  std::int64_t seq = 0;
};
Result<Signalled> SignalRelease(App& app, const store::Tenant& tenant, const Actor& actor,
                                const store::Project& project, const std::string& target,
                                const std::string& env, const std::string& action);

// promote, abort or rollback asked of an environment: a signal to the
// release running there, waited for up to `wait_ms` to be taken; with no
// release running, `abort` of a candidate a killed release left, and
// `rollback`, are a rollback run for the caller to start (kRollbackRun); any
// other is a Problem (409 no-release-in-progress).
struct ControlOutcome {
  enum class Kind { kSignalled, kRollbackRun } kind = Kind::kSignalled;
  std::string holder;  // the release's command
  store::Run run;      // the release's run
  bool taken = false;  // it said it took the signal within wait_ms
};
Result<ControlOutcome> ControlRelease(App& app, const store::Tenant& tenant, const Actor& actor,
                                      const store::Project& project, const std::string& target,
                                      const std::string& env, const std::string& action,
                                      Millis wait_ms);

// Creates the run that stops every process of an environment (an apply run
// of nothing: its one stage is "down"); NotFound when it never ran.
Result<store::Run> SubmitDown(App& app, const store::Tenant& tenant, const Actor& actor,
                              const store::Project& project, const std::string& target,
                              const std::string& env);

}  // namespace ps::service
