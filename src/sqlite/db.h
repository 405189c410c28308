// A thin RAII layer over the SQLite C API: prepared statements cached per
// connection, typed binds and columns. Used by the state store's SQLite
// backend (store/sqlite/), the advisory database (security/osv.cc) and the
// history scan's cache (stages/readiness/history_scan.cc) — none of which
// reaches into another's internals. Errors throw SqliteError, which never
// leaves its user (each converts it to a Problem at its boundary).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "core/problem.h"

namespace ps::sqlite {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, const std::string& v);
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, std::int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<std::int64_t>(v)); }
  Stmt& Bind(int i, bool v) { return Bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, const Json& v);  // TEXT; null Json binds SQL NULL
  Stmt& BindNull(int i);

  template <class... A>
  Stmt& BindAll(const A&... args) {
    int i = 0;
    (Bind(++i, args), ...);
    return *this;
  }

  // Steps once: true if a row is available.
  bool Step();
  // Steps to completion (for statements without rows).
  void Exec();
  void Reset();

  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string Text(int col) const;
  std::int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  double Real(int col) const { return sqlite3_column_double(s_, col); }
  Json JsonCol(int col) const;  // NULL or unparsable -> null

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
};

// Resets a cached statement when the scope ends.
class StmtGuard {
 public:
  explicit StmtGuard(Stmt& s) : s_(s) {}
  ~StmtGuard() { s_.Reset(); }
  Stmt* operator->() { return &s_; }
  Stmt& operator*() { return s_; }

 private:
  Stmt& s_;
};

class Db {
 public:
  // Opens (creating if `create`) the database file.
  Db(const std::string& path, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* raw() { return db_; }
  void Exec(const std::string& sql);
  // A statement cached by its SQL text; reset after use with StmtGuard.
  StmtGuard Prepare(const std::string& sql);
  std::int64_t LastInsertRowid() { return sqlite3_last_insert_rowid(db_); }
  int Changes() { return sqlite3_changes(db_); }
  // One integer from a single-row query such as "PRAGMA user_version".
  std::int64_t QueryInt(const std::string& sql);
  std::string QueryText(const std::string& sql);

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
};

[[noreturn]] void Throw(sqlite3* db, int rc, const std::string& what);

}  // namespace ps::sqlite
