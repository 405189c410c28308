#include "engine/engine.h"

#include <algorithm>

#include <set>
#include <stop_token>
#include <thread>

#include "core/ids.h"

namespace ps::engine {

using store::AttemptStatus;
using store::Run;
using store::RunStatus;
using store::StageRow;
using store::StageStatus;
using store::Tenant;
using store::Tx;

std::string AttemptKey(const std::string& project_id, const std::string& run_id,
                       const std::string& stage, int attempt) {
  return project_id + ":" + run_id + ":" + stage + ":" + std::to_string(attempt);
}

namespace {

store::Event MakeEvent(const Tenant& t, const std::string& project_id, const std::string& run_id,
                       std::string name, Json payload, Millis now) {
  store::Event e;
  e.tenant = t;
  e.project_id = project_id;
  e.run_id = run_id;
  e.name = std::move(name);
  e.payload = std::move(payload);
  e.created_at = now;
  return e;
}

bool Terminal(StageStatus s) {
  return s == StageStatus::kDone || s == StageStatus::kError || s == StageStatus::kCancelled;
}

// The leased stage as it is now, or lease-lost if the lease's fencing token no
// longer matches (the lease expired and another worker claimed the stage).
Result<StageRow> LoadLeased(Tx& tx, const Lease& lease) {
  const StageRow& claimed = lease.stage;
  PS_ASSIGN(StageRow s, tx.GetStage(claimed.tenant, claimed.run_id, claimed.name));
  if (s.status != StageStatus::kRunning || s.lease_token != claimed.lease_token) {
    return problems::LeaseLost("stage " + s.name + " attempt " + std::to_string(claimed.attempt) +
                               " no longer holds its lease");
  }
  return s;
}

void ClearLease(StageRow& s) {
  s.lease_owner.clear();
  s.lease_expires = 0;
}

}  // namespace

Engine::Engine(EngineDeps deps) : deps_(std::move(deps)) {}

std::filesystem::path Engine::LogPath(const std::string& run_id, const std::string& stage,
                                      int attempt) const {
  return deps_.logs_dir / run_id / (stage + "." + std::to_string(attempt) + ".log");
}

void Engine::Notify() {
  {
    std::lock_guard lock(wake_mu_);
    ++wake_gen_;
  }
  wake_cv_.notify_all();
}

void Engine::WaitForWork(Millis max_wait) {
  if (max_wait <= 0) return;
  std::unique_lock lock(wake_mu_);
  const auto gen = wake_gen_;
  wake_cv_.wait_for(lock, std::chrono::milliseconds(max_wait), [&] { return wake_gen_ != gen; });
}

Result<Run> Engine::Submit(const Tenant& tenant, const std::string& project_id,
                           const PipelineSpec& spec, Json input, const std::string& who) {
  PS_ASSIGN(std::vector<StageSpec> order, ResolvePipeline(spec, deps_.config.engine));
  for (const auto& s : order) {
    if (!deps_.registry.Has(s.name)) {
      return problems::InvalidInput("no implementation for stage '" + s.name + "' in this build");
    }
  }
  const Millis now = deps_.clock.Now();
  Run run;
  run.id = NewId(deps_.clock, deps_.random);
  run.tenant = tenant;
  run.project_id = project_id;
  run.kind = spec.kind;
  run.logs_ref = "logs/" + run.id;
  run.input = input.is_null() ? Json::object() : std::move(input);
  run.created_at = run.updated_at = now;
  PS_TRY(deps_.store.Write([&](Tx& tx) -> Status {
    PS_TRY(tx.GetProject(tenant, project_id));
    PS_TRY(tx.CreateRun(run));
    Json names = Json::array();
    for (std::size_t i = 0; i < order.size(); ++i) {
      StageRow s;
      s.run_id = run.id;
      s.tenant = tenant;
      s.project_id = project_id;
      s.name = order[i].name;
      s.position = static_cast<int>(i);
      s.needs = order[i].needs;
      s.status = order[i].needs.empty() ? StageStatus::kReady : StageStatus::kBlocked;
      s.max_attempts = order[i].max_attempts;
      s.timeout_ms = order[i].timeout;
      s.not_before = now;
      PS_TRY(tx.InsertStage(s));
      names.push_back(s.name);
    }
    Json created = {{"kind", store::ToString(run.kind)}, {"stages", names}};
    if (!who.empty()) created["by"] = who;
    PS_TRY(tx.AppendEvent(MakeEvent(tenant, project_id, run.id, "run.created", created, now)));
    return Ok();
  }));
  deps_.log.Debug("run submitted", {{"run", run.id}, {"project", project_id}});
  Notify();
  return run;
}

Result<std::optional<Lease>> Engine::Claim(const std::string& worker) {
  std::optional<Lease> lease;
  const Millis now = deps_.clock.Now();
  PS_TRY(deps_.store.Write([&](Tx& tx) -> Status {
    PS_ASSIGN(auto candidates, tx.FindClaimable(now, 8));
    for (StageRow& s : candidates) {
      PS_ASSIGN(Run run, tx.GetRun(s.tenant, s.run_id));
      if (run.cancel_requested || run.status == RunStatus::kError ||
          run.status == RunStatus::kDone) {
        // A run that ended while this stage waited: it will not run.
        s.status = StageStatus::kCancelled;
        s.finished_at = now;
        PS_TRY(tx.UpdateStage(s));
        continue;
      }
      s.attempt += 1;
      s.status = StageStatus::kRunning;
      s.lease_owner = worker;
      s.lease_token += 1;
      s.lease_expires = now + deps_.config.engine.lease_ttl;
      s.started_at = now;
      const std::string key = AttemptKey(s.project_id, s.run_id, s.name, s.attempt);
      store::AttemptRow a;
      a.key = key;
      a.tenant = s.tenant;
      a.project_id = s.project_id;
      a.run_id = s.run_id;
      a.stage = s.name;
      a.attempt = s.attempt;
      a.worker = worker;
      a.started_at = now;
      // The key is unique: an attempt can be started only once.
      PS_TRY(tx.InsertAttempt(a));
      PS_TRY(tx.UpdateStage(s));
      if (run.status == RunStatus::kPending) {
        run.status = RunStatus::kRunning;
        PS_TRY(tx.AppendEvent(
            MakeEvent(s.tenant, s.project_id, s.run_id, "run.started", Json::object(), now)));
      }
      run.stage = s.name;
      run.updated_at = now;
      PS_TRY(tx.UpdateRun(run));
      PS_TRY(tx.AppendEvent(
          MakeEvent(s.tenant, s.project_id, s.run_id, "stage.started",
                    {{"stage", s.name}, {"attempt", s.attempt}, {"worker", worker}}, now)));
      lease = Lease{s, key, worker, now + s.timeout_ms};
      return Ok();
    }
    return Ok();
  }));
  return lease;
}

Result<StopReason> Engine::Heartbeat(const Lease& lease) {
  StopReason reason = StopReason::kNone;
  const Millis now = deps_.clock.Now();
  PS_TRY(deps_.store.Write([&](Tx& tx) -> Status {
    PS_ASSIGN(StageRow s, tx.GetStage(lease.stage.tenant, lease.stage.run_id, lease.stage.name));
    if (s.status != StageStatus::kRunning || s.lease_token != lease.stage.lease_token) {
      reason = StopReason::kLeaseLost;
      return Ok();
    }
    s.lease_expires = now + deps_.config.engine.lease_ttl;
    PS_TRY(tx.UpdateStage(s));
    PS_ASSIGN(Run run, tx.GetRun(s.tenant, s.run_id));
    if (run.cancel_requested) reason = StopReason::kCancelled;
    return Ok();
  }));
  return reason;
}

Status Engine::Execute(Lease& lease) {
  const StageRow& s = lease.stage;
  StageContext::Init init;
  init.tenant = s.tenant;
  init.stage = s.name;
  init.attempt = s.attempt;
  init.deadline = lease.deadline;
  init.config = &deps_.config;
  std::unique_ptr<Stage> impl = deps_.registry.Create(s.name);
  bool already_finished = false;
  PS_TRY(deps_.store.Read([&](Tx& tx) -> Status {
    PS_ASSIGN(store::AttemptRow a, tx.GetAttempt(s.tenant, lease.key));
    if (a.status != AttemptStatus::kRunning) {
      already_finished = true;  // a finished key is never run again
      return Ok();
    }
    PS_ASSIGN(init.project, tx.GetProject(s.tenant, s.project_id));
    PS_ASSIGN(init.run, tx.GetRun(s.tenant, s.run_id));
    PS_ASSIGN(auto stages, tx.ListStages(s.tenant, s.run_id));
    for (const auto& other : stages) {
      if (other.status == StageStatus::kDone) init.inputs[other.name] = other.output;
    }
    if (!impl || !impl->NeedsBlueprint()) return Ok();  // read only for the stages that diff
    auto bp = tx.GetBlueprint(s.tenant, s.project_id);
    if (bp.ok()) {
      init.blueprint = *bp;
    } else if (!bp.problem().Is("not-found")) {
      return bp.problem();
    }
    return Ok();
  }));
  if (already_finished) return Ok();

  Logger base = deps_.log.With({{"org", s.tenant.org_id},
                                {"workspace", s.tenant.workspace_id},
                                {"project", s.project_id},
                                {"run", s.run_id},
                                {"stage", s.name},
                                {"attempt", std::to_string(s.attempt)}});
  Logger stage_log = Logger::Null();
  {
    auto path = LogPath(s.run_id, s.name, s.attempt);
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (std::FILE* f = std::fopen(path.c_str(), "ae")) {
      stage_log = Logger(std::make_shared<LogSink>(f, true), LogFormat::kLogfmt, LogLevel::kDebug,
                         deps_.clock)
                      .With(base.fields());
    } else {
      base.Warn("cannot open stage log", {{"path", path.string()}});
    }
  }

  auto progress = [this, &s](double fraction, const std::string& message) {
    const Millis now = deps_.clock.Now();
    auto st = deps_.store.Write([&](Tx& tx) -> Status {
      PS_TRY(tx.AppendEvent(MakeEvent(
          s.tenant, s.project_id, s.run_id, "stage.progress",
          {{"stage", s.name}, {"attempt", s.attempt}, {"fraction", fraction}, {"message", message}},
          now)));
      return Ok();
    });
    if (!st.ok())
      deps_.log.Warn("progress event not recorded", {{"error", st.problem().Message()}});
  };

  StageContext ctx(std::move(init), deps_.clock, deps_.artifacts, stage_log, progress);
  ctx.SetInterruptFlag(&interrupting_);
  // Signals sent to the run and not taken yet (by this or an earlier
  // attempt), oldest first, each taken once: each run.signal_taken accounts
  // for the oldest signal before it. No clocks compared across processes.
  ctx.SetSignalSource([this, &s, cursor = std::int64_t{0}, pending = std::vector<std::string>(),
                       own = 0]() mutable -> std::optional<std::string> {
    while (true) {
      auto events = store::ReadValue<std::vector<store::Event>>(
          deps_.store, [&](Tx& tx) { return tx.ListEvents(s.tenant, cursor, 500, s.run_id); });
      if (!events.ok() || events->empty()) break;
      for (const auto& e : *events) {
        cursor = std::max(cursor, e.seq);
        if (e.name == "run.signal" && e.payload.contains("signal") &&
            e.payload["signal"].is_string()) {
          pending.push_back(e.payload["signal"].get<std::string>());
        } else if (e.name == "run.signal_taken" && own > 0) {
          --own;  // one this attempt took and recorded: already out of `pending`
        } else if (e.name == "run.signal_taken" && !pending.empty()) {
          pending.erase(pending.begin());
        }
      }
      if (events->size() < 500) break;
    }
    if (pending.empty()) return std::nullopt;
    std::string next = pending.front();
    pending.erase(pending.begin());
    // Said, so that whoever sent it knows it arrived (best effort: the
    // signal is acted on either way).
    const Status said = deps_.store.Write([&](Tx& tx) -> Status {
      PS_TRY(tx.AppendEvent(MakeEvent(s.tenant, s.project_id, s.run_id, "run.signal_taken",
                                      {{"signal", next}, {"stage", s.name}}, deps_.clock.Now())));
      return Ok();
    });
    if (said.ok()) ++own;
    return next;
  });
  ctx.SetRecorder([this, &s](LiveRecord rec) -> Status {
    const Millis now = deps_.clock.Now();
    return deps_.store.Write([&](Tx& tx) -> Status {
      if (rec.release) {
        store::Release r = *rec.release;
        r.tenant = s.tenant;
        r.project_id = s.project_id;
        r.updated_at = now;
        auto existing = tx.GetRelease(s.tenant, r.id);
        if (existing.ok()) {
          r.created_at = existing->created_at;
          PS_TRY(tx.UpdateRelease(r));
        } else {
          r.created_at = now;
          PS_TRY(tx.CreateRelease(r));
        }
      }
      if (rec.alert) {
        store::Alert a = *rec.alert;
        a.tenant = s.tenant;
        a.project_id = s.project_id;
        a.created_at = now;
        PS_TRY(tx.CreateAlert(a));
      }
      for (auto& e : rec.events) {
        PS_TRY(tx.AppendEvent(MakeEvent(s.tenant, s.project_id, s.run_id, std::move(e.name),
                                        std::move(e.payload), now)));
      }
      return Ok();
    });
  });
  if (!impl) {
    return Fail(lease, problems::Internal("no implementation for stage '" + s.name + "'"),
                AttemptStatus::kFailed);
  }

  std::jthread heartbeat;
  // A store that refuses the lease's renewal for half its time to live (a
  // full disk, a read-only state) will lose it: the stage is stopped first,
  // so that it ends itself while it still may (a release rolls out its new
  // version), and the run's driver hears why.
  std::optional<Problem> store_failure;
  if (deps_.heartbeat_thread) {
    heartbeat = std::jthread([this, &lease, &ctx, &store_failure](std::stop_token stop) {
      std::mutex mu;
      std::condition_variable_any cv;
      Millis failing_since = 0;
      while (!stop.stop_requested()) {
        std::unique_lock lock(mu);
        cv.wait_for(lock, stop, std::chrono::milliseconds(deps_.config.engine.heartbeat),
                    [] { return false; });
        if (stop.stop_requested()) break;
        if (abandoning_) {
          ctx.RequestStop(StopReason::kLeaseLost);
          break;
        }
        auto r = Heartbeat(lease);
        if (!r.ok()) {
          deps_.log.Warn("heartbeat failed", {{"error", r.problem().Message()}});
          if (r.problem().Is("store-busy")) continue;
          const Millis now = deps_.clock.Now();
          if (failing_since == 0) failing_since = now;
          if (now - failing_since >= deps_.config.engine.lease_ttl / 2) {
            store_failure = r.problem();
            ctx.RequestStop(StopReason::kLeaseLost);
            break;
          }
          continue;  // the lease may still be renewed before it expires
        }
        failing_since = 0;
        if (*r != StopReason::kNone) ctx.RequestStop(*r);
        if (*r == StopReason::kLeaseLost) break;
      }
    });
  }

  stage_log.Info("stage started", {{"worker", lease.worker}});
  Result<StageOutput> result = problems::Internal("stage did not run");
  try {
    result = impl->Run(ctx);
  } catch (const std::exception& e) {
    result = problems::Internal(std::string("stage threw: ") + e.what());
  } catch (...) {
    result = problems::Internal("stage threw a non-standard exception");
  }
  if (heartbeat.joinable()) {
    heartbeat.request_stop();
    heartbeat.join();
  }
  ctx.Stopping();  // records a timeout that passed while the stage ran

  Status recorded;
  switch (ctx.stop_reason()) {
    case StopReason::kLeaseLost:
      if (store_failure) {
        stage_log.Error("stopped: the store refuses to renew the lease",
                        {{"error", store_failure->Message()}});
        return *store_failure;
      }
      stage_log.Warn("lease lost; another worker owns this stage now");
      return Ok();
    case StopReason::kCancelled:
      stage_log.Info("stage cancelled");
      recorded =
          Fail(lease, problems::Cancelled("the run was cancelled"), AttemptStatus::kCancelled);
      break;
    case StopReason::kTimeout:
      stage_log.Warn("stage timed out");
      recorded = Fail(lease,
                      problems::Timeout("stage '" + s.name + "' exceeded its timeout of " +
                                        FormatDuration(s.timeout_ms)),
                      AttemptStatus::kTimeout);
      break;
    case StopReason::kNone:
    case StopReason::kInterrupted:
      if (result.ok()) {
        stage_log.Info("stage done");
        recorded = Complete(lease, *result);
      } else {
        stage_log.Error("stage failed", {{"error", result.problem().Message()}});
        recorded = Fail(lease, result.problem(), AttemptStatus::kFailed);
      }
      break;
  }
  if (!recorded.ok() && recorded.problem().Is("lease-lost")) {
    base.Warn("result discarded: lease lost", {{"detail", recorded.problem().detail}});
    return Ok();
  }
  return recorded;
}

Status Engine::Complete(const Lease& lease, const StageOutput& out) {
  for (const auto& e : out.events) {
    if (!store::IsKnownEventName(e.name)) {
      return Fail(lease,
                  problems::Internal("stage '" + lease.stage.name + "' emitted unknown event '" +
                                     e.name + "'"),
                  AttemptStatus::kFailed);
    }
  }
  const Millis now = deps_.clock.Now();
  PS_TRY(deps_.store.Write([&](Tx& tx) -> Status {
    PS_ASSIGN(StageRow s, LoadLeased(tx, lease));
    PS_ASSIGN(Run run, tx.GetRun(s.tenant, s.run_id));
    PS_ASSIGN(store::AttemptRow a, tx.GetAttempt(s.tenant, lease.key));
    a.status = AttemptStatus::kDone;
    a.output = out.facts;
    a.finished_at = now;
    PS_TRY(tx.UpdateAttempt(a));

    s.status = StageStatus::kDone;
    s.output = out.facts;
    s.error = nullptr;
    s.finished_at = now;
    ClearLease(s);
    PS_TRY(tx.UpdateStage(s));

    for (const auto& art : out.artifacts) {
      store::Artifact row;
      row.id = NewId(deps_.clock, deps_.random);
      row.tenant = s.tenant;
      row.project_id = s.project_id;
      row.run_id = s.run_id;
      row.type = art.type;
      row.name = art.name;
      row.path = art.blob.path;
      row.sha256 = art.blob.sha256;
      row.size = art.blob.size;
      row.media_type = art.media_type;
      row.meta = art.meta;
      row.created_at = now;
      PS_TRY(tx.InsertArtifact(row));
    }
    for (const auto& e : out.events) {
      PS_TRY(tx.AppendEvent(MakeEvent(s.tenant, s.project_id, s.run_id, e.name, e.payload, now)));
    }
    PS_TRY(tx.AppendEvent(MakeEvent(
        s.tenant, s.project_id, s.run_id, "stage.done",
        {{"stage", s.name}, {"attempt", s.attempt}, {"duration_ms", now - a.started_at}}, now)));

    Json m = out.metrics.is_object() ? out.metrics : Json::object();
    m["duration_ms"] = now - a.started_at;
    m["attempt"] = s.attempt;
    run.metrics[s.name] = m;
    if (out.policy_result) run.policy_result[s.name] = *out.policy_result;
    if (out.blueprint) {
      store::Blueprint b = *out.blueprint;
      b.tenant = s.tenant;
      b.project_id = s.project_id;
      b.updated_at = now;
      PS_TRY(tx.PutBlueprint(b));
    }
    if (out.project_state) {
      PS_ASSIGN(store::Project project, tx.GetProject(s.tenant, s.project_id));
      project.state = *out.project_state;
      project.updated_at = now;
      PS_TRY(tx.UpdateProject(project));
    }
    run.updated_at = now;
    if (run.status != RunStatus::kError) {  // after a sibling failed, nothing advances
      // Open the stages whose needs are all done.
      PS_ASSIGN(auto stages, tx.ListStages(s.tenant, s.run_id));
      std::set<std::string> done;
      for (const auto& o : stages) {
        if (o.status == StageStatus::kDone) done.insert(o.name);
      }
      for (auto& o : stages) {
        if (o.status != StageStatus::kBlocked) continue;
        bool ready = true;
        for (const auto& n : o.needs) ready = ready && done.count(n);
        if (!ready) continue;
        o.status = StageStatus::kReady;
        o.not_before = now;
        PS_TRY(tx.UpdateStage(o));
      }
      if (done.size() == stages.size()) PS_TRY(MarkRunDone(tx, run, now));
    }
    return tx.UpdateRun(run);
  }));
  Notify();
  return Ok();
}

Status Engine::MarkRunDone(Tx& tx, Run& run, Millis now) {
  run.status = RunStatus::kDone;
  run.error = nullptr;
  run.updated_at = now;
  PS_TRY(tx.AppendEvent(MakeEvent(
      run.tenant, run.project_id, run.id, "run.done",
      {{"kind", store::ToString(run.kind)}, {"duration_ms", now - run.created_at}}, now)));
  return Ok();
}

Status Engine::Fail(const Lease& lease, const Problem& problem, AttemptStatus how) {
  PS_TRY(deps_.store.Write([&](Tx& tx) -> Status {
    PS_ASSIGN(StageRow s, LoadLeased(tx, lease));
    return FailInTx(tx, s, problem, how, lease.key);
  }));
  Notify();
  return Ok();
}

Status Engine::FailInTx(Tx& tx, const StageRow& stage, const Problem& problem, AttemptStatus how,
                        const std::string& key) {
  const Millis now = deps_.clock.Now();
  StageRow s = stage;
  PS_ASSIGN(Run run, tx.GetRun(s.tenant, s.run_id));
  auto attempt = tx.GetAttempt(s.tenant, key);
  if (attempt.ok()) {
    attempt->status = how;
    attempt->error = problem.ToJson();
    attempt->finished_at = now;
    PS_TRY(tx.UpdateAttempt(*attempt));
  }
  ClearLease(s);
  s.error = problem.ToJson();

  if (run.cancel_requested) {
    s.status = StageStatus::kCancelled;
    s.finished_at = now;
    return tx.UpdateStage(s);
  }
  const bool retry =
      problem.retryable && s.attempt < s.max_attempts && run.status != RunStatus::kError;
  if (retry) {
    const Millis delay = BackoffDelay(s.attempt + 1, deps_.config.engine.backoff_base,
                                      deps_.config.engine.backoff_cap, deps_.random);
    s.status = StageStatus::kReady;
    s.not_before = now + delay;
    PS_TRY(tx.UpdateStage(s));
    PS_TRY(tx.AppendEvent(MakeEvent(s.tenant, s.project_id, s.run_id, "stage.retrying",
                                    {{"stage", s.name},
                                     {"attempt", s.attempt},
                                     {"outcome", store::ToString(how)},
                                     {"delay_ms", delay},
                                     {"problem", problem.ToJson()}},
                                    now)));
    return Ok();
  }

  s.status = StageStatus::kError;
  s.finished_at = now;
  PS_TRY(tx.UpdateStage(s));
  store::DeadLetter dl;
  dl.tenant = s.tenant;
  dl.run_id = s.run_id;
  dl.stage = s.name;
  dl.attempt = s.attempt;
  dl.problem = problem.ToJson();
  dl.created_at = now;
  PS_TRY(tx.AddDeadLetter(dl));
  PS_TRY(tx.AppendEvent(MakeEvent(s.tenant, s.project_id, s.run_id, "error.stage_failed",
                                  {{"stage", s.name},
                                   {"attempt", s.attempt},
                                   {"outcome", store::ToString(how)},
                                   {"problem", problem.ToJson()}},
                                  now)));
  if (run.status == RunStatus::kError) return Ok();  // already failed by a sibling

  // Fail fast: stages that have not started will not.
  PS_ASSIGN(auto stages, tx.ListStages(s.tenant, s.run_id));
  for (auto& o : stages) {
    if (o.status == StageStatus::kBlocked || o.status == StageStatus::kReady) {
      o.status = StageStatus::kCancelled;
      o.finished_at = now;
      PS_TRY(tx.UpdateStage(o));
    }
  }
  Json err = problem.ToJson();
  err["stage"] = s.name;
  err["attempt"] = s.attempt;
  run.status = RunStatus::kError;
  run.error = err;
  run.updated_at = now;
  PS_TRY(tx.UpdateRun(run));
  PS_TRY(tx.AppendEvent(MakeEvent(s.tenant, s.project_id, s.run_id, "run.failed",
                                  {{"stage", s.name}, {"problem", problem.ToJson()}}, now)));
  return Ok();
}

Result<int> Engine::Reap() {
  const Millis now = deps_.clock.Now();
  last_reap_ = now;
  // Every running stage: few, since each holds a worker.
  PS_ASSIGN(auto running, store::ReadValue<std::vector<StageRow>>(deps_.store, [&](Tx& tx) {
              return tx.FindExpiredLeases(INT64_MAX, 256);
            }));
  int reaped = 0;
  for (const auto& seen : running) {
    const bool expired = seen.lease_expires < now;
    const bool dead = !expired && deps_.owner_alive && !deps_.owner_alive(seen.lease_owner);
    if (!expired && !dead) continue;
    PS_TRY(deps_.store.Write([&](Tx& tx) -> Status {
      PS_ASSIGN(StageRow s, tx.GetStage(seen.tenant, seen.run_id, seen.name));
      // Someone else may have reaped it or the owner renewed it meanwhile.
      if (s.status != StageStatus::kRunning || s.lease_token != seen.lease_token ||
          (!dead && s.lease_expires >= now)) {
        return Ok();
      }
      ++reaped;
      const std::string why =
          dead ? "worker " + s.lease_owner + " is no longer running"
               : "worker " + s.lease_owner + " stopped renewing its lease (it died or hung)";
      return FailInTx(tx, s, problems::LeaseLost(why).Retryable(), AttemptStatus::kLost,
                      AttemptKey(s.project_id, s.run_id, s.name, s.attempt));
    }));
  }
  if (reaped > 0) {
    deps_.log.Info("reaped lost stages", {{"count", std::to_string(reaped)}});
    Notify();
  }
  return reaped;
}

Result<bool> Engine::RunOnce(const std::string& worker) {
  // Reaping reads every running stage: once per poll interval is enough.
  if (deps_.clock.Now() - last_reap_.load() >= deps_.config.engine.poll) PS_TRY(Reap());
  PS_ASSIGN(std::optional<Lease> lease, Claim(worker));
  if (!lease) return false;
  PS_TRY(Execute(*lease));
  return true;
}

Status Engine::Cancel(const Tenant& tenant, const std::string& run_id, const std::string& who) {
  const Millis now = deps_.clock.Now();
  PS_TRY(deps_.store.Write([&](Tx& tx) -> Status {
    PS_ASSIGN(Run run, tx.GetRun(tenant, run_id));
    if (run.status == RunStatus::kDone) {
      return problems::Conflict("run " + run_id + " is already done");
    }
    if (run.cancel_requested) return Ok();  // cancelling twice changes nothing
    PS_ASSIGN(auto stages, tx.ListStages(tenant, run_id));
    for (auto& s : stages) {
      if (s.status == StageStatus::kBlocked || s.status == StageStatus::kReady) {
        s.status = StageStatus::kCancelled;
        s.finished_at = now;
        PS_TRY(tx.UpdateStage(s));
      }
    }
    run.cancel_requested = true;
    if (run.status != RunStatus::kError) {
      Json err = problems::Cancelled("cancelled by " + who).ToJson();
      run.status = RunStatus::kError;
      run.error = err;
    }
    run.updated_at = now;
    PS_TRY(tx.UpdateRun(run));
    PS_TRY(tx.AppendEvent(
        MakeEvent(tenant, run.project_id, run.id, "run.cancelled", {{"by", who}}, now)));
    store::AuditEntry audit;
    audit.tenant = tenant;
    audit.user_id = who;
    audit.action = "run.cancel";
    audit.target = "run:" + run.id;
    audit.created_at = now;
    PS_TRY(tx.AppendAudit(audit));
    return Ok();
  }));
  Notify();
  return Ok();
}

Result<std::int64_t> Engine::Signal(const Tenant& tenant, const std::string& run_id,
                                    const std::string& signal, const std::string& who) {
  const Millis now = deps_.clock.Now();
  return store::WriteValue<std::int64_t>(deps_.store, [&](Tx& tx) -> Result<std::int64_t> {
    PS_ASSIGN(Run run, tx.GetRun(tenant, run_id));
    if (run.status == RunStatus::kDone || run.status == RunStatus::kError) {
      return problems::Conflict("run " + run_id + " has finished: nothing takes '" + signal + "'");
    }
    PS_ASSIGN(const std::int64_t seq,
              tx.AppendEvent(MakeEvent(tenant, run.project_id, run.id, "run.signal",
                                       {{"signal", signal}, {"by", who}}, now)));
    store::AuditEntry audit;
    audit.tenant = tenant;
    audit.user_id = who;
    audit.action = "run.signal";
    audit.target = "run:" + run.id;
    audit.meta = {{"signal", signal}};
    audit.created_at = now;
    PS_TRY(tx.AppendAudit(audit));
    return seq;
  });
}

Status Engine::Retry(const Tenant& tenant, const std::string& run_id, const std::string& who) {
  const Millis now = deps_.clock.Now();
  PS_TRY(deps_.store.Write([&](Tx& tx) -> Status {
    PS_ASSIGN(Run run, tx.GetRun(tenant, run_id));
    if (run.status != RunStatus::kError) {
      return problems::Conflict("run " + run_id + " is " +
                                std::string(store::ToString(run.status)) +
                                "; only a failed or cancelled run can be retried");
    }
    PS_ASSIGN(auto stages, tx.ListStages(tenant, run_id));
    for (const auto& s : stages) {
      if (s.status == StageStatus::kRunning) {
        return problems::Conflict("stage " + s.name + " of run " + run_id +
                                  " is still running; retry once it has stopped");
      }
    }
    std::set<std::string> done;
    for (const auto& s : stages) {
      if (s.status == StageStatus::kDone) done.insert(s.name);
    }
    Json replayed = Json::array();
    for (auto& s : stages) {
      if (!Terminal(s.status) || s.status == StageStatus::kDone) continue;
      bool ready = true;
      for (const auto& n : s.needs) ready = ready && done.count(n);
      s.status = ready ? StageStatus::kReady : StageStatus::kBlocked;
      // A fresh budget of attempts on top of those already made.
      PS_ASSIGN(auto stage_base,
                ResolvePipeline({run.kind, {{s.name, {}, 0, 0}}}, deps_.config.engine));
      s.max_attempts = s.attempt + stage_base.front().max_attempts;
      s.not_before = now;
      s.error = nullptr;
      s.finished_at = 0;
      ClearLease(s);
      PS_TRY(tx.UpdateStage(s));
      replayed.push_back(s.name);
    }
    PS_ASSIGN(auto letters, tx.ListDeadLetters(tenant, run_id, false));
    for (const auto& d : letters) PS_TRY(tx.MarkReplayed(tenant, d.id, now));
    run.status = RunStatus::kRunning;
    run.error = nullptr;
    run.cancel_requested = false;
    run.attempt += 1;
    run.updated_at = now;
    if (done.size() == stages.size()) PS_TRY(MarkRunDone(tx, run, now));
    PS_TRY(tx.UpdateRun(run));
    PS_TRY(tx.AppendEvent(MakeEvent(
        tenant, run.project_id, run.id, "run.retried",
        {{"by", who}, {"stages", replayed}, {"dead_letters", static_cast<int>(letters.size())}},
        now)));
    store::AuditEntry audit;
    audit.tenant = tenant;
    audit.user_id = who;
    audit.action = "run.retry";
    audit.target = "run:" + run.id;
    audit.meta = {{"stages", replayed}};
    audit.created_at = now;
    PS_TRY(tx.AppendAudit(audit));
    return Ok();
  }));
  Notify();
  return Ok();
}

}  // namespace ps::engine
