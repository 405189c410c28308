// The stage interface: what the audit, plan, apply, readiness and release
// capabilities implement. A stage sees its inputs through StageContext and
// returns a StageOutput; it never writes SQL or talks to the API or the bus.
// The engine records the output, its artifacts and its events atomically with
// the stage's completion, so each is recorded exactly once.
//
// Side effects outside ProdSprint (creating a database, calling a cloud API)
// must be idempotent under EffectKey(): a crashed attempt is retried, and the
// retry presents the same key so the outside system can recognise it.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "artifacts/artifact_store.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/problem.h"
#include "store/model.h"

namespace ps::engine {

struct ArtifactOut {
  store::ArtifactType type = store::ArtifactType::kIac;
  std::string name;
  std::string media_type = "application/octet-stream";
  Json meta = Json::object();
  artifacts::BlobRef blob;
};

struct EventOut {
  std::string name;  // a brief event name (plan.ready...) or error.*
  Json payload = Json::object();
};

struct StageOutput {
  Json facts = Json::object();               // the stage's result, for later stages and the user
  Json metrics = Json::object();             // merged into runs.metrics[stage]
  std::optional<Json> policy_result;         // into runs.policy_result[stage]
  std::optional<std::string> project_state;  // the project's new state ("imported", ...)
  // The project's blueprint row, replaced with the completion (plan stage).
  // Tenant, project and time are filled in by the engine.
  std::optional<store::Blueprint> blueprint;
  std::vector<ArtifactOut> artifacts;
  std::vector<EventOut> events;
};

// What a long stage (a release) records while it runs, in one transaction:
// the release row as it now stands (created on first use, replaced after),
// an alert, events. Tenant, project and times are filled in by the engine.
struct LiveRecord {
  std::optional<store::Release> release;
  std::optional<store::Alert> alert;
  std::vector<EventOut> events;
};

// Why a running stage should stop.
// kInterrupted: this process was interrupted and the stage has a way to end
// itself (a release aborts); what it returns is recorded.
enum class StopReason { kNone, kCancelled, kTimeout, kLeaseLost, kInterrupted };

class StageContext {
 public:
  struct Init {
    store::Tenant tenant;
    store::Project project;
    store::Run run;
    std::string stage;
    int attempt = 0;
    Millis deadline = 0;
    std::map<std::string, Json> inputs;         // outputs of the done stages of this run
    std::optional<store::Blueprint> blueprint;  // the project's current blueprint, if any
    const Config* config = nullptr;
  };
  StageContext(Init init, Clock& clock, artifacts::ArtifactStore& artifacts, Logger log,
               std::function<void(double, const std::string&)> progress);

  const store::Tenant& tenant() const { return init_.tenant; }
  const store::Project& project() const { return init_.project; }
  const store::Run& run() const { return init_.run; }
  const Json& run_input() const { return init_.run.input; }
  const std::string& stage() const { return init_.stage; }
  int attempt() const { return init_.attempt; }
  const Config& config() const { return *init_.config; }
  // The output of an earlier stage of this run, or null.
  const Json& Input(const std::string& stage) const;
  // The project's blueprint before this run, for stages whose
  // NeedsBlueprint() is true (the plan's diff); empty otherwise.
  const std::optional<store::Blueprint>& blueprint() const { return init_.blueprint; }

  // project_id:run_id:stage:attempt — this attempt's idempotency key.
  std::string AttemptKey() const;
  // project_id:run_id:stage:effect — the same in every attempt of the stage.
  std::string EffectKey(std::string_view effect) const;

  // True once the stage should stop: the run was cancelled, the stage's
  // timeout passed, or the lease was lost. Long work checks it often.
  bool Stopping();
  StopReason stop_reason() const { return stop_.load(); }
  void RequestStop(StopReason r);

  Clock& clock() { return clock_; }
  const Logger& log() const { return log_; }
  // Reports progress (0..1) as a stage.progress event.
  void Progress(double fraction, const std::string& message);
  // Records now, not at completion: for decisions that must be visible (and
  // survive) while the stage still runs. A Problem if the store refused.
  Status Record(LiveRecord record);
  void SetRecorder(std::function<Status(LiveRecord)> recorder) { recorder_ = std::move(recorder); }
  // Stopping() turns true (kInterrupted) once *flag does: needs no store.
  void SetInterruptFlag(const std::atomic<bool>* flag) { interrupt_ = flag; }
  // The next signal sent to this run (Engine::Signal: "promote", "abort"...)
  // and not taken yet, if any; each is returned once (and recorded as
  // run.signal_taken). A stage that
  // takes signals polls it (a release: every 200 ms).
  std::optional<std::string> TakeSignal() { return signals_ ? signals_() : std::nullopt; }
  void SetSignalSource(std::function<std::optional<std::string>()> source) {
    signals_ = std::move(source);
  }
  // Stores content now (content-addressed, idempotent); the artifacts row is
  // written when the stage completes.
  Result<ArtifactOut> PutArtifact(store::ArtifactType type, std::string name,
                                  std::string_view content, std::string media_type,
                                  Json meta = Json::object());

 private:
  Init init_;
  Clock& clock_;
  artifacts::ArtifactStore& artifacts_;
  Logger log_;
  std::function<void(double, const std::string&)> progress_;
  std::function<Status(LiveRecord)> recorder_;
  std::atomic<StopReason> stop_{StopReason::kNone};
  const std::atomic<bool>* interrupt_ = nullptr;
  std::function<std::optional<std::string>()> signals_;
};

class Stage {
 public:
  virtual ~Stage() = default;
  virtual Result<StageOutput> Run(StageContext& ctx) = 0;
  // Whether the context carries the project's current blueprint (one more
  // read per attempt; only the plan, which diffs against it, asks).
  virtual bool NeedsBlueprint() const { return false; }
};

// Which stage implementation runs for a stage name. Filled explicitly in one
// place (service/pipelines.cc), no static registration.
class StageRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Stage>()>;
  void Add(std::string name, Factory f) { factories_[std::move(name)] = std::move(f); }
  bool Has(const std::string& name) const { return factories_.count(name) != 0; }
  std::unique_ptr<Stage> Create(const std::string& name) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, Factory> factories_;
};

}  // namespace ps::engine
