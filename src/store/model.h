// The data model of BRIEF.md as C++ values. Every tenant-scoped row carries
// its org and workspace, so that a PostgreSQL backend can enforce tenancy with
// row-level security on every table, not only through joins.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/problem.h"

namespace ps::store {

struct Tenant {
  std::string org_id;
  std::string workspace_id;
  bool operator==(const Tenant&) const = default;
};

enum class RunKind { kImport, kBlueprint, kApply, kReadiness, kRelease, kRollback };
enum class RunStatus { kPending, kRunning, kDone, kError };
// The brief's artifact types, and `audit` (the audit's result, schema version 2).
enum class ArtifactType {
  kIac,
  kCicd,
  kTests,
  kSbom,
  kPerf,
  kObservability,
  kRelease,
  kRunbook,
  kAudit
};
// A stage of a run: blocked on its needs, ready (maybe after not_before),
// running under a lease, or finished.
enum class StageStatus { kBlocked, kReady, kRunning, kDone, kError, kCancelled };
// One attempt at a stage: running, done, failed (returned a problem), lost
// (its lease expired: the worker died or hung), cancelled, timed out.
enum class AttemptStatus { kRunning, kDone, kFailed, kLost, kCancelled, kTimeout };

std::string_view ToString(RunKind v);
std::string_view ToString(RunStatus v);
std::string_view ToString(ArtifactType v);
std::string_view ToString(StageStatus v);
std::string_view ToString(AttemptStatus v);
bool Parse(std::string_view s, RunKind* out);
bool Parse(std::string_view s, RunStatus* out);
bool Parse(std::string_view s, ArtifactType* out);
bool Parse(std::string_view s, StageStatus* out);
bool Parse(std::string_view s, AttemptStatus* out);

struct Org {
  std::string id, name, plan = "free";
  Millis created_at = 0;
};

struct User {
  std::string id, org_id, email, name, role = "member", tz = "UTC";
  Millis created_at = 0;
};

struct Workspace {
  std::string id, org_id, name, created_by;
  Millis created_at = 0;
};

struct Project {
  std::string id;
  Tenant tenant;
  std::string name, repo_url, branch = "main", target, region, state = "new";
  Millis created_at = 0, updated_at = 0;
};

struct Integration {
  std::string project_id, type, creds_ref;
  std::vector<std::string> scopes;
};

struct Run {
  std::string id;
  Tenant tenant;
  std::string project_id;
  RunKind kind = RunKind::kImport;
  RunStatus status = RunStatus::kPending;
  std::string stage;  // the stage most recently started
  int attempt = 0;    // how many times the run was replayed from its dead letters
  std::string logs_ref;
  Json metrics = Json::object();
  Json policy_result = Json::object();
  Json error;  // a Problem when status is error
  Json input = Json::object();
  bool cancel_requested = false;
  Millis created_at = 0, updated_at = 0;
};

// A node of a run's DAG.
struct StageRow {
  std::string run_id;
  Tenant tenant;
  std::string project_id;
  std::string name;
  int position = 0;  // deterministic order: topological, ties by declaration
  std::vector<std::string> needs;
  StageStatus status = StageStatus::kBlocked;
  int attempt = 0;  // attempts started so far
  int max_attempts = 3;
  Millis timeout_ms = 0;
  Millis not_before = 0;
  std::string lease_owner;
  std::int64_t lease_token = 0;  // fencing token: grows with every claim
  Millis lease_expires = 0;
  Json output;  // recorded result of the finished attempt
  Json error;
  Millis started_at = 0, finished_at = 0;
};

// One attempt; `key` is the idempotency key project_id:run_id:stage:attempt.
struct AttemptRow {
  std::string key;
  Tenant tenant;
  std::string project_id, run_id, stage;
  int attempt = 0;
  std::string worker;
  AttemptStatus status = AttemptStatus::kRunning;
  Json output;
  Json error;
  Millis started_at = 0, finished_at = 0;
};

struct Blueprint {
  std::string project_id;
  Tenant tenant;
  std::string iac_ref, cicd_ref;
  Json policies = Json::object(), cost_estimate = Json::object(), plan_diff = Json::object();
  Millis updated_at = 0;
};

struct Artifact {
  std::string id;
  Tenant tenant;
  std::string project_id, run_id;
  ArtifactType type = ArtifactType::kIac;
  std::string name;    // logical name: "Dockerfile", "sbom.cdx.json"
  std::string path;    // where the content lives in the artifact store
  std::string sha256;  // of the content
  std::int64_t size = 0;
  std::string media_type;
  Json meta = Json::object();
  Millis created_at = 0;
};

struct Release {
  std::string id;
  Tenant tenant;
  std::string project_id, sha, env, strategy, status;
  std::optional<double> risk_score;
  Json meta = Json::object();
  Millis created_at = 0, updated_at = 0;
};

struct Alert {
  std::string id;
  Tenant tenant;
  std::string project_id, type, severity, action;
  Json meta = Json::object();
  Millis created_at = 0;
};

// One line of the audit log. The log is append-only and hash-chained per org:
// `hash` covers the entry and `prev_hash` (the org's previous entry's hash,
// empty for its first), so a changed or deleted row breaks the chain
// (AuditHash; `prodsprint audit verify`). The store sets id and both hashes.
// An entry may name only an org (workspace_id empty: members, tokens) or
// neither (org_id empty: the server's own, e.g. a request with no identity).
struct AuditEntry {
  std::int64_t id = 0;
  Tenant tenant;
  std::string user_id, action, target;
  Json meta = Json::object();
  Millis created_at = 0;
  std::string prev_hash, hash;
};
// The hash an entry must carry: SHA-256 (hex) over prev_hash and the entry's
// fields (id included), one canonical encoding for every backend.
std::string AuditHash(const AuditEntry& e);

// Which audit entries to list: an org's (or the server's own, org_id empty),
// narrowed by workspace, user and action prefix; id order, from a cursor.
struct AuditQuery {
  std::string org_id;
  std::string workspace_id;    // empty: every workspace of the org and the org's own
  std::string user_id;         // empty: anyone
  std::string action_prefix;   // "release." etc.; empty: any
  std::int64_t after_id = 0;   // ascending from here (0: from the start) ...
  std::int64_t before_id = 0;  // ... or, when > 0 or `newest_first`, descending below it
  bool newest_first = false;
  int limit = 100;
};

// A member of an org: an identity (an OIDC subject) with a role, optionally
// narrowed to some workspaces (ids; empty: all of the org's). Roles, in
// growing power: viewer, developer, admin, owner.
struct Member {
  std::string org_id, sub, role;
  std::vector<std::string> workspaces;
  std::string added_by;
  Millis created_at = 0;
};

// An API token for CI. Only its SHA-256 is stored; the secret is shown once.
struct ApiToken {
  std::string id, org_id, name, role;
  std::string workspace_id;  // empty: all of the org's workspaces
  std::string hash;          // hex SHA-256 of the secret
  std::string created_by;
  Millis created_at = 0, expires_at = 0 /* 0: never */, last_used_at = 0, revoked_at = 0;
};

// The answer a POST gave under an Idempotency-Key, replayed for the same key
// and body (per org and actor).
struct IdempotencyRecord {
  std::string org_id, actor, key;
  std::string request_hash;  // of method, path and body
  int status = 0;
  Json response;  // {"headers": {...}, "body": "..."}
  Millis created_at = 0;
};

// An outbox event. seq is assigned by the store, strictly increasing in
// commit order, and never reused.
struct Event {
  std::int64_t seq = 0;
  Tenant tenant;
  std::string project_id, run_id, name;
  Json payload = Json::object();
  Millis created_at = 0;
};

struct DeadLetter {
  std::int64_t id = 0;
  Tenant tenant;
  std::string run_id, stage;
  int attempt = 0;
  Json problem;
  Millis created_at = 0;
  Millis replayed_at = 0;  // 0 while waiting
};

// True for the brief's event names (and error.*, run.*, stage.* of the engine).
bool IsKnownEventName(std::string_view name);

}  // namespace ps::store
