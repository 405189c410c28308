#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "core/fs.h"
#include "store/conformance.h"
#include "store/sqlite/migrations.h"
#include "store/tenancy.h"
#include "testing/testing.h"

namespace ps::store {
namespace {

std::unique_ptr<Store> MakeSqlite(const std::filesystem::path& dir) {
  auto s = sqlite::SqliteStore::Open((dir / "state.db").string());
  EXPECT_TRUE(s.ok()) << s.problem().Message();
  return std::move(s).value();
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance,
                         ::testing::Values(NamedFactory{"sqlite", MakeSqlite}),
                         [](const auto& info) { return info.param.name; });

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return (dir_ / "state.db").string(); }
  // A store with some data in it, closed again.
  void Populate() {
    auto s = sqlite::SqliteStore::Open(DbPath());
    ASSERT_TRUE(s.ok());
    SimClock clock;
    SeededRandom random(1);
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(EnsureTenant(**s, "org" + std::to_string(i), "ws", clock, random).ok());
    }
  }
  ps::testing::TempDir dir_;
};

TEST_F(SqliteStoreTest, CreatesAtTheLatestSchemaInWalMode) {
  auto s = sqlite::SqliteStore::Open(DbPath());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->SchemaVersion(), sqlite::LatestSchemaVersion());
  EXPECT_TRUE(std::filesystem::exists(DbPath() + "-wal"));
}

TEST_F(SqliteStoreTest, DataSurvivesReopening) {
  Populate();
  auto s = sqlite::SqliteStore::Open(DbPath());
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(FindTenant(**s, "org199", "ws").ok());
}

TEST_F(SqliteStoreTest, TwoConnectionsSeeEachOthersCommits) {
  auto a = sqlite::SqliteStore::Open(DbPath());
  auto b = sqlite::SqliteStore::Open(DbPath());
  ASSERT_TRUE(a.ok() && b.ok());
  SimClock clock;
  SeededRandom random(3);
  ASSERT_TRUE(EnsureTenant(**a, "acme", "main", clock, random).ok());
  EXPECT_TRUE(FindTenant(**b, "acme", "main").ok());
}

TEST_F(SqliteStoreTest, TruncatedFileIsReportedAndLeftAlone) {
  Populate();
  auto full = ReadFile(DbPath());
  ASSERT_TRUE(full.ok());
  ASSERT_GT(full->size(), 8192u);
  const std::string truncated = full->substr(0, full->size() / 2);
  ASSERT_TRUE(WriteFileAtomic(DbPath(), truncated).ok());
  auto s = sqlite::SqliteStore::Open(DbPath());
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.problem().Is("store-corrupt")) << s.problem().Message();
  EXPECT_NE(s.problem().detail.find("state.db"), std::string::npos);
  EXPECT_EQ(*ReadFile(DbPath()), truncated);  // nothing was written
}

TEST_F(SqliteStoreTest, ForeignFileIsReportedAndLeftAlone) {
  const std::string junk = "this is not a database, it is a shopping list\n";
  ASSERT_TRUE(WriteFileAtomic(DbPath(), junk).ok());
  auto s = sqlite::SqliteStore::Open(DbPath());
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.problem().Is("store-corrupt"));
  EXPECT_EQ(*ReadFile(DbPath()), junk);
}

TEST_F(SqliteStoreTest, StoreFromANewerVersionIsRefusedUnchanged) {
  Populate();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto before = ReadFile(DbPath());
  auto s = sqlite::SqliteStore::Open(DbPath());
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.problem().Is("store-too-new"));
  EXPECT_EQ(s.problem().extensions["schema_version"], 99);
  EXPECT_EQ(*ReadFile(DbPath()), *before);
}

TEST_F(SqliteStoreTest, UnversionedFileIsMigrated) {
  // A version-0 file with a table of its own stands for an older release.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE legacy(x); INSERT INTO legacy VALUES (1);", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto s = sqlite::SqliteStore::Open(DbPath());
  ASSERT_TRUE(s.ok()) << s.problem().Message();
  EXPECT_EQ((*s)->SchemaVersion(), sqlite::LatestSchemaVersion());
}

TEST_F(SqliteStoreTest, AVersionOneStoreIsBackedUpAndMigratedKeepingItsRows) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
    const std::string v1(sqlite::Migrations()[0]);
    ASSERT_EQ(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db,
                     "PRAGMA user_version = 1;"
                     "INSERT INTO orgs VALUES('o', 'acme', 'free', 1);"
                     "INSERT INTO workspaces VALUES('w', 'o', 'main', NULL, 1);"
                     "INSERT INTO projects(id, org_id, workspace_id, name, repo_url, created_at,"
                     " updated_at) VALUES('p', 'o', 'w', 'app', '/src', 1, 1);"
                     "INSERT INTO artifacts(id, org_id, workspace_id, project_id, t, name, path,"
                     " sha256, size, created_at) VALUES('a', 'o', 'w', 'p', 'sbom', 'sbom.json',"
                     " 'sha256/aa/aa', 'aa', 2, 1);",
                     nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
  }
  auto s = sqlite::SqliteStore::Open(DbPath());
  ASSERT_TRUE(s.ok()) << s.problem().Message();
  EXPECT_EQ((*s)->SchemaVersion(), sqlite::LatestSchemaVersion());
  EXPECT_TRUE(std::filesystem::exists(DbPath() + ".v1.bak"));  // the old store, kept
  Tenant t{"o", "w"};
  auto arts =
      ReadValue<std::vector<Artifact>>(**s, [&](Tx& tx) { return tx.ListArtifacts(t, "p"); });
  ASSERT_TRUE(arts.ok());
  ASSERT_EQ(arts->size(), 1u);
  EXPECT_EQ(arts->front().type, ArtifactType::kSbom);
  // The new type is accepted after the migration.
  Artifact audit = arts->front();
  audit.id = "b";
  audit.type = ArtifactType::kAudit;
  EXPECT_TRUE((*s)->Write([&](Tx& tx) { return tx.InsertArtifact(audit); }).ok());
}

TEST_F(SqliteStoreTest, EmptyFileIsInitialised) {
  ASSERT_TRUE(WriteFileAtomic(DbPath(), "").ok());
  auto s = sqlite::SqliteStore::Open(DbPath());
  ASSERT_TRUE(s.ok()) << s.problem().Message();
}

}  // namespace
}  // namespace ps::store
