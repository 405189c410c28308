#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "sqlite/db.h"
#include "store/backends.h"
#include "store/sqlite/migrations.h"

namespace ps::store::sqlite {

using ps::sqlite::SqliteError;
using ps::sqlite::Stmt;
using ps::sqlite::StmtGuard;

namespace {

Json Strings(const std::vector<std::string>& v) { return Json(v); }

std::vector<std::string> StringList(const Json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

Json ObjectOr(const Json& j) { return j.is_null() ? Json::object() : j; }

template <class E>
E EnumCol(const Stmt& s, int col) {
  E e{};
  Parse(s.Text(col), &e);
  return e;
}

// Column lists and row readers, one per table.
constexpr const char* kProjectCols =
    "id, org_id, workspace_id, name, repo_url, branch, target, region, state, created_at, "
    "updated_at";
Project ReadProject(const Stmt& s) {
  Project p;
  p.id = s.Text(0);
  p.tenant = {s.Text(1), s.Text(2)};
  p.name = s.Text(3);
  p.repo_url = s.Text(4);
  p.branch = s.Text(5);
  p.target = s.Text(6);
  p.region = s.Text(7);
  p.state = s.Text(8);
  p.created_at = s.Int(9);
  p.updated_at = s.Int(10);
  return p;
}

constexpr const char* kRunCols =
    "id, org_id, workspace_id, project_id, kind, status, stage, attempt, logs_ref, metrics, "
    "policy_result, error, input, cancel_requested, created_at, updated_at";
Run ReadRun(const Stmt& s) {
  Run r;
  r.id = s.Text(0);
  r.tenant = {s.Text(1), s.Text(2)};
  r.project_id = s.Text(3);
  r.kind = EnumCol<RunKind>(s, 4);
  r.status = EnumCol<RunStatus>(s, 5);
  r.stage = s.Text(6);
  r.attempt = static_cast<int>(s.Int(7));
  r.logs_ref = s.Text(8);
  r.metrics = ObjectOr(s.JsonCol(9));
  r.policy_result = ObjectOr(s.JsonCol(10));
  r.error = s.JsonCol(11);
  r.input = ObjectOr(s.JsonCol(12));
  r.cancel_requested = s.Int(13) != 0;
  r.created_at = s.Int(14);
  r.updated_at = s.Int(15);
  return r;
}

constexpr const char* kStageCols =
    "run_id, org_id, workspace_id, project_id, name, position, needs, status, attempt, "
    "max_attempts, timeout_ms, not_before, lease_owner, lease_token, lease_expires, output, error, "
    "started_at, finished_at";
StageRow ReadStage(const Stmt& s) {
  StageRow r;
  r.run_id = s.Text(0);
  r.tenant = {s.Text(1), s.Text(2)};
  r.project_id = s.Text(3);
  r.name = s.Text(4);
  r.position = static_cast<int>(s.Int(5));
  r.needs = StringList(s.JsonCol(6));
  r.status = EnumCol<StageStatus>(s, 7);
  r.attempt = static_cast<int>(s.Int(8));
  r.max_attempts = static_cast<int>(s.Int(9));
  r.timeout_ms = s.Int(10);
  r.not_before = s.Int(11);
  r.lease_owner = s.Text(12);
  r.lease_token = s.Int(13);
  r.lease_expires = s.Int(14);
  r.output = s.JsonCol(15);
  r.error = s.JsonCol(16);
  r.started_at = s.Int(17);
  r.finished_at = s.Int(18);
  return r;
}

constexpr const char* kAttemptCols =
    "key, org_id, workspace_id, project_id, run_id, stage, attempt, worker, status, output, error, "
    "started_at, finished_at";
AttemptRow ReadAttempt(const Stmt& s) {
  AttemptRow a;
  a.key = s.Text(0);
  a.tenant = {s.Text(1), s.Text(2)};
  a.project_id = s.Text(3);
  a.run_id = s.Text(4);
  a.stage = s.Text(5);
  a.attempt = static_cast<int>(s.Int(6));
  a.worker = s.Text(7);
  a.status = EnumCol<AttemptStatus>(s, 8);
  a.output = s.JsonCol(9);
  a.error = s.JsonCol(10);
  a.started_at = s.Int(11);
  a.finished_at = s.Int(12);
  return a;
}

constexpr const char* kEventCols =
    "seq, org_id, workspace_id, project_id, run_id, name, payload, created_at";
Event ReadEvent(const Stmt& s) {
  Event e;
  e.seq = s.Int(0);
  e.tenant = {s.Text(1), s.Text(2)};
  e.project_id = s.Text(3);
  e.run_id = s.Text(4);
  e.name = s.Text(5);
  e.payload = ObjectOr(s.JsonCol(6));
  e.created_at = s.Int(7);
  return e;
}

constexpr const char* kArtifactCols =
    "id, org_id, workspace_id, project_id, run_id, t, name, path, sha256, size, media_type, meta, "
    "created_at";
Artifact ReadArtifact(const Stmt& s) {
  Artifact a;
  a.id = s.Text(0);
  a.tenant = {s.Text(1), s.Text(2)};
  a.project_id = s.Text(3);
  a.run_id = s.Text(4);
  a.type = EnumCol<ArtifactType>(s, 5);
  a.name = s.Text(6);
  a.path = s.Text(7);
  a.sha256 = s.Text(8);
  a.size = s.Int(9);
  a.media_type = s.Text(10);
  a.meta = ObjectOr(s.JsonCol(11));
  a.created_at = s.Int(12);
  return a;
}

constexpr const char* kReleaseCols =
    "id, org_id, workspace_id, project_id, sha, env, strategy, status, risk_score, meta, "
    "created_at, updated_at";
Release ReadRelease(const Stmt& s) {
  Release r;
  r.id = s.Text(0);
  r.tenant = {s.Text(1), s.Text(2)};
  r.project_id = s.Text(3);
  r.sha = s.Text(4);
  r.env = s.Text(5);
  r.strategy = s.Text(6);
  r.status = s.Text(7);
  if (!s.IsNull(8)) r.risk_score = s.Real(8);
  r.meta = ObjectOr(s.JsonCol(9));
  r.created_at = s.Int(10);
  r.updated_at = s.Int(11);
  return r;
}

constexpr const char* kDeadLetterCols =
    "id, org_id, workspace_id, run_id, stage, attempt, problem, created_at, replayed_at";
DeadLetter ReadDeadLetter(const Stmt& s) {
  DeadLetter d;
  d.id = s.Int(0);
  d.tenant = {s.Text(1), s.Text(2)};
  d.run_id = s.Text(3);
  d.stage = s.Text(4);
  d.attempt = static_cast<int>(s.Int(5));
  d.problem = s.JsonCol(6);
  d.created_at = s.Int(7);
  d.replayed_at = s.Int(8);
  return d;
}

std::string Sql(const char* head, const char* cols, const char* tail) {
  return std::string(head) + cols + tail;
}

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(Db& db) : db_(db) {}

  // Runs a statement expected to change exactly one row; 0 rows is NotFound.
  template <class... A>
  Status ExecOne(const std::string& sql, const std::string& what, const std::string& id,
                 const A&... args) {
    auto st = db_.Prepare(sql);
    st->BindAll(args...);
    st->Exec();
    if (db_.Changes() == 0) return problems::NotFound(what, id);
    return Ok();
  }

  template <class T, class... A>
  Result<T> QueryOne(const std::string& sql, T (*read)(const Stmt&), const std::string& what,
                     const std::string& id, const A&... args) {
    auto st = db_.Prepare(sql);
    st->BindAll(args...);
    if (!st->Step()) return problems::NotFound(what, id);
    return read(*st);
  }

  template <class T, class... A>
  std::vector<T> QueryAll(const std::string& sql, T (*read)(const Stmt&), const A&... args) {
    auto st = db_.Prepare(sql);
    st->BindAll(args...);
    std::vector<T> out;
    while (st->Step()) out.push_back(read(*st));
    return out;
  }

  // Inserts; a uniqueness or foreign key violation is a Conflict.
  template <class... A>
  Status Insert(const std::string& sql, const std::string& what, const A&... args) {
    try {
      auto st = db_.Prepare(sql);
      st->BindAll(args...);
      st->Exec();
    } catch (const SqliteError& e) {
      if ((e.code() & 0xff) == SQLITE_CONSTRAINT) {
        return problems::Conflict(what + " violates a constraint (" + e.what() + ")");
      }
      throw;
    }
    return Ok();
  }

  Status CreateOrg(const Org& o) override {
    return Insert("INSERT INTO orgs(id, name, plan, created_at) VALUES(?1, ?2, ?3, ?4)", "org",
                  o.id, o.name, o.plan, o.created_at);
  }
  static Org ReadOrg(const Stmt& s) { return {s.Text(0), s.Text(1), s.Text(2), s.Int(3)}; }
  Result<Org> GetOrg(const std::string& id) override {
    return QueryOne("SELECT id, name, plan, created_at FROM orgs WHERE id = ?1", &ReadOrg, "org",
                    id, id);
  }
  Result<Org> FindOrgByName(const std::string& name) override {
    return QueryOne("SELECT id, name, plan, created_at FROM orgs WHERE name = ?1", &ReadOrg, "org",
                    name, name);
  }

  Status CreateUser(const User& u) override {
    return Insert(
        "INSERT INTO users(id, org_id, email, name, role, tz, created_at) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        "user", u.id, u.org_id, u.email, u.name, u.role, u.tz, u.created_at);
  }
  static User ReadUser(const Stmt& s) {
    return {s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Int(6)};
  }
  Result<User> GetUser(const std::string& org_id, const std::string& id) override {
    return QueryOne(
        "SELECT id, org_id, email, name, role, tz, created_at FROM users "
        "WHERE id = ?1 AND org_id = ?2",
        &ReadUser, "user", id, id, org_id);
  }

  Status CreateWorkspace(const Workspace& w) override {
    return Insert(
        "INSERT INTO workspaces(id, org_id, name, created_by, created_at) "
        "VALUES(?1, ?2, ?3, NULLIF(?4, ''), ?5)",
        "workspace", w.id, w.org_id, w.name, w.created_by, w.created_at);
  }
  static Workspace ReadWorkspace(const Stmt& s) {
    return {s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4)};
  }
  Result<Workspace> GetWorkspace(const std::string& org_id, const std::string& id) override {
    return QueryOne(
        "SELECT id, org_id, name, IFNULL(created_by, ''), created_at FROM workspaces "
        "WHERE id = ?1 AND org_id = ?2",
        &ReadWorkspace, "workspace", id, id, org_id);
  }
  Result<Workspace> FindWorkspaceByName(const std::string& org_id,
                                        const std::string& name) override {
    return QueryOne(
        "SELECT id, org_id, name, IFNULL(created_by, ''), created_at FROM workspaces "
        "WHERE name = ?1 AND org_id = ?2",
        &ReadWorkspace, "workspace", name, name, org_id);
  }

  Result<std::vector<Workspace>> ListWorkspaces(const std::string& org_id) override {
    return QueryAll(
        "SELECT id, org_id, name, IFNULL(created_by, ''), created_at FROM workspaces "
        "WHERE org_id = ?1 ORDER BY name",
        &ReadWorkspace, org_id);
  }

  Status PutMember(const Member& m) override {
    return Insert(
        "INSERT INTO members(org_id, sub, role, workspaces, added_by, created_at) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(org_id, sub) DO UPDATE SET "
        "role = excluded.role, workspaces = excluded.workspaces",
        "member", m.org_id, m.sub, m.role, Json(m.workspaces), m.added_by, m.created_at);
  }
  static Member ReadMember(const Stmt& s) {
    Member m{s.Text(0), s.Text(1), s.Text(2), {}, s.Text(4), s.Int(5)};
    const Json ws = s.JsonCol(3);
    if (ws.is_array()) {
      for (const auto& w : ws) {
        if (w.is_string()) m.workspaces.push_back(w.get<std::string>());
      }
    }
    return m;
  }
  static constexpr const char* kMemberCols =
      "SELECT org_id, sub, role, workspaces, added_by, created_at FROM members ";
  Result<Member> GetMember(const std::string& org_id, const std::string& sub) override {
    return QueryOne(std::string(kMemberCols) + "WHERE org_id = ?1 AND sub = ?2", &ReadMember,
                    "member", sub, org_id, sub);
  }
  Result<std::vector<Member>> ListMembers(const std::string& org_id) override {
    return QueryAll(std::string(kMemberCols) + "WHERE org_id = ?1 ORDER BY sub", &ReadMember,
                    org_id);
  }
  Result<std::vector<Member>> ListMemberships(const std::string& sub) override {
    return QueryAll(std::string(kMemberCols) + "WHERE sub = ?1 ORDER BY org_id", &ReadMember, sub);
  }
  Status DeleteMember(const std::string& org_id, const std::string& sub) override {
    return ExecOne("DELETE FROM members WHERE org_id = ?1 AND sub = ?2", "member", sub, org_id,
                   sub);
  }

  Status CreateApiToken(const ApiToken& t) override {
    return Insert(
        "INSERT INTO api_tokens(id, org_id, name, role, workspace_id, hash, created_by, "
        "created_at, expires_at, last_used_at, revoked_at) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        "api token", t.id, t.org_id, t.name, t.role, t.workspace_id, t.hash, t.created_by,
        t.created_at, t.expires_at, t.last_used_at, t.revoked_at);
  }
  static ApiToken ReadApiToken(const Stmt& s) {
    return {s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5),
            s.Text(6), s.Int(7),  s.Int(8),  s.Int(9),  s.Int(10)};
  }
  static constexpr const char* kTokenCols =
      "SELECT id, org_id, name, role, workspace_id, hash, created_by, created_at, expires_at, "
      "last_used_at, revoked_at FROM api_tokens ";
  Result<ApiToken> FindApiTokenByHash(const std::string& hash) override {
    return QueryOne(std::string(kTokenCols) + "WHERE hash = ?1", &ReadApiToken, "api token",
                    "(by secret)", hash);
  }
  Result<ApiToken> GetApiToken(const std::string& org_id, const std::string& id) override {
    return QueryOne(std::string(kTokenCols) + "WHERE org_id = ?1 AND id = ?2", &ReadApiToken,
                    "api token", id, org_id, id);
  }
  Result<std::vector<ApiToken>> ListApiTokens(const std::string& org_id) override {
    return QueryAll(std::string(kTokenCols) + "WHERE org_id = ?1 ORDER BY created_at DESC, id",
                    &ReadApiToken, org_id);
  }
  Status UpdateApiToken(const ApiToken& t) override {
    return ExecOne(
        "UPDATE api_tokens SET name = ?3, last_used_at = ?4, revoked_at = ?5, expires_at = ?6 "
        "WHERE org_id = ?1 AND id = ?2",
        "api token", t.id, t.org_id, t.id, t.name, t.last_used_at, t.revoked_at, t.expires_at);
  }

