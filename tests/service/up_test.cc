// The application layer's `up` as a state machine over runs, end to end on
// the real stages, engine and store, with the fake target in simulated time
// (no processes, no HAProxy): first deploy, nothing to release, a promoted
// canary, a rolled-back one, the report stored as artifacts — and nothing
// printed: what happens reaches the caller as values and listener notes.
#include "service/up.h"

#include <gtest/gtest.h>

#include "engine/engine_fixture.h"
#include "service/pipelines.h"
#include "service/projects.h"
#include "targets/fake_target.h"
#include "testing/testing.h"

namespace ps::service {
namespace {

class UpSim : public engine::EngineTest {
 protected:
  void SetUp() override {
    engine::EngineTest::SetUp();
    // No test command, no routed traffic: the gates that need processes
    // say so without blocking; the release reads the fake's users.
    config_.policy.tests_required = false;
    config_.release.traffic_rate = 0;
    fake_ = std::make_shared<ps::testing::FakeTarget>(clock_, dir_ / "fake");
    targets_ = std::make_shared<targets::Targets>();
    targets_->Add(fake_);
    RegisterBuiltinStages(registry_, targets_);
    repo_ = repo_dir_ / "shop";
    ps::testing::WriteText(repo_ / "package.json",
                           R"({"name":"shop","scripts":{"start":"node server.js"}})");
    Version("ok");
    app_ = std::make_unique<App>(
        App{config_, *store_, *artifacts_, *engine_, *targets_, clock_, random_});
    auto p = EnsureProject(*app_, tenant_, {"test:up"}, repo_.string());
    ASSERT_TRUE(p.ok()) << p.problem().Message();
    project_ = *p;
  }

  // A new version of the repository (its content is its version).
  void Version(const std::string& body) {
    ps::testing::WriteText(repo_ / "server.js", "require('http').createServer((q, s) => s.end('" +
                                                    body + "')).listen(process.env.PORT);\n");
  }

  Result<UpOutcome> RunUp() {
    notes_.clear();
    UpRequest req;
    req.repo = repo_.string();
    req.apply = true;
    req.target = "fake";
    req.reports_dir = dir_ / "reports";
    UpListener listener;
    listener.note = [this](const std::string& m) { notes_.push_back(m); };
    listener.phase = [this](const std::string& m) { notes_.push_back("# " + m); };
    Drive drive = [this](const std::string& run_id,
                         const std::function<void()>&) -> Result<store::Run> {
      Drain();
      return GetRun(run_id);
    };
    return Up(*app_, tenant_, {"test:up"}, project_, req, drive, listener);
  }

  bool Noted(const std::string& text) const {
    for (const auto& n : notes_) {
      if (n.find(text) != std::string::npos) return true;
    }
    return false;
  }

  ps::testing::TempDir repo_dir_;
  std::filesystem::path repo_;
  std::shared_ptr<ps::testing::FakeTarget> fake_;
  std::shared_ptr<targets::Targets> targets_;
  std::unique_ptr<App> app_;
  store::Project project_;
  std::vector<std::string> notes_;
};

TEST_F(UpSim, FirstDeployThenNothingThenACanaryPromotedThenOneRolledBack) {
  // 1. Nothing in production yet: its first version is an apply.
  auto first = RunUp();
  ASSERT_TRUE(first.ok()) << first.problem().Message();
  EXPECT_TRUE(first->ok()) << first->outcome;
  EXPECT_EQ(first->release_kind, "first deploy");
  EXPECT_NE(first->outcome.find("deployed to production (its first version)"), std::string::npos)
      << first->outcome;
  EXPECT_TRUE(Noted("# First deployment to production"));
  ASSERT_TRUE(first->checklist.is_object());
  EXPECT_TRUE(first->checklist["ready"].get<bool>());
  const std::string v1 = first->version;
  EXPECT_EQ(fake_->stable["production"]["shop"].run.version, v1);
  // The report: files for the terminal, artifacts for every other interface.
  ASSERT_TRUE(first->report.has_value());
  EXPECT_TRUE(first->report->problems.empty());
  ASSERT_EQ(first->report->artifacts.size(), 2u);
  ASSERT_TRUE(first->report->files.has_value());
  EXPECT_TRUE(std::filesystem::exists(first->report->files->html));
  auto detail = LoadDetail(*app_, tenant_, first->run.id);
  ASSERT_TRUE(detail.ok());
  int reports = 0;
  for (const auto& a : detail->artifacts)
    reports += a.name == "report.html" || a.name == "report.md";
  EXPECT_EQ(reports, 2);

  // 2. The same source again: staging unchanged, the readiness run reused,
  //    and nothing to release.
  auto again = RunUp();
  ASSERT_TRUE(again.ok()) << again.problem().Message();
  EXPECT_TRUE(again->ok()) << again->outcome;
  EXPECT_TRUE(Noted("reused")) << ::testing::PrintToString(notes_);
  EXPECT_EQ(again->release_kind, "release");
  EXPECT_EQ(again->release_status, "unchanged");
  EXPECT_NE(again->outcome.find("Nothing to release"), std::string::npos) << again->outcome;

  // 3. A new version: a canary on production, every step, promoted.
  Version("ok v2");
  fake_->log = {};
  auto promoted = RunUp();
  ASSERT_TRUE(promoted.ok()) << promoted.problem().Message();
  EXPECT_TRUE(promoted->ok()) << promoted->outcome;
  EXPECT_EQ(promoted->release_status, "promoted");
  EXPECT_NE(promoted->version, v1);
  EXPECT_EQ(fake_->stable["production"]["shop"].run.version, promoted->version);
  EXPECT_EQ(fake_->log.weights, (std::vector<int>{10, 50}));
  EXPECT_TRUE(Noted("# Release to production"));

  // 4. A worse version: rolled back by itself; up says so and is not ok.
  Version("bad v3");
  fake_->script.candidate_error = 0.5;
  auto rolled = RunUp();
  ASSERT_TRUE(rolled.ok()) << rolled.problem().Message();
  EXPECT_FALSE(rolled->ok());
  EXPECT_TRUE(rolled->rolled_back);
  EXPECT_EQ(rolled->release_status, "rolledback");
  EXPECT_NE(rolled->outcome.find("rolled back in production"), std::string::npos)
      << rolled->outcome;
  EXPECT_EQ(fake_->stable["production"]["shop"].run.version, promoted->version);
  // The JSON every interface shows carries all of it.
  const Json j = rolled->ToJson();
  EXPECT_EQ(j["release_kind"], "release");
  EXPECT_EQ(j["release"]["status"], "rolledback");
  EXPECT_EQ(j["report"]["artifacts"].size(), 2u);
}

TEST_F(UpSim, AnUnhealthyCandidateIsRolledBackAndTheNextUpReleasesAgain) {
  auto first = RunUp();  // the first deploy (an apply on the fake)
  ASSERT_TRUE(first.ok());
  Version("ok v2");
  fake_->script.candidate_crash_at = 0;  // the candidate is never healthy
  auto crashed = RunUp();
  ASSERT_TRUE(crashed.ok());
  EXPECT_FALSE(crashed->ok());
  EXPECT_TRUE(crashed->rolled_back) << crashed->outcome;
  // Fixed: the same source again releases it (a rolled-back release is a
  // finished run; a new one starts).
  fake_->script.candidate_crash_at = -1;
  auto fixed = RunUp();
  ASSERT_TRUE(fixed.ok());
  EXPECT_TRUE(fixed->ok()) << fixed->outcome;
  EXPECT_EQ(fixed->release_status, "promoted");
}

}  // namespace
}  // namespace ps::service
