#include <gtest/gtest.h>

#include "engine/engine_fixture.h"

namespace ps::engine {
namespace {

using store::AttemptStatus;
using store::RunKind;
using store::RunStatus;
using store::StageStatus;

PipelineSpec Readiness() {
  // audit -> (test, security, perf in parallel) -> checklist
  return {RunKind::kReadiness,
          {{"audit", {}, 0, 0},
           {"test", {"audit"}, 0, 0},
           {"security", {"audit"}, 0, 0},
           {"perf", {"audit"}, 0, 0},
           {"checklist", {"test", "security", "perf"}, 0, 0}}};
}

class EngineRunTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    for (const char* s : {"audit", "test", "security", "perf", "checklist"}) AddOkStage(s);
  }
};

TEST_F(EngineRunTest, RunsTheDagInDeterministicOrder) {
  auto run = Submit(Readiness());
  EXPECT_EQ(run.status, RunStatus::kPending);
  Drain();
  EXPECT_EQ(GetRun(run.id).status, RunStatus::kDone);
  EXPECT_EQ(executions_,
            (std::vector<std::string>{"audit#1", "test#1", "security#1", "perf#1", "checklist#1"}));
  for (const auto& s : Stages(run.id)) EXPECT_EQ(s.status, StageStatus::kDone) << s.name;
  EXPECT_EQ(CountEvents(run.id, "stage.done"), 5);
  EXPECT_EQ(CountEvents(run.id, "run.done"), 1);
  EXPECT_EQ(CountEvents(run.id, "run.created"), 1);
  EXPECT_EQ(CountEvents(run.id, "run.started"), 1);
}

TEST_F(EngineRunTest, AParallelWindowOpensAtOnce) {
  auto run = Submit(Readiness());
  auto lease = engine_->Claim("w1");
  ASSERT_TRUE(lease.ok() && lease->has_value());
  EXPECT_EQ((*lease)->stage.name, "audit");
  // While audit runs, nothing else may start.
  EXPECT_FALSE(engine_->Claim("w2")->has_value());
  ASSERT_TRUE(engine_->Execute(**lease).ok());
  // Now test, security and perf are all claimable by three workers.
  std::vector<Lease> window;
  for (const char* w : {"w1", "w2", "w3"}) {
    auto l = engine_->Claim(w);
    ASSERT_TRUE(l.ok() && l->has_value()) << w;
    window.push_back(**l);
  }
  EXPECT_EQ(window[0].stage.name, "test");
  EXPECT_EQ(window[1].stage.name, "security");
  EXPECT_EQ(window[2].stage.name, "perf");
  EXPECT_FALSE(engine_->Claim("w4")->has_value());  // checklist waits for all three
  for (auto& l : window) ASSERT_TRUE(engine_->Execute(l).ok());
  Drain();
  EXPECT_EQ(GetRun(run.id).status, RunStatus::kDone);
}

TEST_F(EngineRunTest, EveryTransitionEmitsOneEventInOrder) {
  auto run = Submit(Readiness());
  Drain();
  auto events = Events(run.id);
  for (std::size_t i = 1; i < events.size(); ++i) EXPECT_GT(events[i].seq, events[i - 1].seq);
  EXPECT_EQ(events.front().name, "run.created");
  EXPECT_EQ(events.back().name, "run.done");
  EXPECT_EQ(CountEvents(run.id, "stage.started"), 5);
}

