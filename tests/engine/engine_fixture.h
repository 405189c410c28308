// An engine on a real SQLite store in simulated time, with scriptable stages.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>

#include "artifacts/artifact_store.h"
#include "core/ids.h"
#include "engine/engine.h"
#include "store/sqlite/sqlite_store.h"
#include "store/tenancy.h"
#include "testing/testing.h"

namespace ps::engine {

using StageFn = std::function<Result<StageOutput>(StageContext&)>;

class FnStage final : public Stage {
 public:
  explicit FnStage(StageFn fn) : fn_(std::move(fn)) {}
  Result<StageOutput> Run(StageContext& ctx) override { return fn_(ctx); }

 private:
  StageFn fn_;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.engine.lease_ttl = 10'000;
    config_.engine.heartbeat = 2'000;
    config_.engine.backoff_base = 1'000;
    config_.engine.backoff_cap = 8'000;
    config_.engine.max_attempts = 3;
    config_.engine.stage_timeout = 60'000;
    auto s = store::sqlite::SqliteStore::Open((dir_ / "state.db").string(), {.durable = false});
    ASSERT_TRUE(s.ok()) << s.problem().Message();
    store_ = std::move(s).value();
    artifacts_ = std::make_unique<artifacts::FsArtifactStore>(dir_ / "artifacts");
    auto t = store::EnsureTenant(*store_, "acme", "main", clock_, random_);
    ASSERT_TRUE(t.ok());
    tenant_ = *t;
    project_id_ = MakeProject(tenant_, "/src/app");
    MakeEngine();
  }

  void MakeEngine() {
    engine_ = std::make_unique<Engine>(EngineDeps{*store_, *artifacts_, registry_, clock_, random_,
                                                  Logger::Null(), config_, dir_ / "logs",
                                                  /*heartbeat_thread=*/false, /*owner_alive=*/{}});
  }

  std::string MakeProject(const store::Tenant& t, const std::string& repo) {
    store::Project p;
    p.id = NewId(clock_, random_);
    p.tenant = t;
    p.name = "app";
    p.repo_url = repo;
    p.created_at = p.updated_at = clock_.Now();
    EXPECT_TRUE(store_->Write([&](store::Tx& tx) { return tx.CreateProject(p); }).ok());
    return p.id;
  }

  // Registers a stage that records each run and then calls `fn`.
  void AddStage(const std::string& name, StageFn fn) {
    registry_.Add(name, [this, name, fn] {
      return std::make_unique<FnStage>([this, name, fn](StageContext& ctx) {
        {
          std::lock_guard lock(mu_);
          executions_.push_back(name + "#" + std::to_string(ctx.attempt()));
        }
        return fn(ctx);
      });
    });
  }
  void AddOkStage(const std::string& name) {
    AddStage(name, [](StageContext&) -> Result<StageOutput> { return StageOutput{}; });
  }

  store::Run Submit(const PipelineSpec& spec, Json input = Json::object()) {
    auto r = engine_->Submit(tenant_, project_id_, spec, std::move(input));
    EXPECT_TRUE(r.ok()) << r.problem().Message();
    return *r;
  }

  // Runs stages until none is ready, advancing simulated time over backoffs.
  void Drain(int max_steps = 200) {
    for (int i = 0; i < max_steps; ++i) {
      auto ran = engine_->RunOnce("w1");
      ASSERT_TRUE(ran.ok()) << ran.problem().Message();
      if (*ran) continue;
      auto next = store::ReadValue<Millis>(*store_, [](store::Tx& tx) { return tx.NextWakeup(); });
      ASSERT_TRUE(next.ok());
      if (*next == 0) return;
      clock_.Advance(std::max<Millis>(1, *next - clock_.Now()));
    }
    FAIL() << "run did not settle";
  }

  store::Run GetRun(const std::string& id) {
    auto r = store::ReadValue<store::Run>(*store_,
                                          [&](store::Tx& tx) { return tx.GetRun(tenant_, id); });
    EXPECT_TRUE(r.ok());
    return *r;
  }
  std::vector<store::StageRow> Stages(const std::string& run_id) {
    return *store::ReadValue<std::vector<store::StageRow>>(
        *store_, [&](store::Tx& tx) { return tx.ListStages(tenant_, run_id); });
  }
  std::vector<store::Event> Events(const std::string& run_id) {
    return *store::ReadValue<std::vector<store::Event>>(
        *store_, [&](store::Tx& tx) { return tx.ListEvents(tenant_, 0, 10000, run_id); });
  }
  int CountEvents(const std::string& run_id, const std::string& name) {
    int n = 0;
    for (const auto& e : Events(run_id)) n += e.name == name;
    return n;
  }

  ps::testing::TempDir dir_;
  SimClock clock_;
  SeededRandom random_{1234};
  Config config_;
  StageRegistry registry_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<artifacts::FsArtifactStore> artifacts_;
  std::unique_ptr<Engine> engine_;
  store::Tenant tenant_;
  std::string project_id_;
  std::mutex mu_;
  std::vector<std::string> executions_;
};

}  // namespace ps::engine
