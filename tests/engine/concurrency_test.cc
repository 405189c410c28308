// Concurrent workers on one store never run the same stage attempt twice:
// in threads with their own connections, and in separate processes.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "engine/engine_fixture.h"
#include "engine/worker_pool.h"

namespace ps::engine {
namespace {

TEST_F(EngineTest, ThreadsWithTheirOwnConnectionsShareTheWorkExactlyOnce) {
  std::map<std::string, int> runs_of;  // run/stage#attempt -> executions
  std::mutex mu;
  for (const char* s : {"a", "b", "c", "d", "e"}) {
    registry_.Add(s, [&, s] {
      return std::make_unique<FnStage>([&, s](StageContext& ctx) -> Result<StageOutput> {
        std::lock_guard lock(mu);
        ++runs_of[ctx.run().id + "/" + s + "#" + std::to_string(ctx.attempt())];
        return StageOutput{};
      });
    });
  }
  const PipelineSpec spec{store::RunKind::kReadiness,
                          {{"a", {}, 0, 0},
                           {"b", {"a"}, 0, 0},
                           {"c", {"a"}, 0, 0},
                           {"d", {"a"}, 0, 0},
                           {"e", {"b", "c", "d"}, 0, 0}}};
  std::vector<std::string> run_ids;
  for (int i = 0; i < 30; ++i) run_ids.push_back(Submit(spec).id);

  // Four engines, each on its own connection, two worker threads each.
  config_.engine.poll = 5;
  std::vector<std::unique_ptr<store::Store>> stores;
  std::vector<std::unique_ptr<Engine>> engines;
  std::vector<std::unique_ptr<WorkerPool>> pools;
  for (int i = 0; i < 4; ++i) {
    stores.push_back(
        std::move(store::sqlite::SqliteStore::Open((dir_ / "state.db").string())).value());
    engines.push_back(std::make_unique<Engine>(EngineDeps{*stores.back(),
                                                          *artifacts_,
                                                          registry_,
                                                          SystemClock::Instance(),
                                                          random_,
                                                          Logger::Null(),
                                                          config_,
                                                          dir_ / "logs",
                                                          true,
                                                          {}}));
    pools.push_back(std::make_unique<WorkerPool>(*engines.back(), 2, "p" + std::to_string(i)));
    pools.back()->Start();
  }
  for (int i = 0; i < 3000; ++i) {
    bool all_done = true;
    for (const auto& id : run_ids)
      all_done = all_done && GetRun(id).status == store::RunStatus::kDone;
    if (all_done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& p : pools) p->Stop();
  for (const auto& id : run_ids) EXPECT_EQ(GetRun(id).status, store::RunStatus::kDone) << id;
  EXPECT_EQ(runs_of.size(), run_ids.size() * 5);  // every stage ran, at attempt 1
  for (const auto& [key, n] : runs_of) EXPECT_EQ(n, 1) << key;
}

TEST(ConcurrentProcesses, NeverRunTheSameAttemptTwice) {
  ps::testing::TempDir dir;
  const std::string state = dir.path().string();
  const std::string ledger = (dir / "ledger.db").string();
  auto run = [&](std::vector<std::string> args) {
    pid_t pid = fork();
    if (pid == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    return pid;
  };
  int status = 0;
  pid_t submit = run({PS_CRASH_CHILD, state, ledger, "submit", "20"});
  waitpid(submit, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::vector<pid_t> servers;
  for (int i = 0; i < 3; ++i) servers.push_back(run({PS_CRASH_CHILD, state, ledger, "serve", "2"}));
  for (pid_t p : servers) {
    waitpid(p, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(ledger.c_str(), &db), SQLITE_OK);
  auto count = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
    long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
  };
  EXPECT_EQ(count("SELECT COUNT(*) FROM executions"), 20 * 6);
  EXPECT_EQ(count("SELECT COUNT(*) FROM (SELECT 1 FROM executions GROUP BY run, stage, attempt "
                  "HAVING COUNT(*) > 1)"),
            0);
  // The work was shared: more than one process executed stages.
  EXPECT_GT(count("SELECT COUNT(DISTINCT pid) FROM executions"), 1);
  sqlite3_close(db);
}

}  // namespace
}  // namespace ps::engine