TEST_F(EngineTest, RetryableFailuresBackOffWithFullJitterThenSucceed) {
  int calls = 0;
  AddStage("flaky", [&](StageContext&) -> Result<StageOutput> {
    if (++calls < 3) return problems::Timeout("upstream slow");
    return StageOutput{};
  });
  auto run = Submit({RunKind::kApply, {{"flaky", {}, 0, 0}}});
  ASSERT_TRUE(*engine_->RunOnce("w1"));
  auto s = Stages(run.id).front();
  EXPECT_EQ(s.status, StageStatus::kReady);
  EXPECT_EQ(s.attempt, 1);
  // Attempt 2 waits at most base (1s).
  EXPECT_LE(s.not_before - clock_.Now(), 1'000);
  Drain();
  EXPECT_EQ(GetRun(run.id).status, RunStatus::kDone);
  EXPECT_EQ(executions_, (std::vector<std::string>{"flaky#1", "flaky#2", "flaky#3"}));
  EXPECT_EQ(CountEvents(run.id, "stage.retrying"), 2);
  auto events = Events(run.id);
  for (const auto& e : events) {
    if (e.name == "stage.retrying") {
      EXPECT_LE(e.payload["delay_ms"].get<Millis>(), e.payload["attempt"] == 1 ? 1'000 : 2'000);
    }
  }
}

TEST_F(EngineTest, BackoffDelayIsBoundedAndJittered) {
  SeededRandom r(5);
  std::set<Millis> seen;
  for (int i = 0; i < 200; ++i) {
    Millis d2 = BackoffDelay(2, 100, 1000, r);
    Millis d5 = BackoffDelay(5, 100, 1000, r);
    Millis d20 = BackoffDelay(20, 100, 1000, r);
    EXPECT_GE(d2, 0);
    EXPECT_LE(d2, 100);
    EXPECT_LE(d5, 800);
    EXPECT_LE(d20, 1000);
    seen.insert(d5);
  }
  EXPECT_GT(seen.size(), 50u);  // jittered, not a fixed schedule
  EXPECT_EQ(BackoffDelay(1, 100, 1000, r), 0);
}

TEST_F(EngineTest, ExhaustedAttemptsGoToTheDeadLetterListAndRetryReplays) {
  bool healthy = false;
  AddOkStage("audit");
  AddStage("security", [&](StageContext&) -> Result<StageOutput> {
    if (!healthy) return problems::Timeout("scanner unavailable");
    return StageOutput{};
  });
  AddOkStage("release");
  auto run = Submit(
      {RunKind::kRelease,
       {{"audit", {}, 0, 0}, {"security", {"audit"}, 0, 0}, {"release", {"security"}, 0, 0}}});
  Drain();
  auto r = GetRun(run.id);
  EXPECT_EQ(r.status, RunStatus::kError);
  EXPECT_EQ(r.error["stage"], "security");
  EXPECT_EQ(r.error["title"], "Timed out");
  auto stages = Stages(run.id);
  EXPECT_EQ(stages[0].status, StageStatus::kDone);
  EXPECT_EQ(stages[1].status, StageStatus::kError);
  EXPECT_EQ(stages[1].attempt, 3);
  EXPECT_EQ(stages[2].status, StageStatus::kCancelled);
  EXPECT_EQ(CountEvents(run.id, "error.stage_failed"), 1);
  auto letters = *store::ReadValue<std::vector<store::DeadLetter>>(
      *store_, [&](store::Tx& tx) { return tx.ListDeadLetters(tenant_, run.id, false); });
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].stage, "security");
  EXPECT_EQ(letters[0].attempt, 3);

  healthy = true;
  ASSERT_TRUE(engine_->Retry(tenant_, run.id, "cli:test").ok());
  Drain();
  r = GetRun(run.id);
  EXPECT_EQ(r.status, RunStatus::kDone);
  EXPECT_EQ(r.attempt, 1);
  // audit ran once: done stages are kept; security continued at attempt 4.
  EXPECT_EQ(executions_, (std::vector<std::string>{"audit#1", "security#1", "security#2",
                                                   "security#3", "security#4", "release#1"}));
  EXPECT_TRUE(store::ReadValue<std::vector<store::DeadLetter>>(*store_, [&](store::Tx& tx) {
                return tx.ListDeadLetters(tenant_, run.id, false);
              })->empty());
  auto audit = *store::ReadValue<std::vector<store::AuditEntry>>(
      *store_, [&](store::Tx& tx) { return tx.ListAudit(tenant_, 10); });
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.front().action, "run.retry");
  // A done run cannot be retried.
  EXPECT_TRUE(engine_->Retry(tenant_, run.id, "cli:test").problem().Is("conflict"));
}

