#include "sqlite/db.h"

namespace ps::sqlite {

void Throw(sqlite3* db, int rc, const std::string& what) {
  std::string msg = what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  throw SqliteError(rc, msg);
}

Stmt& Stmt::Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }

Stmt& Stmt::Bind(int i, std::string_view v) {
  int rc = sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) Throw(db_, rc, "bind");
  return *this;
}

Stmt& Stmt::Bind(int i, std::int64_t v) {
  int rc = sqlite3_bind_int64(s_, i, v);
  if (rc != SQLITE_OK) Throw(db_, rc, "bind");
  return *this;
}

Stmt& Stmt::Bind(int i, double v) {
  int rc = sqlite3_bind_double(s_, i, v);
  if (rc != SQLITE_OK) Throw(db_, rc, "bind");
  return *this;
}

Stmt& Stmt::Bind(int i, const Json& v) {
  if (v.is_null()) return BindNull(i);
  return Bind(i, Dump(v));
}

Stmt& Stmt::BindNull(int i) {
  int rc = sqlite3_bind_null(s_, i);
  if (rc != SQLITE_OK) Throw(db_, rc, "bind");
  return *this;
}

bool Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Throw(db_, rc, "step");
}

void Stmt::Exec() {
  while (Step()) {
  }
}

void Stmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::string Stmt::Text(int col) const {
  const auto* p = sqlite3_column_text(s_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<std::size_t>(sqlite3_column_bytes(s_, col)));
}

Json Stmt::JsonCol(int col) const {
  if (IsNull(col)) return nullptr;
  return Json::parse(Text(col), nullptr, /*allow_exceptions=*/false);
}

Db::Db(const std::string& path, bool create) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw SqliteError(rc, "open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() {
  cache_.clear();
  if (db_) sqlite3_close_v2(db_);
}

void Db::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw SqliteError(rc, msg);
  }
}

StmtGuard Db::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) Throw(db_, rc, "prepare");
    it = cache_.emplace(sql, std::make_unique<Stmt>(db_, s)).first;
  }
  return StmtGuard(*it->second);
}

std::int64_t Db::QueryInt(const std::string& sql) {
  auto st = Prepare(sql);
  if (!st->Step()) return 0;
  return st->Int(0);
}

std::string Db::QueryText(const std::string& sql) {
  auto st = Prepare(sql);
  if (!st->Step()) return {};
  return st->Text(0);
}

}  // namespace ps::sqlite
