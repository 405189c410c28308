// The release stage's whole decision sequence in simulated time: the real
// stage, engine and store, a fake target (tests/targets/fake_target.h) whose
// users and versions behave as each test scripts them. No process, no
// HAProxy, no sleeping: half an hour of a release takes milliseconds.
#include <gtest/gtest.h>

#include "engine/engine_fixture.h"
#include "stages/deploy/release_stage.h"
#include "targets/fake_target.h"
#include "testing/testing.h"

namespace ps::stages {
namespace {

using ps::testing::FakeTarget;

class ReleaseSim : public engine::EngineTest {
 protected:
  void SetUp() override {
    engine::EngineTest::SetUp();
    // The project's repository: the folder the stages read (never a path
    // in the run's input).
    project_id_ = MakeProject(tenant_, repo_.path().string());
    fake_ = std::make_shared<FakeTarget>(clock_, dir_ / "fake");
    targets_.Add(fake_);
    registry_.Add(ReleaseStage::kName, [this] { return std::make_unique<ReleaseStage>(targets_); });
    // A web service the audit recognises (no dependencies: nothing to install).
    ps::testing::WriteText(repo_ / "package.json",
                           R"({"name":"shop","scripts":{"start":"node server.js"}})");
    ps::testing::WriteText(repo_ / "server.js",
                           "require('http').createServer((q, s) => s.end('ok'))"
                           ".listen(process.env.PORT);\n");
    // Production serves an older version.
    targets::ServiceRun old;
    old.name = "shop";
    old.command = "node server.js";
    old.version = "0000000000000000000000000000000000000001";
    fake_->stable["production"]["shop"] = {old, {}};
    // This process's own configuration says blue/green: the runs below say
    // canary in their recorded settings, which must be what counts.
    config_.release.strategy = "bluegreen";
  }

  // The run's recorded settings: release: as prodsprint.yaml would say it.
  Json Settings(Json release) {
    Json r = {{"strategy", "canary"},
              {"analysis", {{"min_requests", 50}, {"max_duration", "10m"}}},
              {"traffic", {{"rate", 0}}}};
    r.merge_patch(release);
    return {{"release", r}};
  }

  // Runs a release to its end in simulated time; returns the stage's output.
  Json Release(Json release = Json::object()) {
    engine::PipelineSpec spec{store::RunKind::kRelease,
                              {{ReleaseStage::kName, {}, 24 * 3'600'000LL, 1}}};
    run_ = Submit(
        spec,
        {{"env", "production"}, {"target", "fake"}, {"settings", Settings(std::move(release))}});
    started_ = clock_.Now();
    fake_->script.send = [this](const std::string& signal) {
      auto st = engine_->Signal(tenant_, run_.id, signal, "test");
      EXPECT_TRUE(st.ok()) << st.problem().Message();
    };
    Drain();
    const auto stages = Stages(run_.id);
    EXPECT_EQ(stages.size(), 1u);
    if (stages.empty()) return Json();
    EXPECT_EQ(stages[0].status, store::StageStatus::kDone) << stages[0].error.dump();
    return stages[0].output;
  }

  std::vector<std::string> Decisions(const Json& out) {
    std::vector<std::string> d;
    for (const auto& x : out.value("decisions", Json::array()))
      d.push_back(x.value("what", "") + ":" + x.value("verdict", ""));
    return d;
  }

  store::Release ReleaseRow() {
    auto rows = *store::ReadValue<std::vector<store::Release>>(
        *store_, [&](store::Tx& tx) { return tx.ListReleases(tenant_, project_id_); });
    EXPECT_EQ(rows.size(), 1u);
    return rows.empty() ? store::Release{} : rows.front();
  }