TEST_F(EngineTest, NonRetryableFailureFailsAtOnce) {
  AddStage("plan",
           [](StageContext&) -> Result<StageOutput> { return problems::InvalidInput("bad repo"); });
  auto run = Submit({RunKind::kBlueprint, {{"plan", {}, 0, 0}}});
  Drain();
  EXPECT_EQ(GetRun(run.id).status, RunStatus::kError);
  EXPECT_EQ(executions_.size(), 1u);
}

TEST_F(EngineTest, AStageThatThrowsFailsCleanly) {
  AddStage("plan", [](StageContext&) -> Result<StageOutput> { throw std::runtime_error("boom"); });
  auto run = Submit({RunKind::kBlueprint, {{"plan", {}, 0, 0}}});
  Drain();
  auto r = GetRun(run.id);
  EXPECT_EQ(r.status, RunStatus::kError);
  EXPECT_NE(r.error["detail"].get<std::string>().find("boom"), std::string::npos);
}

TEST_F(EngineTest, ADeadWorkersStageIsReapedAndRetried) {
  AddOkStage("apply");
  auto run = Submit({RunKind::kApply, {{"apply", {}, 0, 0}}});
  auto lease = engine_->Claim("doomed");  // claims, then "dies"
  ASSERT_TRUE(lease.ok() && lease->has_value());
  clock_.Advance(config_.engine.lease_ttl);
  EXPECT_EQ(*engine_->Reap(), 0);  // not expired yet: exactly at the deadline
  clock_.Advance(1);
  EXPECT_EQ(*engine_->Reap(), 1);
  auto s = Stages(run.id).front();
  EXPECT_EQ(s.status, StageStatus::kReady);
  Drain();
  EXPECT_EQ(GetRun(run.id).status, RunStatus::kDone);
  auto attempts = *store::ReadValue<std::vector<store::AttemptRow>>(
      *store_, [&](store::Tx& tx) { return tx.ListAttempts(tenant_, run.id); });
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].status, AttemptStatus::kLost);
  EXPECT_EQ(attempts[0].worker, "doomed");
  EXPECT_EQ(attempts[1].status, AttemptStatus::kDone);
  // The zombie wakes up and reports: its result is refused (fencing token).
  auto late = engine_->Complete(**lease, StageOutput{});
  ASSERT_FALSE(late.ok());
  EXPECT_TRUE(late.problem().Is("lease-lost"));
  EXPECT_EQ(CountEvents(run.id, "stage.done"), 1);
}

TEST_F(EngineTest, HeartbeatsKeepALeaseAlive) {
  AddOkStage("apply");
  auto run = Submit({RunKind::kApply, {{"apply", {}, 0, 0}}});
  auto lease = engine_->Claim("w1");
  ASSERT_TRUE(lease.ok() && lease->has_value());
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(config_.engine.heartbeat);
    ASSERT_EQ(*engine_->Heartbeat(**lease), StopReason::kNone);
    EXPECT_EQ(*engine_->Reap(), 0);
  }
  ASSERT_TRUE(engine_->Execute(**lease).ok());
  EXPECT_EQ(GetRun(run.id).status, RunStatus::kDone);
}

TEST_F(EngineTest, AFinishedAttemptIsNeverRunAgain) {
  AddOkStage("audit");
  auto run = Submit({RunKind::kImport, {{"audit", {}, 0, 0}}});
  auto lease = engine_->Claim("w1");
  ASSERT_TRUE(lease.ok() && lease->has_value());
  ASSERT_TRUE(engine_->Execute(**lease).ok());
  ASSERT_TRUE(engine_->Execute(**lease).ok());  // the same key again
  EXPECT_EQ(executions_, std::vector<std::string>{"audit#1"});
  EXPECT_EQ(CountEvents(run.id, "stage.done"), 1);
}

