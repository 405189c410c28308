// kill -9 at random moments: a multi-stage run in a child process is killed
// again and again (fixed seeds), restarted each time, and in the end every
// stage's side effect is recorded exactly once.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>

#include "store/sqlite/sqlite_store.h"
#include "store/tenancy.h"
#include "testing/testing.h"

namespace ps::engine {
namespace {

pid_t Spawn(const std::vector<std::string>& argv) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Rows of a query on the ledger, as "a|b|c" strings.
std::vector<std::string> Query(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(db_path.c_str(), &db);
  std::vector<std::string> rows;
  sqlite3_exec(
      db, sql.c_str(),
      [](void* out, int n, char** vals, char**) {
        std::string row;
        for (int i = 0; i < n; ++i) row += (i ? "|" : "") + std::string(vals[i] ? vals[i] : "");
        static_cast<std::vector<std::string>*>(out)->push_back(row);
        return 0;
      },
      &rows, nullptr);
  sqlite3_close(db);
  return rows;
}

struct Outcome {
  int kills = 0;
  int lost_attempts = 0;
};

Outcome KillAndRestartUntilDone(unsigned seed) {
  ps::testing::TempDir dir;
  const std::string state = dir.path().string();
  const std::string ledger = (dir / "ledger.db").string();
  std::mt19937 rng(seed);
  Outcome o;
  bool finished = false;
  for (int round = 0; round < 300 && !finished; ++round) {
    pid_t pid = Spawn({PS_CRASH_CHILD, state, ledger, "up"});
    // Most kills land early, where a restart meets half-done work.
    const int kill_after_ms = 1 + static_cast<int>(rng() % 120);
    int status = 0;
    bool exited = false;
    for (int waited = 0; waited < kill_after_ms; ++waited) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (exited) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << "seed " << seed << ": child ended with status " << status;
      finished = true;
      break;
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ++o.kills;
  }
  EXPECT_TRUE(finished) << "seed " << seed << ": the run never completed";

  // What the engine recorded.
  auto store = store::sqlite::SqliteStore::Open(state + "/state.db");
  EXPECT_TRUE(store.ok());
  if (!store.ok()) return o;
  auto tenant = store::FindTenant(**store, "crash", "main");
  EXPECT_TRUE(tenant.ok());
  auto check = (*store)->Read([&](store::Tx& tx) -> Status {
    PS_ASSIGN(auto project, tx.FindProjectByRepo(*tenant, "/crash"));
    PS_ASSIGN(auto runs, tx.ListRuns(*tenant, {project.id, 100}));
    EXPECT_EQ(runs.size(), 1u) << "seed " << seed;
    const auto& run = runs.front();
    EXPECT_EQ(run.status, store::RunStatus::kDone) << "seed " << seed;
    PS_ASSIGN(auto stages, tx.ListStages(*tenant, run.id));
    EXPECT_EQ(stages.size(), 6u);
    for (const auto& s : stages) EXPECT_EQ(s.status, store::StageStatus::kDone) << s.name;
    PS_ASSIGN(auto events, tx.ListEvents(*tenant, 0, 100000, run.id));
    std::map<std::string, int> done, progress;
    for (const auto& e : events) {
      if (e.name == "stage.done") ++done[e.payload["stage"].get<std::string>()];
      if (e.name == "release.progress") ++progress[e.payload["stage"].get<std::string>()];
    }
    PS_ASSIGN(auto arts, tx.ListArtifacts(*tenant, project.id, run.id));
    std::map<std::string, int> artifacts;
    for (const auto& a : arts) ++artifacts[a.name];
    PS_ASSIGN(auto attempts, tx.ListAttempts(*tenant, run.id));
    std::map<std::string, int> done_attempts;
    for (const auto& a : attempts) {
      if (a.status == store::AttemptStatus::kDone) ++done_attempts[a.stage];
      if (a.status == store::AttemptStatus::kLost) ++o.lost_attempts;
      // Every attempt is closed: none is left "running" after the run is done.
      EXPECT_NE(a.status, store::AttemptStatus::kRunning) << a.key;
    }
    for (const char* s : {"a", "b", "c", "d", "e", "f"}) {
      EXPECT_EQ(done[s], 1) << "seed " << seed << " stage " << s << ": stage.done events";
      EXPECT_EQ(progress[s], 1) << "seed " << seed << " stage " << s << ": stage events";
      EXPECT_EQ(artifacts[std::string(s) + ".md"], 1) << "seed " << seed << " stage " << s;
      EXPECT_EQ(done_attempts[s], 1) << "seed " << seed << " stage " << s;
    }
    return Ok();
  });
  EXPECT_TRUE(check.ok()) << check.problem().Message();

  // What the outside system saw: each effect once, however often stages ran.
  auto effects = Query(ledger, "SELECT stage, COUNT(*) FROM effects GROUP BY stage ORDER BY stage");
  EXPECT_EQ(effects, (std::vector<std::string>{"a|1", "b|1", "c|1", "d|1", "e|1", "f|1"}))
      << "seed " << seed;
  // No attempt ever ran twice.
  auto dup = Query(ledger,
                   "SELECT stage, attempt FROM executions GROUP BY run, stage, attempt "
                   "HAVING COUNT(*) > 1");
  EXPECT_TRUE(dup.empty()) << "seed " << seed << ": " << (dup.empty() ? "" : dup.front());
  return o;
}

TEST(CrashRecovery, KillNineAtRandomMomentsLosesAndDuplicatesNothing) {
  int kills = 0, lost = 0;
  for (unsigned seed = 1; seed <= 48; ++seed) {
    auto o = KillAndRestartUntilDone(seed);
    kills += o.kills;
    lost += o.lost_attempts;
  }
  // The test is only worth something if kills landed inside stages.
  EXPECT_GT(kills, 48);
  EXPECT_GT(lost, 0);
  std::printf("kills: %d, stage attempts lost and retried: %d\n", kills, lost);
}

}  // namespace
}  // namespace ps::engine