  ps::testing::TempDir repo_;
  targets::Targets targets_;
  std::shared_ptr<FakeTarget> fake_;
  store::Run run_;
  Millis started_ = 0;
};

TEST_F(ReleaseSim, AHealthyCanaryWalksEveryStepAndIsPromoted) {
  const Json out = Release();
  EXPECT_EQ(out.value("status", ""), "promoted") << out.dump(2);
  EXPECT_EQ(out.value("strategy", ""), "canary");  // the run's settings, not this process's
  EXPECT_EQ(fake_->log.weights, (std::vector<int>{10, 50}));
  EXPECT_EQ(Decisions(out), (std::vector<std::string>{"setWeight:continue", "analysis:promotable",
                                                      "setWeight:continue", "analysis:promotable",
                                                      "promote:promoted"}));
  EXPECT_EQ(fake_->log.calls.back(), "promote shop");
  EXPECT_EQ(ReleaseRow().status, "promoted");
  // At 10 % of 100 requests/s the analysis needs some tens of seconds to
  // call the candidate safe at alpha 0.01; at 50 %, less: simulated
  // seconds, not real ones.
  const Millis took = clock_.Now() - started_;
  EXPECT_GT(took, 4'000);
  EXPECT_LT(took, 120'000);
  EXPECT_EQ(fake_->stable["production"]["shop"].run.version.rfind("worktree-", 0), 0u);
}

TEST_F(ReleaseSim, AFailingCanaryIsRolledBackAtItsFirstStep) {
  fake_->script.candidate_error = 0.5;
  const Json out = Release();
  EXPECT_EQ(out.value("status", ""), "rolledback") << out.dump(2);
  EXPECT_NE(out.value("reason", "").find("analysis: shop"), std::string::npos);
  // Weight 0 first, then the candidate stops; it never reached 50 %.
  EXPECT_EQ(fake_->log.weights, (std::vector<int>{10, 0}));
  EXPECT_EQ(fake_->log.calls.back(), "rollback shop");
  EXPECT_EQ(Decisions(out).back(), "rollback:rollback");
  // Detected within a few dozen candidate requests.
  EXPECT_LT(fake_->log.candidate_requests, 60);
  EXPECT_LT(out.value("detection_ms", Millis{-1}), 10'000);
  const auto row = ReleaseRow();
  EXPECT_EQ(row.status, "rolledback");
  auto alerts = *store::ReadValue<std::vector<store::Alert>>(
      *store_, [&](store::Tx& tx) { return tx.ListAlerts(tenant_, project_id_); });
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].type, "release.rolledback");
  EXPECT_EQ(alerts[0].severity, "critical");
  EXPECT_EQ(CountEvents(run_.id, "release.rolledback"), 1);
  // The stable version still serves.
  EXPECT_EQ(fake_->stable["production"]["shop"].run.version.substr(0, 4), "0000");
}

TEST_F(ReleaseSim, ASlowerCanaryBreakingItsLatencyLimitIsRolledBack) {
  fake_->script.candidate_ms = 400;
  const Json out = Release(
      {{"analysis", {{"metrics", {{{"name", "latency"}, {"quantile", 0.99}, {"max", "250ms"}}}}}}});
  EXPECT_EQ(out.value("status", ""), "rolledback") << out.dump(2);
  EXPECT_NE(out.value("reason", "").find("latency"), std::string::npos) << out.value("reason", "");
}

TEST_F(ReleaseSim, ACandidateThatCrashesIsRolledBackAsUnhealthy) {
  fake_->script.candidate_crash_at = 2'000;
  const Json out = Release();
  EXPECT_EQ(out.value("status", ""), "rolledback");
  EXPECT_EQ(out.value("reason", "").rfind("unhealthy: shop", 0), 0u) << out.value("reason", "");
  EXPECT_EQ(fake_->log.calls.back(), "rollback shop");
  // Found within a health check's period of the crash.
  EXPECT_LE(clock_.Now() - fake_->log.candidate_started, 2'400);
}

TEST_F(ReleaseSim, ATimedPauseWaitsItsDurationInSimulatedTime) {
  const Json out = Release(
      {{"steps", {{{"setWeight", 20}}, {{"pause", {{"duration", "30m"}}}}, {{"setWeight", 60}}}}});
  EXPECT_EQ(out.value("status", ""), "promoted") << out.dump(2);
  EXPECT_EQ(fake_->log.weights, (std::vector<int>{20, 60}));
  EXPECT_GE(clock_.Now() - started_, 30 * 60'000);
  EXPECT_LT(clock_.Now() - started_, 31 * 60'000);
}

TEST_F(ReleaseSim, AnOpenPauseWaitsForPromote) {
  fake_->script.control = {{45 * 60'000, "promote"}};
  const Json out = Release(
      {{"steps", {{{"setWeight", 30}}, {{"pause", Json::object()}}, {{"setWeight", 100}}}}});
  EXPECT_EQ(out.value("status", ""), "promoted") << out.dump(2);
  EXPECT_EQ(fake_->log.weights, (std::vector<int>{30, 100}));
  EXPECT_GE(clock_.Now() - fake_->log.candidate_started, 45 * 60'000);
}

TEST_F(ReleaseSim, AnInconclusiveAnalysisWaitsForAPersonThenAborts) {
  // Too little traffic to decide within max_duration: no guess either way.
  fake_->script.rate = 2;
  fake_->script.control = {{3 * 60'000, "abort"}};
  const Json out = Release({{"analysis", {{"max_duration", "1m"}}}});
  EXPECT_EQ(out.value("status", ""), "aborted") << out.dump(2);
  EXPECT_EQ(out.value("reason", ""), "manual: prodsprint abort");
  const auto d = Decisions(out);
  ASSERT_GE(d.size(), 2u);
  EXPECT_EQ(d[d.size() - 2], "analysis:inconclusive");
  EXPECT_EQ(d.back(), "abort:rollback");
  EXPECT_EQ(fake_->log.calls.back(), "rollback shop");
}

TEST_F(ReleaseSim, TheSameVersionIsNotReleasedTwice) {
  const Json first = Release();
  ASSERT_EQ(first.value("status", ""), "promoted");
  fake_->log = {};
  const Json again = Release();
  EXPECT_EQ(again.value("status", ""), "unchanged");
  EXPECT_TRUE(fake_->log.weights.empty());
}

TEST_F(ReleaseSim, NothingToReleaseAgainstIsAConflict) {
  fake_->stable.clear();
  engine::PipelineSpec spec{store::RunKind::kRelease,
                            {{ReleaseStage::kName, {}, 24 * 3'600'000LL, 1}}};
  run_ = Submit(
      spec, {{"env", "production"}, {"target", "fake"}, {"settings", Settings(Json::object())}});
  Drain();
  const auto stages = Stages(run_.id);
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_EQ(
      stages[0].error.value("type", "").find("nothing-to-release-against") != std::string::npos,
      true)
      << stages[0].error.dump();
}

TEST_F(ReleaseSim, AnUnknownTargetIsRefused) {
  engine::PipelineSpec spec{store::RunKind::kRelease,
                            {{ReleaseStage::kName, {}, 24 * 3'600'000LL, 1}}};
  run_ = Submit(spec, {{"env", "production"}, {"target", "k8s"}});
  Drain();
  const auto stages = Stages(run_.id);
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_NE(stages[0].error.value("type", "").find("target-unsupported"), std::string::npos)
      << stages[0].error.dump();
}

TEST_F(ReleaseSim, EveryDecisionIsTheSameOnEveryRun) {
  // Each opening of the environment replays the same users (seeded): a
  // rolled-back release run again decides exactly as before.
  fake_->script.candidate_error = 0.3;
  fake_->script.stable_error = 0.01;
  const Json a = Release();
  ASSERT_EQ(a.value("status", ""), "rolledback");
  const ps::testing::FakeLog first = fake_->log;
  fake_->log = {};
  const Json b = Release();
  EXPECT_EQ(b.value("status", ""), "rolledback");
  EXPECT_EQ(a["decisions"], b["decisions"]);
  EXPECT_EQ(first.weights, fake_->log.weights);
  EXPECT_EQ(first.candidate_requests, fake_->log.candidate_requests);
}

}  // namespace
}  // namespace ps::stages

namespace ps::stages {
namespace {

// A run names no host path: the repository is the project's own record,
// and a project whose repository is not a folder here is refused.
TEST_F(ReleaseSim, ARepositoryThatIsNotAFolderHereIsRefused) {
  project_id_ = MakeProject(tenant_, "https://example.com/shop.git");
  engine::PipelineSpec spec{store::RunKind::kRelease,
                            {{ReleaseStage::kName, {}, 24 * 3'600'000LL, 1}}};
  run_ = Submit(spec, {{"env", "production"}, {"target", "fake"}, {"path", "/etc"}});
  Drain();
  const auto stages = Stages(run_.id);
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_NE(stages[0].error.value("type", "").find("repository-not-local"), std::string::npos)
      << stages[0].error.dump();
  EXPECT_TRUE(fake_->log.calls.empty());
}

}  // namespace
}  // namespace ps::stages

namespace ps::stages {
namespace {

// A signal is pending until taken: an abort sent before the release's
// stage started is acted on as soon as it watches.
TEST_F(ReleaseSim, AnAbortSentBeforeTheStageStartsIsNotLost) {
  engine::PipelineSpec spec{store::RunKind::kRelease,
                            {{ReleaseStage::kName, {}, 24 * 3'600'000LL, 1}}};
  run_ = Submit(
      spec, {{"env", "production"}, {"target", "fake"}, {"settings", Settings(Json::object())}});
  ASSERT_TRUE(engine_->Signal(tenant_, run_.id, "abort", "test").ok());
  Drain();
  const auto stages = Stages(run_.id);
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_EQ(stages[0].output.value("status", ""), "aborted") << stages[0].output.dump(2);
  EXPECT_EQ(CountEvents(run_.id, "run.signal_taken"), 1);
  // Taken once: a second watch does not see it again.
  EXPECT_EQ(fake_->log.calls.back(), "rollback shop");
  EXPECT_LT(fake_->log.candidate_requests, 5);
}

}  // namespace
}  // namespace ps::stages