TEST_F(EngineTest, CancellingStopsWaitingStagesAndAsksRunningOnesToStop) {
  AddOkStage("audit");
  AddOkStage("plan");
  auto run = Submit({RunKind::kBlueprint, {{"audit", {}, 0, 0}, {"plan", {"audit"}, 0, 0}}});
  auto lease = engine_->Claim("w1");
  ASSERT_TRUE(lease.ok() && lease->has_value());
  ASSERT_TRUE(engine_->Cancel(tenant_, run.id, "cli:test").ok());
  ASSERT_TRUE(engine_->Cancel(tenant_, run.id, "cli:test").ok());  // idempotent
  EXPECT_EQ(*engine_->Heartbeat(**lease), StopReason::kCancelled);
  auto r = GetRun(run.id);
  EXPECT_EQ(r.status, RunStatus::kError);
  EXPECT_EQ(r.error["title"], "Cancelled");
  ASSERT_TRUE(engine_->Fail(**lease, problems::Cancelled("stop"), AttemptStatus::kCancelled).ok());
  auto stages = Stages(run.id);
  EXPECT_EQ(stages[0].status, StageStatus::kCancelled);
  EXPECT_EQ(stages[1].status, StageStatus::kCancelled);
  EXPECT_EQ(CountEvents(run.id, "run.cancelled"), 1);
  Drain();
  EXPECT_TRUE(executions_.empty());
  // A cancelled run can be resumed.
  ASSERT_TRUE(engine_->Retry(tenant_, run.id, "cli:test").ok());
  Drain();
  EXPECT_EQ(GetRun(run.id).status, RunStatus::kDone);
  EXPECT_EQ(executions_, (std::vector<std::string>{"audit#2", "plan#1"}));
}

TEST_F(EngineTest, CancelInsideTheStageIsObserved) {
  std::string run_id;
  AddStage("perf", [&](StageContext& ctx) -> Result<StageOutput> {
    EXPECT_TRUE(engine_->Cancel(tenant_, run_id, "cli:test").ok());
    // The heartbeat thread would notice; here the test plays it.
    ctx.RequestStop(StopReason::kCancelled);
    EXPECT_TRUE(ctx.Stopping());
    return StageOutput{};
  });
  run_id = Submit({RunKind::kReadiness, {{"perf", {}, 0, 0}}}).id;
  Drain();
  auto attempts = *store::ReadValue<std::vector<store::AttemptRow>>(
      *store_, [&](store::Tx& tx) { return tx.ListAttempts(tenant_, run_id); });
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].status, AttemptStatus::kCancelled);
  EXPECT_EQ(CountEvents(run_id, "stage.done"), 0);
}