  Result<IdempotencyRecord> GetIdempotency(const std::string& org_id, const std::string& actor,
                                           const std::string& key) override {
    return QueryOne(
        "SELECT org_id, actor, key, request_hash, status, response, created_at FROM idempotency "
        "WHERE org_id = ?1 AND actor = ?2 AND key = ?3",
        +[](const Stmt& s) {
          return IdempotencyRecord{s.Text(0),
                                   s.Text(1),
                                   s.Text(2),
                                   s.Text(3),
                                   static_cast<int>(s.Int(4)),
                                   ObjectOr(s.JsonCol(5)),
                                   s.Int(6)};
        },
        "idempotency key", key, org_id, actor, key);
  }
  Status PutIdempotency(const IdempotencyRecord& r) override {
    return Insert(
        "INSERT INTO idempotency(org_id, actor, key, request_hash, status, response, "
        "created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        "idempotency key", r.org_id, r.actor, r.key, r.request_hash, r.status, r.response,
        r.created_at);
  }

  // A tenant must exist before rows are written under it.
  Status CheckTenant(const Tenant& t) {
    auto st = db_.Prepare("SELECT 1 FROM workspaces WHERE id = ?1 AND org_id = ?2");
    st->BindAll(t.workspace_id, t.org_id);
    if (!st->Step()) return problems::NotFound("workspace", t.org_id + "/" + t.workspace_id);
    return Ok();
  }
  // The project must exist in the tenant.
  Status CheckProject(const Tenant& t, const std::string& project_id) {
    auto st =
        db_.Prepare("SELECT 1 FROM projects WHERE id = ?1 AND org_id = ?2 AND workspace_id = ?3");
    st->BindAll(project_id, t.org_id, t.workspace_id);
    if (!st->Step()) return problems::NotFound("project", project_id);
    return Ok();
  }

