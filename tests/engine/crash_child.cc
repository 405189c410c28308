// A child process for the reliability tests: serves a store with real worker
// threads and stages whose side effects are counted in a separate ledger.
//
//   engine_crash_child STATE LEDGER up            submit one run if none, serve until done
//   engine_crash_child STATE LEDGER submit N      submit N runs and exit
//   engine_crash_child STATE LEDGER serve W       serve with W workers until all runs end
//
// Exit: 0 all runs done, 3 a run ended in error, 4 setup failed.
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <thread>

#include "artifacts/artifact_store.h"
#include "core/ids.h"
#include "engine/engine.h"
#include "engine/worker_pool.h"
#include "store/sqlite/sqlite_store.h"
#include "store/tenancy.h"

namespace {

using namespace ps;  // NOLINT(google-build-using-namespace): a test program

// The ledger: a SQLite file of its own, standing for an outside system.
// `executions` gets a row every time a stage body starts; `effects` gets the
// stage's effect once per effect key (the outside system deduplicates).
void Ledger(const std::string& path, const std::string& sql, const std::vector<std::string>& args) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_busy_timeout(db, 10'000);
  sqlite3_exec(db,
               "CREATE TABLE IF NOT EXISTS executions(run TEXT, stage TEXT, attempt INTEGER, "
               "pid INTEGER);"
               "CREATE TABLE IF NOT EXISTS effects(key TEXT PRIMARY KEY, stage TEXT);",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  for (std::size_t i = 0; i < args.size(); ++i) {
    sqlite3_bind_text(st, static_cast<int>(i + 1), args[i].c_str(), -1, SQLITE_TRANSIENT);
  }
  sqlite3_step(st);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

class EffectStage final : public engine::Stage {
 public:
  explicit EffectStage(std::string ledger) : ledger_(std::move(ledger)) {}
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override {
    Ledger(ledger_, "INSERT INTO executions VALUES(?1, ?2, ?3, ?4)",
           {ctx.run().id, ctx.stage(), std::to_string(ctx.attempt()), std::to_string(getpid())});
    std::mt19937 rng(std::random_device{}());
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 15));
    Ledger(ledger_, "INSERT OR IGNORE INTO effects VALUES(?1, ?2)",
           {ctx.EffectKey("effect"), ctx.stage()});
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 15));
    engine::StageOutput out;
    out.facts = {{"stage", ctx.stage()}};
    PS_ASSIGN(auto art, ctx.PutArtifact(store::ArtifactType::kRunbook, ctx.stage() + ".md",
                                        "# " + ctx.stage() + "\n", "text/markdown"));
    out.artifacts.push_back(art);
    out.events.push_back({"release.progress", {{"stage", ctx.stage()}}});
    return out;
  }

 private:
  std::string ledger_;
};

engine::PipelineSpec Pipeline() {
  return {store::RunKind::kRelease,
          {{"a", {}, 0, 0},
           {"b", {"a"}, 0, 0},
           {"c", {"a"}, 0, 0},
           {"d", {"a"}, 0, 0},
           {"e", {"b", "c", "d"}, 0, 0},
           {"f", {"e"}, 0, 0}}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s STATE LEDGER up|submit N|serve W\n", argv[0]);
    return 4;
  }
  const std::string state = argv[1], ledger = argv[2], mode = argv[3];
  const int n = argc > 4 ? std::atoi(argv[4]) : 2;
  Config config;
  config.engine.lease_ttl = 2'000;
  config.engine.heartbeat = 200;
  config.engine.backoff_base = 10;
  config.engine.backoff_cap = 100;
  config.engine.max_attempts = 1000;  // kills must not exhaust the attempts
  config.engine.poll = 20;
  auto store = store::sqlite::SqliteStore::Open(state + "/state.db");
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.problem().Message().c_str());
    return 4;
  }
  auto& clock = SystemClock::Instance();
  auto& random = SystemRandom::Instance();
  artifacts::FsArtifactStore artifacts(state + "/artifacts");
  engine::StageRegistry registry;
  for (const auto& s : Pipeline().stages) {
    registry.Add(s.name, [ledger] { return std::make_unique<EffectStage>(ledger); });
  }
  engine::Engine eng({**store, artifacts, registry, clock, random, Logger::Null(), config,
                      state + "/logs", true, engine::LocalOwnerAlive});
  auto tenant = store::EnsureTenant(**store, "crash", "main", clock, random);
  if (!tenant.ok()) return 4;
  auto project = store::WriteValue<std::string>(**store, [&](store::Tx& tx) -> Result<std::string> {
    auto p = tx.FindProjectByRepo(*tenant, "/crash");
    if (p.ok()) return p->id;
    store::Project np;
    np.id = NewId(clock, random);
    np.tenant = *tenant;
    np.name = "crash";
    np.repo_url = "/crash";
    np.created_at = np.updated_at = clock.Now();
    PS_TRY(tx.CreateProject(np));
    return np.id;
  });
  if (!project.ok()) return 4;

  auto runs = [&] {
    return store::ReadValue<std::vector<store::Run>>(**store, [&](store::Tx& tx) {
      return tx.ListRuns(*tenant, {*project, 10000});
    });
  };
  if (mode == "submit" || mode == "up") {
    auto existing = runs();
    if (!existing.ok()) return 4;
    const int want = mode == "submit" ? n : 1;
    for (int i = static_cast<int>(existing->size()); i < want; ++i) {
      if (!eng.Submit(*tenant, *project, Pipeline(), {}).ok()) return 4;
    }
    if (mode == "submit") return 0;
  }
  engine::WorkerPool pool(eng, mode == "serve" ? n : 2, engine::ProcessWorkerId());
  pool.Start();
  while (true) {
    auto all = runs();
    if (all.ok()) {
      bool pending = false, failed = false;
      for (const auto& r : *all) {
        pending = pending || r.status == store::RunStatus::kPending ||
                  r.status == store::RunStatus::kRunning;
        failed = failed || r.status == store::RunStatus::kError;
      }
      if (!pending) {
        pool.Stop();
        return failed ? 3 : 0;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}