TEST_F(EngineTest, ATimedOutStageIsRetriedThenFails) {
  config_.engine.stages["slow"].timeout = 5'000;
  config_.engine.stages["slow"].max_attempts = 2;
  MakeEngine();
  AddStage("slow", [&](StageContext& ctx) -> Result<StageOutput> {
    while (!ctx.Stopping()) clock_.Advance(1'000);  // work that takes too long
    return StageOutput{};
  });
  auto run = Submit({RunKind::kApply, {{"slow", {}, 0, 0}}});
  Drain();
  auto r = GetRun(run.id);
  EXPECT_EQ(r.status, RunStatus::kError);
  EXPECT_EQ(r.error["title"], "Timed out");
  EXPECT_EQ(executions_.size(), 2u);
  auto attempts = *store::ReadValue<std::vector<store::AttemptRow>>(
      *store_, [&](store::Tx& tx) { return tx.ListAttempts(tenant_, run.id); });
  for (const auto& a : attempts) EXPECT_EQ(a.status, AttemptStatus::kTimeout);
}

TEST_F(EngineTest, OutputsArtifactsAndEventsAreRecordedWithCompletion) {
  AddStage("plan", [](StageContext& ctx) -> Result<StageOutput> {
    StageOutput out;
    out.facts = {{"services", 2}};
    out.metrics = {{"files", 3}};
    out.policy_result = Json{{"passed", true}};
    PS_ASSIGN(auto a, ctx.PutArtifact(store::ArtifactType::kIac, "main.tf", "terraform {}\n",
                                      "text/plain"));
    out.artifacts.push_back(a);
    out.events.push_back({"plan.ready", {{"services", 2}}});
    return out;
  });
  AddStage("apply", [](StageContext& ctx) -> Result<StageOutput> {
    EXPECT_EQ(ctx.Input("plan")["services"], 2);  // later stages see earlier outputs
    EXPECT_TRUE(ctx.Input("nope").is_null());
    return StageOutput{};
  });
  auto run = Submit({RunKind::kBlueprint, {{"plan", {}, 0, 0}, {"apply", {"plan"}, 0, 0}}});
  Drain();
  auto r = GetRun(run.id);
  EXPECT_EQ(r.status, RunStatus::kDone);
  EXPECT_EQ(r.metrics["plan"]["files"], 3);
  EXPECT_EQ(r.policy_result["plan"]["passed"], true);
  EXPECT_EQ(CountEvents(run.id, "plan.ready"), 1);
  auto arts = *store::ReadValue<std::vector<store::Artifact>>(
      *store_, [&](store::Tx& tx) { return tx.ListArtifacts(tenant_, project_id_, run.id); });
  ASSERT_EQ(arts.size(), 1u);
  EXPECT_EQ(arts[0].name, "main.tf");
  EXPECT_EQ(*artifacts_->Get(arts[0].sha256), "terraform {}\n");
}

TEST_F(EngineTest, AnUnknownEventFailsTheStage) {
  AddStage("plan", [](StageContext&) -> Result<StageOutput> {
    StageOutput out;
    out.events.push_back({"plan.maybe", {}});
    return out;
  });
  auto run = Submit({RunKind::kBlueprint, {{"plan", {}, 0, 0}}});
  Drain();
  EXPECT_EQ(GetRun(run.id).status, RunStatus::kError);
}

TEST_F(EngineTest, KeysAreStableForEffectsAndUniquePerAttempt) {
  std::vector<std::string> attempt_keys, effect_keys;
  int calls = 0;
  AddStage("apply", [&](StageContext& ctx) -> Result<StageOutput> {
    attempt_keys.push_back(ctx.AttemptKey());
    effect_keys.push_back(ctx.EffectKey("create-db"));
    if (++calls == 1) return problems::Timeout("once");
    return StageOutput{};
  });
  auto run = Submit({RunKind::kApply, {{"apply", {}, 0, 0}}});
  Drain();
  ASSERT_EQ(attempt_keys.size(), 2u);
  EXPECT_EQ(attempt_keys[0], project_id_ + ":" + run.id + ":apply:1");
  EXPECT_EQ(attempt_keys[1], project_id_ + ":" + run.id + ":apply:2");
  EXPECT_EQ(effect_keys[0], effect_keys[1]);
}

TEST_F(EngineTest, StageLogsAreWrittenPerAttempt) {
  AddStage("audit", [](StageContext& ctx) -> Result<StageOutput> {
    ctx.log().Info("found 3 services");
    return StageOutput{};
  });
  auto run = Submit({RunKind::kImport, {{"audit", {}, 0, 0}}});
  Drain();
  auto text = ps::testing::ReadText(engine_->LogPath(run.id, "audit", 1));
  EXPECT_NE(text.find("found 3 services"), std::string::npos);
  EXPECT_NE(text.find("run=" + run.id), std::string::npos);
  EXPECT_NE(text.find("stage=audit"), std::string::npos);
  EXPECT_NE(text.find("project=" + project_id_), std::string::npos);
  EXPECT_EQ(GetRun(run.id).logs_ref, "logs/" + run.id);
}

TEST_F(EngineTest, SubmitRefusesUnknownStagesAndOtherTenantsProjects) {
  AddOkStage("audit");
  EXPECT_TRUE(engine_->Submit(tenant_, project_id_, {RunKind::kImport, {{"nope", {}, 0, 0}}}, {})
                  .problem()
                  .Is("invalid-input"));
  auto other = store::EnsureTenant(*store_, "evil", "main", clock_, random_);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(engine_->Submit(*other, project_id_, {RunKind::kImport, {{"audit", {}, 0, 0}}}, {})
                  .problem()
                  .Is("not-found"));
}

}  // namespace
}  // namespace ps::engine
