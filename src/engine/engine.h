// The run engine: submits runs, hands their stages to workers through leases,
// records results, retries failures with backoff, and dead-letters what keeps
// failing. All state lives in the Store, so any number of engines in any
// number of processes may serve the same store; a process killed at any
// moment loses nothing: its leases expire and the stages are retried.
//
// Every state change and the events it causes are written in one transaction
// (the outbox). A stage attempt is identified by its idempotency key
// project_id:run_id:stage:attempt; claiming inserts the key (unique), so no
// attempt is ever run twice, and a finished key is never run again.
//
// Thread-safe: worker threads share one Engine.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "artifacts/artifact_store.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "engine/pipeline.h"
#include "engine/stage.h"
#include "store/store.h"

namespace ps::engine {

struct EngineDeps {
  store::Store& store;
  artifacts::ArtifactStore& artifacts;
  const StageRegistry& registry;
  Clock& clock;
  Random& random;
  Logger log;
  const Config& config;
  std::filesystem::path logs_dir;  // stage logs: <logs_dir>/<run_id>/<stage>.<attempt>.log
  // Renew leases from a background thread while a stage runs (real time).
  // Tests in simulated time turn it off and renew by hand.
  bool heartbeat_thread = true;
  // Whether the worker that holds a lease still lives. Lets a restarted
  // process on the same machine retry a dead worker's stage at once instead of
  // waiting for the lease to expire. Empty: leases end only by expiry.
  std::function<bool(const std::string& owner)> owner_alive;
};

// A claimed stage attempt.
struct Lease {
  store::StageRow stage;  // as claimed: attempt and lease_token are this lease's
  std::string key;        // idempotency key
  std::string worker;
  Millis deadline = 0;  // the stage's timeout
};

class Engine {
 public:
  explicit Engine(EngineDeps deps);

  // Creates a run of `spec` for the project with its stages, the first
  // window ready. Emits run.created, naming `who` created it (when given).
  Result<store::Run> Submit(const store::Tenant& tenant, const std::string& project_id,
                            const PipelineSpec& spec, Json input, const std::string& who = "");

  // One worker step: reap expired leases, claim one ready stage and run it to
  // its end. Returns whether a stage ran.
  Result<bool> RunOnce(const std::string& worker);

  // The pieces RunOnce is made of, for tests and custom workers.
  Result<std::optional<Lease>> Claim(const std::string& worker);
  Status Execute(Lease& lease);
  // Renews the lease. Returns the reason to stop (cancelled, lost) or kNone.
  Result<StopReason> Heartbeat(const Lease& lease);
  Status Complete(const Lease& lease, const StageOutput& out);
  Status Fail(const Lease& lease, const Problem& problem, store::AttemptStatus how);
  // Stages whose lease expired (their worker died or hangs), or whose owner
  // is known dead, are failed as "lost" and retried. Returns how many.
  Result<int> Reap();

  // Cancels a run: waiting stages are cancelled at once, running ones are
  // asked to stop at their next heartbeat. The run ends in error (cancelled).
  Status Cancel(const store::Tenant& tenant, const std::string& run_id, const std::string& who);
  // Sends a signal to a run's running stage ("promote", "abort",
  // "rollback" to a release), recorded as the event run.signal and in the
  // audit log; the stage takes it with StageContext::TakeSignal from any
  // process. A Problem (409) if the run has finished.
  // Returns the event's sequence number.
  Result<std::int64_t> Signal(const store::Tenant& tenant, const std::string& run_id,
                              const std::string& signal, const std::string& who);
  // Replays a failed or cancelled run from its dead letters: failed and
  // cancelled stages get a fresh attempt budget; done stages are kept.
  Status Retry(const store::Tenant& tenant, const std::string& run_id, const std::string& who);

  // Blocks until work may be available (a local commit made a stage ready, or
  // the next backoff ends) or `max_wait` passes.
  void WaitForWork(Millis max_wait);
  void Notify();

  // This process is going away (interrupted): every stage running here is
  // asked to stop as if its lease were lost, within one heartbeat. Its work
  // is not recorded; the stage runs again once the lease expires.
  void AbandonRunningStages() { abandoning_ = true; }
  // This process is going away, and its stages end themselves: Stopping()
  // turns true at once (no store involved: it works on a full disk) and
  // what the stage returns (a release: rolled out) is recorded.
  void InterruptRunningStages() { interrupting_ = true; }

  const Config& config() const { return deps_.config; }
  Clock& clock() { return deps_.clock; }
  std::filesystem::path LogPath(const std::string& run_id, const std::string& stage,
                                int attempt) const;

 private:
  // Shared by Fail and Reap: the attempt ended without success.
  Status FailInTx(store::Tx& tx, const store::StageRow& stage, const Problem& problem,
                  store::AttemptStatus how, const std::string& key);
  // Sets the run done and records run.done; the caller writes the run.
  Status MarkRunDone(store::Tx& tx, store::Run& run, Millis now);

  EngineDeps deps_;
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  std::uint64_t wake_gen_ = 0;
  std::atomic<Millis> last_reap_{0};
  std::atomic<bool> abandoning_{false};
  std::atomic<bool> interrupting_{false};
};

// The idempotency key of an attempt.
std::string AttemptKey(const std::string& project_id, const std::string& run_id,
                       const std::string& stage, int attempt);

}  // namespace ps::engine
