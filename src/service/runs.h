// Runs: created with the settings they will read, resolved by id or
// prefix, shown whole, cancelled, replayed, and followed by their events
// from a sequence number.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "service/app.h"
#include "store/model.h"
#include "store/store.h"

namespace ps::service {

struct RunDetail {
  store::Run run;
  store::Project project;
  std::vector<store::StageRow> stages;
  std::vector<store::AttemptRow> attempts;
  std::vector<store::DeadLetter> dead_letters;
  std::vector<store::Artifact> artifacts;
  // The output of stage `name`, or null when it has none (yet).
  const Json* Output(const std::string& name) const;
};

Result<RunDetail> LoadDetail(App& app, const store::Tenant& tenant, const std::string& run_id);
Json DetailJson(const RunDetail& d);
Millis RunDuration(const store::Run& r);
bool Finished(store::RunStatus s);

// `input` with the settings a run records: the project's configuration now
// (policy, release, deploy), read by its stages in whichever process runs
// them.
Json WithSettings(const Config& config, Json input);

// Creates a run of `kind` for the project (with WithSettings' settings);
// its run.created event names the actor.
Result<store::Run> Submit(App& app, const store::Tenant& tenant, const Actor& actor,
                          const store::Project& project, store::RunKind kind, Json input);
// The same with a pipeline of the caller's (down's).
Result<store::Run> SubmitPipeline(App& app, const store::Tenant& tenant, const Actor& actor,
                                  const store::Project& project, const engine::PipelineSpec& spec,
                                  Json input);

// A run id or a unique prefix of one.
Result<store::Run> ResolveRun(App& app, const store::Tenant& tenant, const std::string& id);

Result<std::vector<store::Run>> ListRuns(App& app, const store::Tenant& tenant,
                                         const std::string& project_id, int limit);
// One page of them: newest first, older than the filter's cursor.
Result<std::vector<store::Run>> ListRunsPage(App& app, const store::Tenant& tenant,
                                             const store::RunFilter& filter);

Status Cancel(App& app, const store::Tenant& tenant, const Actor& actor, const std::string& run_id);
Status Retry(App& app, const store::Tenant& tenant, const Actor& actor, const std::string& run_id);

// The log files of a run's stage attempts, oldest first, and whether the
// attempt still runs.
struct StageLog {
  std::string stage;
  int attempt = 0;
  std::string path;
  bool running = false;
};
Result<std::vector<StageLog>> StageLogs(App& app, const store::Tenant& tenant,
                                        const std::string& run_id);

// Whether any of the tenant's runs has work left (a stage ready, running or
// waiting for its backoff, or a lease to reap): `worker --until-idle`.
Result<bool> HasWork(App& app, const store::Tenant& tenant);

// Events after sequence number `after` (of one run, or all the tenant's
// when `run_id` is empty), oldest first, at most `limit`; `next` is the
// cursor to ask with next time (the last event's seq, or `after`).
struct EventPage {
  std::vector<store::Event> events;
  std::int64_t next = 0;
};
Result<EventPage> EventsAfter(App& app, const store::Tenant& tenant, std::int64_t after,
                              const std::string& run_id, int limit);
// The newest event's seq of a run (0 if none): where a follower that wants
// only what happens from now on starts.
Result<std::int64_t> LatestEvent(App& app, const store::Tenant& tenant, const std::string& run_id);

}  // namespace ps::service
