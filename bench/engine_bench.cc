// Engine speed on the embedded default (SQLite, WAL, synchronous=FULL):
// stage transitions per second with durable commits, and dispatch latency —
// from the end of one stage's work to the start of the next stage's work.
// The peer, measured in the same run on the same disk, is SQLite itself: the
// rate of durable one-row commits, the ceiling any SQLite-backed engine faces.
//
//   engine_bench [--runs N] [--stages K] [--workers W] [--repeat R] [--json]
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "artifacts/artifact_store.h"
#include "core/ids.h"
#include "engine/engine.h"
#include "engine/worker_pool.h"
#include "store/sqlite/sqlite_store.h"
#include "store/tenancy.h"

namespace {

using namespace ps;  // NOLINT(google-build-using-namespace): a benchmark program
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double Median(std::vector<double> v) { return Percentile(std::move(v), 0.5); }

struct Sample {
  double transitions_per_s = 0;
  double stages_per_s = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
};

// Stage bodies record when they start and end, per run.
struct Timeline {
  std::mutex mu;
  std::map<std::string, std::vector<std::pair<Clock::time_point, Clock::time_point>>> by_run;
};

class MarkStage final : public engine::Stage {
 public:
  explicit MarkStage(Timeline& t) : t_(t) {}
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override {
    auto start = Clock::now();
    auto end = Clock::now();
    std::lock_guard lock(t_.mu);
    t_.by_run[ctx.run().id].push_back({start, end});
    return engine::StageOutput{};
  }

 private:
  Timeline& t_;
};

Sample RunEngine(const std::filesystem::path& dir, int runs, int stages, int workers) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = std::move(store::sqlite::SqliteStore::Open((dir / "state.db").string())).value();
  artifacts::FsArtifactStore artifacts(dir / "artifacts");
  Config config;
  config.engine.poll = 50;
  Timeline timeline;
  engine::StageRegistry registry;
  engine::PipelineSpec spec{store::RunKind::kRelease, {}};
  for (int i = 0; i < stages; ++i) {
    std::string name = "s" + std::to_string(i);
    registry.Add(name, [&timeline] { return std::make_unique<MarkStage>(timeline); });
    spec.stages.push_back(
        {name,
         i ? std::vector<std::string>{"s" + std::to_string(i - 1)} : std::vector<std::string>{}, 0,
         0});
  }
  auto& clock = SystemClock::Instance();
  auto& random = SystemRandom::Instance();
  engine::Engine eng({*store, artifacts, registry, clock, random, Logger::Null(), config,
                      dir / "logs", true, engine::LocalOwnerAlive});
  auto tenant = *store::EnsureTenant(*store, "bench", "main", clock, random);
  store::Project p;
  p.id = NewId(clock, random);
  p.tenant = tenant;
  p.name = "bench";
  p.repo_url = "/bench";
  p.created_at = p.updated_at = clock.Now();
  (void)store->Write([&](store::Tx& tx) { return tx.CreateProject(p); });
  std::vector<std::string> ids;
  for (int r = 0; r < runs; ++r) ids.push_back(eng.Submit(tenant, p.id, spec, {})->id);

  const auto t0 = Clock::now();
  engine::WorkerPool pool(eng, workers, "bench");
  pool.Start();
  while (true) {
    {
      std::lock_guard lock(timeline.mu);
      std::size_t done = 0;
      for (const auto& [id, v] : timeline.by_run) done += v.size();
      if (done == static_cast<std::size_t>(runs * stages)) break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  pool.Stop();  // the last completions are committed once workers stop
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();

  std::vector<double> dispatch;
  for (auto& [id, v] : timeline.by_run) {
    for (std::size_t i = 1; i < v.size(); ++i) dispatch.push_back(Ms(v[i].first - v[i - 1].second));
  }
  Sample s;
  const double total_stages = static_cast<double>(runs) * stages;
  s.stages_per_s = total_stages / secs;
  s.transitions_per_s = 2 * total_stages / secs;  // ready->running, running->done
  s.p50_ms = Percentile(dispatch, 0.50);
  s.p99_ms = Percentile(dispatch, 0.99);
  s.max_ms = Percentile(dispatch, 1.0);
  return s;
}

double RawSqliteCommits(const std::filesystem::path& dir, int n) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  sqlite3* db = nullptr;
  sqlite3_open((dir / "raw.db").c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t(a, b);",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?1, 'x')", -1, &st, nullptr);
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_bind_int(st, 1, i);
    sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n / secs;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 100, stages = 10, workers = 2, repeat = 5;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    auto arg = [&](const char* name) { return std::strcmp(argv[i], name) == 0 && i + 1 < argc; };
    if (arg("--runs")) {
      runs = std::atoi(argv[++i]);
    } else if (arg("--stages")) {
      stages = std::atoi(argv[++i]);
    } else if (arg("--workers")) {
      workers = std::atoi(argv[++i]);
    } else if (arg("--repeat")) {
      repeat = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--json") == 0) {
      json = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--runs N] [--stages K] [--workers W] [--repeat R] [--json]\n",
                   argv[0]);
      return 2;
    }
  }
  const auto dir =
      std::filesystem::temp_directory_path() / ("ps-bench-" + std::to_string(getpid()));
  std::vector<double> tps, sps, p50, p99, mx, raw;
  for (int r = 0; r < repeat; ++r) {
    raw.push_back(RawSqliteCommits(dir / "raw", 2000));
    Sample s = RunEngine(dir / "engine", runs, stages, workers);
    tps.push_back(s.transitions_per_s);
    sps.push_back(s.stages_per_s);
    p50.push_back(s.p50_ms);
    p99.push_back(s.p99_ms);
    mx.push_back(s.max_ms);
  }
  std::filesystem::remove_all(dir);
  const double ratio = Median(tps) / Median(raw);
  if (json) {
    std::printf(
        "{\"runs\":%d,\"stages\":%d,\"workers\":%d,\"repeat\":%d,"
        "\"transitions_per_s_median\":%.0f,\"stages_per_s_median\":%.0f,"
        "\"dispatch_p50_ms_median\":%.3f,\"dispatch_p99_ms_median\":%.3f,"
        "\"dispatch_max_ms_median\":%.3f,\"sqlite_durable_commits_per_s_median\":%.0f,"
        "\"transitions_per_durable_commit_ratio\":%.3f}\n",
        runs, stages, workers, repeat, Median(tps), Median(sps), Median(p50), Median(p99),
        Median(mx), Median(raw), ratio);
  } else {
    std::printf("engine: %d runs x %d stages, %d workers, durable commits, median of %d\n", runs,
                stages, workers, repeat);
    std::printf("  stage transitions/s   %8.0f   (stages/s %.0f)\n", Median(tps), Median(sps));
    std::printf("  dispatch latency      p50 %.2f ms   p99 %.2f ms   max %.2f ms\n", Median(p50),
                Median(p99), Median(mx));
    std::printf("peer: SQLite durable one-row commits/s   %8.0f\n", Median(raw));
    std::printf("ratio: transitions per durable commit     %8.2f\n", ratio);
  }
  return 0;
}
