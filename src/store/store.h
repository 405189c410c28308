// The state store: the data model behind one transactional interface.
//
// Contract (every implementation passes tests/store/conformance_test.cc):
// - Store::Write runs its callback in one serializable read-write
//   transaction: it commits durably if the callback returns Ok, and rolls back
//   everything otherwise. Store::Read runs a read-only snapshot.
// - A Tx is valid only inside its callback and on the callback's thread.
// - Every tenant-scoped method takes the Tenant; a row of another tenant is
//   "not found", never returned, never changed.
// - Methods marked [system] are for the engine's workers, which serve all
//   tenants; the rows they return carry their tenant.
// - Store instances are thread-safe; several processes may open the same
//   store, and transactions from all of them are serialized.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/problem.h"
#include "store/model.h"

namespace ps::store {

struct RunFilter {
  std::string project_id;  // empty: all projects
  int limit = 50;
  // A page's cursor: only runs older than this one (by created_at, then
  // id, the list's order). Empty: from the newest.
  std::string before_id;
  Millis before_created_at = 0;
};

class Tx {
 public:
  virtual ~Tx() = default;

  // Orgs, users, workspaces. An org is its own tenant root.
  virtual Status CreateOrg(const Org& org) = 0;
  virtual Result<Org> GetOrg(const std::string& id) = 0;
  virtual Result<Org> FindOrgByName(const std::string& name) = 0;
  virtual Status CreateUser(const User& user) = 0;
  virtual Result<User> GetUser(const std::string& org_id, const std::string& id) = 0;
  virtual Status CreateWorkspace(const Workspace& ws) = 0;
  virtual Result<Workspace> GetWorkspace(const std::string& org_id, const std::string& id) = 0;
  virtual Result<Workspace> FindWorkspaceByName(const std::string& org_id,
                                                const std::string& name) = 0;
  virtual Result<std::vector<Workspace>> ListWorkspaces(const std::string& org_id) = 0;

  // Members of orgs and API tokens (the server's access control).
  // PutMember adds or replaces (org_id, sub).
  virtual Status PutMember(const Member& m) = 0;
  virtual Result<Member> GetMember(const std::string& org_id, const std::string& sub) = 0;
  virtual Result<std::vector<Member>> ListMembers(const std::string& org_id) = 0;
  // [system] Every org `sub` is a member of: what an identity may see.
  virtual Result<std::vector<Member>> ListMemberships(const std::string& sub) = 0;
  virtual Status DeleteMember(const std::string& org_id, const std::string& sub) = 0;
  virtual Status CreateApiToken(const ApiToken& t) = 0;
  // [system] The token whose secret hashes to `hash` (authentication).
  virtual Result<ApiToken> FindApiTokenByHash(const std::string& hash) = 0;
  virtual Result<ApiToken> GetApiToken(const std::string& org_id, const std::string& id) = 0;
  virtual Result<std::vector<ApiToken>> ListApiTokens(const std::string& org_id) = 0;
  virtual Status UpdateApiToken(const ApiToken& t) = 0;
  // Idempotency records: Put of an existing (org, actor, key) is a Conflict.
  virtual Result<IdempotencyRecord> GetIdempotency(const std::string& org_id,
                                                   const std::string& actor,
                                                   const std::string& key) = 0;
  virtual Status PutIdempotency(const IdempotencyRecord& r) = 0;

  // Projects and integrations.
  virtual Status CreateProject(const Project& p) = 0;
  virtual Result<Project> GetProject(const Tenant& t, const std::string& id) = 0;
  virtual Result<Project> FindProjectByRepo(const Tenant& t, const std::string& repo_url) = 0;
  virtual Result<std::vector<Project>> ListProjects(const Tenant& t) = 0;
  virtual Status UpdateProject(const Project& p) = 0;
  // Deletes the project and everything of it (runs, stages, attempts,
  // events, dead letters, artifacts' records, blueprint, releases, alerts,
  // integrations); the audit log keeps its lines. NotFound if it is not the
  // tenant's.
  virtual Status DeleteProject(const Tenant& t, const std::string& id) = 0;
  virtual Status PutIntegration(const Tenant& t, const Integration& i) = 0;
  virtual Result<std::vector<Integration>> ListIntegrations(const Tenant& t,
                                                            const std::string& project_id) = 0;

  // Runs (newest first in lists). FindRuns matches an id or an id prefix.
  virtual Status CreateRun(const Run& r) = 0;
  virtual Result<Run> GetRun(const Tenant& t, const std::string& id) = 0;
  virtual Result<std::vector<Run>> FindRuns(const Tenant& t, const std::string& id_prefix) = 0;
  virtual Result<std::vector<Run>> ListRuns(const Tenant& t, const RunFilter& f) = 0;
  virtual Status UpdateRun(const Run& r) = 0;