  Status CreateProject(const Project& p) override {
    PS_TRY(CheckTenant(p.tenant));
    return Insert(Sql("INSERT INTO projects(", kProjectCols,
                      ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
                  "project", p.id, p.tenant.org_id, p.tenant.workspace_id, p.name, p.repo_url,
                  p.branch, p.target, p.region, p.state, p.created_at, p.updated_at);
  }
  Result<Project> GetProject(const Tenant& t, const std::string& id) override {
    return QueryOne(Sql("SELECT ", kProjectCols,
                        " FROM projects WHERE id = ?1 AND org_id = ?2 AND workspace_id = ?3"),
                    &ReadProject, "project", id, id, t.org_id, t.workspace_id);
  }
  Result<Project> FindProjectByRepo(const Tenant& t, const std::string& repo_url) override {
    return QueryOne(Sql("SELECT ", kProjectCols,
                        " FROM projects WHERE repo_url = ?1 AND org_id = ?2 AND workspace_id = ?3"),
                    &ReadProject, "project", repo_url, repo_url, t.org_id, t.workspace_id);
  }
  Result<std::vector<Project>> ListProjects(const Tenant& t) override {
    return QueryAll(Sql("SELECT ", kProjectCols,
                        " FROM projects WHERE org_id = ?1 AND workspace_id = ?2 ORDER BY name"),
                    &ReadProject, t.org_id, t.workspace_id);
  }
  Status UpdateProject(const Project& p) override {
    return ExecOne(
        "UPDATE projects SET name = ?4, repo_url = ?5, branch = ?6, target = ?7, region = ?8, "
        "state = ?9, updated_at = ?10 WHERE id = ?1 AND org_id = ?2 AND workspace_id = ?3",
        "project", p.id, p.id, p.tenant.org_id, p.tenant.workspace_id, p.name, p.repo_url, p.branch,
        p.target, p.region, p.state, p.updated_at);
  }

  Status DeleteProject(const Tenant& t, const std::string& id) override {
    PS_TRY(GetProject(t, id));
    // Children first (foreign keys), each scoped by tenant as well.
    for (const char* sql :
         {"DELETE FROM stage_attempts WHERE run_id IN (SELECT id FROM runs WHERE project_id = "
          "?1 AND org_id = ?2 AND workspace_id = ?3)",
          "DELETE FROM stages WHERE run_id IN (SELECT id FROM runs WHERE project_id = ?1 AND "
          "org_id = ?2 AND workspace_id = ?3)",
          "DELETE FROM dead_letters WHERE run_id IN (SELECT id FROM runs WHERE project_id = ?1 "
          "AND org_id = ?2 AND workspace_id = ?3)",
          "DELETE FROM artifacts WHERE project_id = ?1 AND org_id = ?2 AND workspace_id = ?3",
          "DELETE FROM events WHERE project_id = ?1 AND org_id = ?2 AND workspace_id = ?3",
          "DELETE FROM releases WHERE project_id = ?1 AND org_id = ?2 AND workspace_id = ?3",
          "DELETE FROM alerts WHERE project_id = ?1 AND org_id = ?2 AND workspace_id = ?3",
          "DELETE FROM blueprints WHERE project_id = ?1 AND org_id = ?2 AND workspace_id = ?3",
          "DELETE FROM integrations WHERE project_id = ?1 AND org_id = ?2 AND workspace_id = ?3",
          "DELETE FROM runs WHERE project_id = ?1 AND org_id = ?2 AND workspace_id = ?3",
          "DELETE FROM projects WHERE id = ?1 AND org_id = ?2 AND workspace_id = ?3"}) {
      auto st = db_.Prepare(sql);
      st->BindAll(id, t.org_id, t.workspace_id);
      st->Exec();
    }
    return Ok();
  }

  Status PutIntegration(const Tenant& t, const Integration& i) override {
    PS_TRY(CheckProject(t, i.project_id));
    auto st = db_.Prepare(
        "INSERT INTO integrations(project_id, org_id, workspace_id, type, creds_ref, scopes) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(project_id, type) DO UPDATE SET "
        "creds_ref = excluded.creds_ref, scopes = excluded.scopes");
    st->BindAll(i.project_id, t.org_id, t.workspace_id, i.type, i.creds_ref, Strings(i.scopes));
    st->Exec();
    return Ok();
  }
  static Integration ReadIntegration(const Stmt& s) {
    return {s.Text(0), s.Text(1), s.Text(2), StringList(s.JsonCol(3))};
  }
  Result<std::vector<Integration>> ListIntegrations(const Tenant& t,
                                                    const std::string& project_id) override {
    return QueryAll(
        "SELECT project_id, type, creds_ref, scopes FROM integrations WHERE project_id = ?1 AND "
        "org_id = ?2 AND workspace_id = ?3 ORDER BY type",
        &ReadIntegration, project_id, t.org_id, t.workspace_id);
  }

  Status CreateRun(const Run& r) override {
    PS_TRY(CheckProject(r.tenant, r.project_id));
    return Insert(Sql("INSERT INTO runs(", kRunCols,
                      ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                      "?16)"),
                  "run", r.id, r.tenant.org_id, r.tenant.workspace_id, r.project_id,
                  ToString(r.kind), ToString(r.status), r.stage, r.attempt, r.logs_ref, r.metrics,
                  r.policy_result, r.error, r.input, r.cancel_requested, r.created_at,
                  r.updated_at);
  }
  Result<Run> GetRun(const Tenant& t, const std::string& id) override {
    return QueryOne(
        Sql("SELECT ", kRunCols, " FROM runs WHERE id = ?1 AND org_id = ?2 AND workspace_id = ?3"),
        &ReadRun, "run", id, id, t.org_id, t.workspace_id);
  }
  Result<std::vector<Run>> FindRuns(const Tenant& t, const std::string& prefix) override {
    // Prefix match by range, so the primary key index serves it.
    return QueryAll(Sql("SELECT ", kRunCols,
                        " FROM runs WHERE id >= ?1 AND id < ?1 || '~' AND org_id = ?2 AND "
                        "workspace_id = ?3 ORDER BY id LIMIT 10"),
                    &ReadRun, prefix, t.org_id, t.workspace_id);
  }
  Result<std::vector<Run>> ListRuns(const Tenant& t, const RunFilter& f) override {
    return QueryAll(Sql("SELECT ", kRunCols,
                        " FROM runs WHERE org_id = ?1 AND workspace_id = ?2 AND (?3 = '' OR "
                        "project_id = ?3) AND (?5 = '' OR created_at < ?6 OR (created_at = ?6 "
                        "AND id < ?5)) ORDER BY created_at DESC, id DESC LIMIT ?4"),
                    &ReadRun, t.org_id, t.workspace_id, f.project_id, f.limit, f.before_id,
                    f.before_created_at);
  }
  Result<std::map<std::string, std::int64_t>> CountRunsByStatus() override {
    std::map<std::string, std::int64_t> out;
    auto st = db_.Prepare("SELECT status, COUNT(*) FROM runs GROUP BY status");
    while (st->Step()) out[st->Text(0)] = st->Int(1);
    return out;
  }
  Result<std::int64_t> CountReadyStages(Millis now) override {
    auto st =
        db_.Prepare("SELECT COUNT(*) FROM stages WHERE status = 'ready' AND not_before <= ?1");
    st->BindAll(now);
    return st->Step() ? st->Int(0) : 0;
  }
  Status UpdateRun(const Run& r) override {
    return ExecOne(
        "UPDATE runs SET status = ?4, stage = ?5, attempt = ?6, logs_ref = ?7, metrics = ?8, "
        "policy_result = ?9, error = ?10, cancel_requested = ?11, updated_at = ?12 "
        "WHERE id = ?1 AND org_id = ?2 AND workspace_id = ?3",
        "run", r.id, r.id, r.tenant.org_id, r.tenant.workspace_id, ToString(r.status), r.stage,
        r.attempt, r.logs_ref, r.metrics, r.policy_result, r.error, r.cancel_requested,
        r.updated_at);
  }

  Status InsertStage(const StageRow& s) override {
    return Insert(Sql("INSERT INTO stages(", kStageCols,
                      ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                      "?16, ?17, ?18, ?19)"),
                  "stage", s.run_id, s.tenant.org_id, s.tenant.workspace_id, s.project_id, s.name,
                  s.position, Strings(s.needs), ToString(s.status), s.attempt, s.max_attempts,
                  s.timeout_ms, s.not_before, s.lease_owner, s.lease_token, s.lease_expires,
                  s.output, s.error, s.started_at, s.finished_at);
  }
  Result<StageRow> GetStage(const Tenant& t, const std::string& run_id,
                            const std::string& name) override {
    return QueryOne(Sql("SELECT ", kStageCols,
                        " FROM stages WHERE run_id = ?1 AND name = ?2 AND org_id = ?3 AND "
                        "workspace_id = ?4"),
                    &ReadStage, "stage", run_id + "/" + name, run_id, name, t.org_id,
                    t.workspace_id);
  }
  Result<std::vector<StageRow>> ListStages(const Tenant& t, const std::string& run_id) override {
    return QueryAll(Sql("SELECT ", kStageCols,
                        " FROM stages WHERE run_id = ?1 AND org_id = ?2 AND workspace_id = ?3 "
                        "ORDER BY position"),
                    &ReadStage, run_id, t.org_id, t.workspace_id);
  }
  Status UpdateStage(const StageRow& s) override {
    return ExecOne(
        "UPDATE stages SET status = ?5, attempt = ?6, max_attempts = ?7, timeout_ms = ?8, "
        "not_before = ?9, lease_owner = ?10, lease_token = ?11, lease_expires = ?12, output = ?13, "
        "error = ?14, started_at = ?15, finished_at = ?16 "
        "WHERE run_id = ?1 AND name = ?2 AND org_id = ?3 AND workspace_id = ?4",
        "stage", s.run_id + "/" + s.name, s.run_id, s.name, s.tenant.org_id, s.tenant.workspace_id,
        ToString(s.status), s.attempt, s.max_attempts, s.timeout_ms, s.not_before, s.lease_owner,
        s.lease_token, s.lease_expires, s.output, s.error, s.started_at, s.finished_at);
  }
  Result<std::vector<StageRow>> FindClaimable(Millis now, int limit) override {
    return QueryAll(Sql("SELECT ", kStageCols,
                        " FROM stages WHERE status = 'ready' AND not_before <= ?1 "
                        "ORDER BY not_before, run_id, position LIMIT ?2"),
                    &ReadStage, now, limit);
  }
  Result<std::vector<StageRow>> FindExpiredLeases(Millis now, int limit) override {
    return QueryAll(Sql("SELECT ", kStageCols,
                        " FROM stages WHERE status = 'running' AND lease_expires < ?1 "
                        "ORDER BY lease_expires LIMIT ?2"),
                    &ReadStage, now, limit);
  }
  Result<Millis> NextWakeup() override {
    return db_.QueryInt("SELECT IFNULL(MIN(not_before), 0) FROM stages WHERE status = 'ready'");
  }

  Status InsertAttempt(const AttemptRow& a) override {
    return Insert(Sql("INSERT INTO stage_attempts(", kAttemptCols,
                      ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
                  "stage attempt " + a.key, a.key, a.tenant.org_id, a.tenant.workspace_id,
                  a.project_id, a.run_id, a.stage, a.attempt, a.worker, ToString(a.status),
                  a.output, a.error, a.started_at, a.finished_at);
  }
  Result<AttemptRow> GetAttempt(const Tenant& t, const std::string& key) override {
    return QueryOne(Sql("SELECT ", kAttemptCols,
                        " FROM stage_attempts WHERE key = ?1 AND org_id = ?2 AND "
                        "workspace_id = ?3"),
                    &ReadAttempt, "stage attempt", key, key, t.org_id, t.workspace_id);
  }
  Result<std::vector<AttemptRow>> ListAttempts(const Tenant& t,
                                               const std::string& run_id) override {
    return QueryAll(Sql("SELECT ", kAttemptCols,
                        " FROM stage_attempts WHERE run_id = ?1 AND org_id = ?2 AND "
                        "workspace_id = ?3 ORDER BY started_at, stage, attempt"),
                    &ReadAttempt, run_id, t.org_id, t.workspace_id);
  }
  Status UpdateAttempt(const AttemptRow& a) override {
    return ExecOne(
        "UPDATE stage_attempts SET worker = ?4, status = ?5, output = ?6, error = ?7, "
        "finished_at = ?8 WHERE key = ?1 AND org_id = ?2 AND workspace_id = ?3",
        "stage attempt", a.key, a.key, a.tenant.org_id, a.tenant.workspace_id, a.worker,
        ToString(a.status), a.output, a.error, a.finished_at);
  }

  Result<std::int64_t> AppendEvent(const Event& e) override {
    if (!IsKnownEventName(e.name)) {
      return problems::InvalidInput("unknown event name '" + e.name + "'");
    }
    auto st = db_.Prepare(
        "INSERT INTO events(org_id, workspace_id, project_id, run_id, name, payload, created_at) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    st->BindAll(e.tenant.org_id, e.tenant.workspace_id, e.project_id, e.run_id, e.name,
                e.payload.is_null() ? Json::object() : e.payload, e.created_at);
    st->Exec();
    return db_.LastInsertRowid();
  }
  Result<std::vector<Event>> ListEvents(const Tenant& t, std::int64_t after_seq, int limit,
                                        const std::string& run_id) override {
    return QueryAll(Sql("SELECT ", kEventCols,
                        " FROM events WHERE org_id = ?1 AND workspace_id = ?2 AND seq > ?3 AND "
                        "(?5 = '' OR run_id = ?5) ORDER BY seq LIMIT ?4"),
                    &ReadEvent, t.org_id, t.workspace_id, after_seq, limit, run_id);
  }
  Result<std::vector<Event>> ListAllEvents(std::int64_t after_seq, int limit) override {
    return QueryAll(Sql("SELECT ", kEventCols, " FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
                    &ReadEvent, after_seq, limit);
  }

  Status InsertArtifact(const Artifact& a) override {
    PS_TRY(CheckProject(a.tenant, a.project_id));
    return Insert(Sql("INSERT INTO artifacts(", kArtifactCols,
                      ") VALUES(?1, ?2, ?3, ?4, NULLIF(?5, ''), ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                      "?13)"),
                  "artifact", a.id, a.tenant.org_id, a.tenant.workspace_id, a.project_id, a.run_id,
                  ToString(a.type), a.name, a.path, a.sha256, a.size, a.media_type, a.meta,
                  a.created_at);
  }
  Result<Artifact> GetArtifact(const Tenant& t, const std::string& id) override {
    return QueryOne(Sql("SELECT ", kArtifactCols,
                        " FROM artifacts WHERE id = ?1 AND org_id = ?2 AND workspace_id = ?3"),
                    &ReadArtifact, "artifact", id, id, t.org_id, t.workspace_id);
  }
  Result<std::vector<Artifact>> ListArtifacts(const Tenant& t, const std::string& project_id,
                                              const std::string& run_id) override {
    return QueryAll(Sql("SELECT ", kArtifactCols,
                        " FROM artifacts WHERE project_id = ?1 AND org_id = ?2 AND "
                        "workspace_id = ?3 AND (?4 = '' OR run_id = ?4) ORDER BY created_at, id"),
                    &ReadArtifact, project_id, t.org_id, t.workspace_id, run_id);
  }

  Status PutBlueprint(const Blueprint& b) override {
    PS_TRY(CheckProject(b.tenant, b.project_id));
    auto st = db_.Prepare(
        "INSERT INTO blueprints(project_id, org_id, workspace_id, iac_ref, cicd_ref, policies, "
        "cost_estimate, plan_diff, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
        "ON CONFLICT(project_id) DO UPDATE SET iac_ref = excluded.iac_ref, cicd_ref = "
        "excluded.cicd_ref, policies = excluded.policies, cost_estimate = excluded.cost_estimate, "
        "plan_diff = excluded.plan_diff, updated_at = excluded.updated_at");
    st->BindAll(b.project_id, b.tenant.org_id, b.tenant.workspace_id, b.iac_ref, b.cicd_ref,
                b.policies, b.cost_estimate, b.plan_diff, b.updated_at);
    st->Exec();
    return Ok();
  }
  static Blueprint ReadBlueprint(const Stmt& s) {
    Blueprint b;
    b.project_id = s.Text(0);
    b.tenant = {s.Text(1), s.Text(2)};
    b.iac_ref = s.Text(3);
    b.cicd_ref = s.Text(4);
    b.policies = ObjectOr(s.JsonCol(5));
    b.cost_estimate = ObjectOr(s.JsonCol(6));
    b.plan_diff = ObjectOr(s.JsonCol(7));
    b.updated_at = s.Int(8);
    return b;
  }
  Result<Blueprint> GetBlueprint(const Tenant& t, const std::string& project_id) override {
    return QueryOne(
        "SELECT project_id, org_id, workspace_id, iac_ref, cicd_ref, policies, cost_estimate, "
        "plan_diff, updated_at FROM blueprints WHERE project_id = ?1 AND org_id = ?2 AND "
        "workspace_id = ?3",
        &ReadBlueprint, "blueprint", project_id, project_id, t.org_id, t.workspace_id);
  }

  Status CreateRelease(const Release& r) override {
    PS_TRY(CheckProject(r.tenant, r.project_id));
    auto st = db_.Prepare(Sql("INSERT INTO releases(", kReleaseCols,
                              ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
    st->BindAll(r.id, r.tenant.org_id, r.tenant.workspace_id, r.project_id, r.sha, r.env,
                r.strategy, r.status);
    if (r.risk_score) {
      st->Bind(9, *r.risk_score);
    } else {
      st->BindNull(9);
    }
    st->Bind(10, r.meta).Bind(11, r.created_at).Bind(12, r.updated_at);
    st->Exec();
    return Ok();
  }
  Result<Release> GetRelease(const Tenant& t, const std::string& id) override {
    return QueryOne(Sql("SELECT ", kReleaseCols,
                        " FROM releases WHERE id = ?1 AND org_id = ?2 AND workspace_id = ?3"),
                    &ReadRelease, "release", id, id, t.org_id, t.workspace_id);
  }
  Result<std::vector<Release>> ListReleases(const Tenant& t,
                                            const std::string& project_id) override {
    return QueryAll(Sql("SELECT ", kReleaseCols,
                        " FROM releases WHERE project_id = ?1 AND org_id = ?2 AND "
                        "workspace_id = ?3 ORDER BY created_at DESC, id DESC"),
                    &ReadRelease, project_id, t.org_id, t.workspace_id);
  }
  Status UpdateRelease(const Release& r) override {
    auto st = db_.Prepare(
        "UPDATE releases SET status = ?4, risk_score = ?5, meta = ?6, updated_at = ?7 "
        "WHERE id = ?1 AND org_id = ?2 AND workspace_id = ?3");
    st->BindAll(r.id, r.tenant.org_id, r.tenant.workspace_id, r.status);
    if (r.risk_score) {
      st->Bind(5, *r.risk_score);
    } else {
      st->BindNull(5);
    }
    st->Bind(6, r.meta).Bind(7, r.updated_at);
    st->Exec();
    if (db_.Changes() == 0) return problems::NotFound("release", r.id);
    return Ok();
  }

  Status CreateAlert(const Alert& a) override {
    PS_TRY(CheckProject(a.tenant, a.project_id));
    return Insert(
        "INSERT INTO alerts(id, org_id, workspace_id, project_id, type, severity, action, meta, "
        "created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        "alert", a.id, a.tenant.org_id, a.tenant.workspace_id, a.project_id, a.type, a.severity,
        a.action, a.meta, a.created_at);
  }
  static Alert ReadAlert(const Stmt& s) {
    Alert a;
    a.id = s.Text(0);
    a.tenant = {s.Text(1), s.Text(2)};
    a.project_id = s.Text(3);
    a.type = s.Text(4);
    a.severity = s.Text(5);
    a.action = s.Text(6);
    a.meta = ObjectOr(s.JsonCol(7));
    a.created_at = s.Int(8);
    return a;
  }
  Result<std::vector<Alert>> ListAlerts(const Tenant& t, const std::string& project_id) override {
    return QueryAll(
        "SELECT id, org_id, workspace_id, project_id, type, severity, action, meta, created_at "
        "FROM alerts WHERE project_id = ?1 AND org_id = ?2 AND workspace_id = ?3 "
        "ORDER BY created_at DESC, id DESC",
        &ReadAlert, project_id, t.org_id, t.workspace_id);
  }

  Result<std::int64_t> AppendAudit(const AuditEntry& e) override {
    if (!e.tenant.workspace_id.empty()) {
      PS_TRY(CheckTenant(e.tenant));
    } else if (!e.tenant.org_id.empty()) {
      PS_TRY(GetOrg(e.tenant.org_id));
    }
    AuditEntry row = e;
    row.prev_hash = LastAuditHash(db_, row.tenant.org_id);
    auto st = db_.Prepare(
        "INSERT INTO audit_log(org_id, workspace_id, user_id, action, target, meta, created_at, "
        "prev_hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    st->BindAll(row.tenant.org_id, row.tenant.workspace_id, row.user_id, row.action, row.target,
                row.meta, row.created_at, row.prev_hash);
    st->Exec();
    row.id = db_.LastInsertRowid();
    SetAuditHash(db_, row);
    return row.id;
  }
  static std::string LastAuditHash(Db& db, const std::string& org_id) {
    auto st = db.Prepare("SELECT hash FROM audit_log WHERE org_id = ?1 ORDER BY id DESC LIMIT 1");
    st->BindAll(org_id);
    return st->Step() ? st->Text(0) : std::string();
  }
  static void SetAuditHash(Db& db, AuditEntry& row) {
    // The hash of the row as stored: meta as it reads back.
    auto read = db.Prepare("SELECT meta FROM audit_log WHERE id = ?1");
    read->BindAll(row.id);
    if (read->Step()) row.meta = ObjectOr(read->JsonCol(0));
    row.hash = AuditHash(row);
    auto st = db.Prepare("UPDATE audit_log SET hash = ?2 WHERE id = ?1");
    st->BindAll(row.id, row.hash);
    st->Exec();
  }
  static constexpr const char* kAuditCols =
      "SELECT id, org_id, workspace_id, user_id, action, target, meta, created_at, prev_hash, "
      "hash FROM audit_log ";
  static AuditEntry ReadAudit(const Stmt& s) {
    AuditEntry e;
    e.id = s.Int(0);
    e.tenant = {s.Text(1), s.Text(2)};
    e.user_id = s.Text(3);
    e.action = s.Text(4);
    e.target = s.Text(5);
    e.meta = ObjectOr(s.JsonCol(6));
    e.created_at = s.Int(7);
    e.prev_hash = s.Text(8);
    e.hash = s.Text(9);
    return e;
  }
  Result<std::vector<AuditEntry>> ListAudit(const Tenant& t, int limit) override {
    return QueryAll(std::string(kAuditCols) +
                        "WHERE org_id = ?1 AND workspace_id = ?2 ORDER BY id DESC LIMIT ?3",
                    &ReadAudit, t.org_id, t.workspace_id, limit);
  }
  Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery& q) override {
    const bool descending = q.newest_first || q.before_id > 0;
    std::string sql = std::string(kAuditCols) +
                      "WHERE org_id = ?1 AND (?2 = '' OR workspace_id = ?2 OR workspace_id = '') "
                      "AND (?3 = '' OR user_id = ?3) AND (?4 = '' OR substr(action, 1, "
                      "length(?4)) = ?4) AND id > ?5 AND (?6 <= 0 OR id < ?6) ORDER BY id " +
                      std::string(descending ? "DESC" : "ASC") + " LIMIT ?7";
    return QueryAll(sql, &ReadAudit, q.org_id, q.workspace_id, q.user_id, q.action_prefix,
                    q.after_id, q.before_id, std::max(q.limit, 0));
  }
  Result<std::vector<std::string>> AuditChains() override {
    return QueryAll(
        "SELECT DISTINCT org_id FROM audit_log ORDER BY org_id",
        +[](const Stmt& s) { return s.Text(0); });
  }

  Result<std::int64_t> AddDeadLetter(const DeadLetter& d) override {
    auto st = db_.Prepare(
        "INSERT INTO dead_letters(org_id, workspace_id, run_id, stage, attempt, problem, "
        "created_at, replayed_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    st->BindAll(d.tenant.org_id, d.tenant.workspace_id, d.run_id, d.stage, d.attempt,
                d.problem.is_null() ? Json::object() : d.problem, d.created_at, d.replayed_at);
    st->Exec();
    return db_.LastInsertRowid();
  }
  Result<std::vector<DeadLetter>> ListDeadLetters(const Tenant& t, const std::string& run_id,
                                                  bool include_replayed) override {
    return QueryAll(Sql("SELECT ", kDeadLetterCols,
                        " FROM dead_letters WHERE org_id = ?1 AND workspace_id = ?2 AND "
                        "(?3 = '' OR run_id = ?3) AND (?4 OR replayed_at = 0) ORDER BY id"),
                    &ReadDeadLetter, t.org_id, t.workspace_id, run_id, include_replayed);
  }
  Status MarkReplayed(const Tenant& t, std::int64_t id, Millis at) override {
    return ExecOne(
        "UPDATE dead_letters SET replayed_at = ?4 WHERE id = ?1 AND org_id = ?2 AND "
        "workspace_id = ?3",
        "dead letter", std::to_string(id), id, t.org_id, t.workspace_id, at);
  }

 private:
  Db& db_;
};

Problem FromSqlite(const SqliteError& e, const std::string& path) {
  const int primary = e.code() & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    return problems::StoreCorrupt(path + ": " + e.what() +
                                  "; the file was left as it is: restore it from a backup, or "
                                  "move it away to start with an empty store");
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return problems::StoreBusy(path + ": " + e.what());
  }
  // The state's own troubles, said as such (exit 4), not "Internal error".
  // A full disk shows as SQLITE_FULL, or as an I/O error (a journal or
  // WAL write) on a device with (almost) nothing free.
  bool full = primary == SQLITE_FULL;
  if (primary == SQLITE_IOERR) {
    struct statvfs vfs {};
    const std::string dir = std::filesystem::path(path).parent_path().string();
    full = ::statvfs(dir.empty() ? "." : dir.c_str(), &vfs) == 0 &&
           static_cast<unsigned long long>(vfs.f_bavail) * vfs.f_frsize < (256ull << 10);
  }
  if (full) {
    return Problem::Make("store-disk-full", "Disk full", 507,
                         path +
                             ": no space left on the device holding the state; free some "
                             "space (the last change was rolled back, nothing half-written)");
  }
  if (primary == SQLITE_READONLY || primary == SQLITE_PERM) {
    return Problem::Make("store-read-only", "State store is read-only", 503,
                         path + ": " + e.what() +
                             " (the file or its folder cannot be written by this user: check "
                             "their owner and mode)");
  }
  if (primary == SQLITE_CANTOPEN) {
    return Problem::Make(
        "store-unavailable", "State store cannot be opened", 503,
        path + ": " + e.what() + " (check that the folder exists and this user may write it)");
  }
  if (primary == SQLITE_IOERR) {
    return Problem::Make("store-io-error", "State store I/O error", 503, path + ": " + e.what())
        .Retryable();
  }
  return problems::Internal(path + ": " + e.what());
}

// The first 16 bytes of every SQLite database.
bool HasSqliteHeader(const std::string& path, bool* empty) {
  std::ifstream in(path, std::ios::binary);
  char head[16] = {};
  in.read(head, sizeof head);
  *empty = in.gcount() == 0;
  return in.gcount() == 16 &&
         std::string_view(head, 16) == std::string_view("SQLite format 3\0", 16);
}

// Chains the audit entries written before the log was hash-chained (schema
// version 3), in id order per org, so that every row is covered.
void ChainAuditLog(Db& db) {
  std::vector<std::int64_t> ids;
  {
    auto st = db.Prepare("SELECT id FROM audit_log WHERE hash = '' ORDER BY id");
    while (st->Step()) ids.push_back(st->Int(0));
  }
  for (const auto id : ids) {
    auto st = db.Prepare(std::string(SqliteTx::kAuditCols) + "WHERE id = ?1");
    st->BindAll(id);
    if (!st->Step()) continue;
    AuditEntry row = SqliteTx::ReadAudit(*st);
    auto prev = db.Prepare(
        "SELECT hash FROM audit_log WHERE org_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT 1");
    prev->BindAll(row.tenant.org_id, row.id);
    row.prev_hash = prev->Step() ? prev->Text(0) : std::string();
    auto set = db.Prepare("UPDATE audit_log SET prev_hash = ?2 WHERE id = ?1");
    set->BindAll(row.id, row.prev_hash);
    set->Exec();
    SqliteTx::SetAuditHash(db, row);
  }
}

}  // namespace

SqliteStore::SqliteStore(std::string path, std::unique_ptr<Db> db)
    : path_(std::move(path)), db_(std::move(db)) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       SqliteOptions options) {
  std::error_code ec;
  bool exists = std::filesystem::exists(path, ec);
  if (exists) {
    bool empty = false;
    if (!HasSqliteHeader(path, &empty) && !empty) {
      return problems::StoreCorrupt(path +
                                    " is not a SQLite database (wrong header); the file was left "
                                    "as it is");
    }
  }
  try {
    auto db = std::make_unique<Db>(path, /*create=*/true);
    db->Exec("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms));
    // Read-only checks first: nothing is written to a store we cannot use.
    const auto version = static_cast<int>(db->QueryInt("PRAGMA user_version"));
    if (version > LatestSchemaVersion()) {
      return problems::StoreTooNew(path + " has schema version " + std::to_string(version) +
                                   "; this build knows " + std::to_string(LatestSchemaVersion()) +
                                   ". Upgrade prodsprint; the store was not changed")
          .With("schema_version", version)
          .With("supported", LatestSchemaVersion());
    }
    if (exists && version > 0) {
      std::string check = db->QueryText("PRAGMA quick_check(1)");
      if (check != "ok") {
        return problems::StoreCorrupt(path + ": integrity check failed (" + check +
                                      "); the file was left as it is");
      }
    }
    db->Exec("PRAGMA journal_mode = WAL");
    db->Exec(options.durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    db->Exec("PRAGMA foreign_keys = ON");
    if (version < LatestSchemaVersion()) {
      if (version > 0) {
        // Keep a copy of the old store before changing its schema.
        std::string backup = path + ".v" + std::to_string(version) + ".bak";
        std::filesystem::remove(backup, ec);
        auto st = db->Prepare("VACUUM INTO ?1");
        st->Bind(1, backup);
        st->Exec();
      }
      db->Exec("BEGIN IMMEDIATE");
      try {
        // Another process may have migrated while we waited for the lock.
        int current = static_cast<int>(db->QueryInt("PRAGMA user_version"));
        for (int v = current; v < LatestSchemaVersion(); ++v) {
          db->Exec(std::string(Migrations()[static_cast<std::size_t>(v)]));
          db->Exec("PRAGMA user_version = " + std::to_string(v + 1));
        }
        ChainAuditLog(*db);
        db->Exec("COMMIT");
      } catch (...) {
        sqlite3_exec(db->raw(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    }
    return std::unique_ptr<SqliteStore>(new SqliteStore(path, std::move(db)));
  } catch (const SqliteError& e) {
    return FromSqlite(e, path);
  }
}

int SqliteStore::SchemaVersion() {
  std::lock_guard lock(mu_);
  try {
    return static_cast<int>(db_->QueryInt("PRAGMA user_version"));
  } catch (const SqliteError&) {
    return -1;
  }
}

Status SqliteStore::Read(const std::function<Status(Tx&)>& fn) { return Transact(false, fn); }
Status SqliteStore::Write(const std::function<Status(Tx&)>& fn) { return Transact(true, fn); }

Status SqliteStore::Transact(bool write, const std::function<Status(Tx&)>& fn) {
  std::lock_guard lock(mu_);
  try {
    db_->Exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
  } catch (const SqliteError& e) {
    return FromSqlite(e, path_);
  }
  SqliteTx tx(*db_);
  Status result;
  try {
    result = fn(tx);
    if (result.ok()) {
      db_->Exec("COMMIT");
      return Ok();
    }
  } catch (const SqliteError& e) {
    result = FromSqlite(e, path_);
  } catch (const std::exception& e) {
    result = problems::Internal(std::string("transaction failed: ") + e.what());
  }
  sqlite3_exec(db_->raw(), "ROLLBACK", nullptr, nullptr, nullptr);
  return result;
}

void RegisterSqliteBackend() {
  RegisterStoreBackend(
      {"sqlite",
       [](const std::string& path) -> Result<std::unique_ptr<Store>> {
         PS_ASSIGN(auto s, SqliteStore::Open(path));
         return std::unique_ptr<Store>(std::move(s));
       },
       [] {
         return Json{{"schema", LatestSchemaVersion()}, {"library", sqlite3_libversion()}};
       }});
}

}  // namespace ps::store::sqlite
