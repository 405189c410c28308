// The embedded default store: one SQLite file in WAL mode with durable
// commits (synchronous=FULL). Several processes may share the file; SQLite's
// locks serialize their write transactions (BEGIN IMMEDIATE).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "store/store.h"

namespace ps::sqlite {
class Db;
}  // namespace ps::sqlite

namespace ps::store::sqlite {

using ps::sqlite::Db;

struct SqliteOptions {
  // synchronous=FULL: a committed transaction survives power loss. NORMAL
  // survives a crash of the process but not of the machine.
  bool durable = true;
  // How long a transaction waits for another process's lock.
  int busy_timeout_ms = 10'000;
};

// Registers "sqlite:PATH" with the store factory (store/backends.h).
void RegisterSqliteBackend();

class SqliteStore final : public Store {
 public:
  // Opens or creates the store at `path`, migrating an older schema (after a
  // backup copy beside the file). Problems: store-corrupt for a damaged or
  // foreign file, store-too-new for a schema newer than this build knows.
  // Neither case writes to the file.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   SqliteOptions options = {});
  ~SqliteStore() override;

  Status Read(const std::function<Status(Tx&)>& fn) override;
  Status Write(const std::function<Status(Tx&)>& fn) override;
  std::string Describe() const override { return "sqlite:" + path_; }
  int SchemaVersion() override;

 private:
  SqliteStore(std::string path, std::unique_ptr<Db> db);
  Status Transact(bool write, const std::function<Status(Tx&)>& fn);

  std::string path_;
  std::mutex mu_;  // guards db_: one connection, one transaction at a time
  std::unique_ptr<Db> db_;
};

}  // namespace ps::store::sqlite