  // Stages of runs (in position order) and their attempts.
  virtual Status InsertStage(const StageRow& s) = 0;
  virtual Result<StageRow> GetStage(const Tenant& t, const std::string& run_id,
                                    const std::string& name) = 0;
  virtual Result<std::vector<StageRow>> ListStages(const Tenant& t, const std::string& run_id) = 0;
  virtual Status UpdateStage(const StageRow& s) = 0;
  // [system] Ready stages whose not_before has passed, oldest run first, then
  // by position.
  virtual Result<std::vector<StageRow>> FindClaimable(Millis now, int limit) = 0;
  // [system] Running stages whose lease expired before `now`.
  virtual Result<std::vector<StageRow>> FindExpiredLeases(Millis now, int limit) = 0;
  // [system] The earliest not_before among ready stages (0 if none): when an
  // idle worker should look again.
  virtual Result<Millis> NextWakeup() = 0;
  // Inserting an attempt whose key exists is a Conflict.
  virtual Status InsertAttempt(const AttemptRow& a) = 0;
  virtual Result<AttemptRow> GetAttempt(const Tenant& t, const std::string& key) = 0;
  virtual Result<std::vector<AttemptRow>> ListAttempts(const Tenant& t,
                                                       const std::string& run_id) = 0;
  virtual Status UpdateAttempt(const AttemptRow& a) = 0;

  // Outbox events. AppendEvent assigns seq.
  virtual Result<std::int64_t> AppendEvent(const Event& e) = 0;
  virtual Result<std::vector<Event>> ListEvents(const Tenant& t, std::int64_t after_seq, int limit,
                                                const std::string& run_id = {}) = 0;
  // [system] Counts for the server's metrics: runs by status, and stages
  // ready to run now (the queue).
  virtual Result<std::map<std::string, std::int64_t>> CountRunsByStatus() = 0;
  virtual Result<std::int64_t> CountReadyStages(Millis now) = 0;
  // [system] Events of all tenants after `after_seq`, for the publisher.
  virtual Result<std::vector<Event>> ListAllEvents(std::int64_t after_seq, int limit) = 0;

  // Artifacts (metadata; content lives in the ArtifactStore).
  virtual Status InsertArtifact(const Artifact& a) = 0;
  virtual Result<Artifact> GetArtifact(const Tenant& t, const std::string& id) = 0;
  virtual Result<std::vector<Artifact>> ListArtifacts(const Tenant& t,
                                                      const std::string& project_id,
                                                      const std::string& run_id = {}) = 0;

  // Blueprints: one per project, replaced by each plan.
  virtual Status PutBlueprint(const Blueprint& b) = 0;
  virtual Result<Blueprint> GetBlueprint(const Tenant& t, const std::string& project_id) = 0;

  // Releases and alerts.
  virtual Status CreateRelease(const Release& r) = 0;
  virtual Result<Release> GetRelease(const Tenant& t, const std::string& id) = 0;
  virtual Result<std::vector<Release>> ListReleases(const Tenant& t,
                                                    const std::string& project_id) = 0;
  virtual Status UpdateRelease(const Release& r) = 0;
  virtual Status CreateAlert(const Alert& a) = 0;
  virtual Result<std::vector<Alert>> ListAlerts(const Tenant& t, const std::string& project_id) = 0;

  // Audit log: append-only, hash-chained per org. AppendAudit assigns id,
  // prev_hash and hash (AuditHash); the entry's org must exist (unless
  // empty), and its workspace too (unless empty).
  virtual Result<std::int64_t> AppendAudit(const AuditEntry& e) = 0;
  // A workspace's entries, newest first.
  virtual Result<std::vector<AuditEntry>> ListAudit(const Tenant& t, int limit) = 0;
  virtual Result<std::vector<AuditEntry>> QueryAudit(const AuditQuery& q) = 0;
  // [system] The orgs that have audit entries ("" for the server's own):
  // the chains `audit verify` walks.
  virtual Result<std::vector<std::string>> AuditChains() = 0;

  // Dead letters of failed stages, replayed by `prodsprint runs retry`.
  virtual Result<std::int64_t> AddDeadLetter(const DeadLetter& d) = 0;
  virtual Result<std::vector<DeadLetter>> ListDeadLetters(const Tenant& t,
                                                          const std::string& run_id,
                                                          bool include_replayed) = 0;
  virtual Status MarkReplayed(const Tenant& t, std::int64_t id, Millis at) = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual Status Read(const std::function<Status(Tx&)>& fn) = 0;
  virtual Status Write(const std::function<Status(Tx&)>& fn) = 0;
  // "sqlite:/path/state.db" etc., for messages.
  virtual std::string Describe() const = 0;
  // The schema version this store is at.
  virtual int SchemaVersion() = 0;
};

// Convenience: run `fn` in a read (or write) transaction and return its value.
template <class T>
Result<T> ReadValue(Store& s, const std::function<Result<T>(Tx&)>& fn) {
  std::optional<Result<T>> out;
  Status st = s.Read([&](Tx& tx) -> Status {
    out.emplace(fn(tx));
    if (!out->ok()) return out->problem();
    return Ok();
  });
  if (!st.ok()) return std::move(st).problem();
  return std::move(*out);
}

template <class T>
Result<T> WriteValue(Store& s, const std::function<Result<T>(Tx&)>& fn) {
  std::optional<Result<T>> out;
  Status st = s.Write([&](Tx& tx) -> Status {
    out.emplace(fn(tx));
    if (!out->ok()) return out->problem();
    return Ok();
  });
  if (!st.ok()) return std::move(st).problem();
  return std::move(*out);
}

}  // namespace ps::store
