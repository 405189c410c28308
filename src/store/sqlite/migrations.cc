#include "store/sqlite/migrations.h"

namespace ps::store::sqlite {

namespace {

// Version 1: the data model of BRIEF.md, with the enums as CHECK constraints,
// tenant columns on every tenant-scoped table, and the engine's own tables
// (stages, stage_attempts, events outbox, dead_letters).
constexpr std::string_view kV1 = R"sql(
CREATE TABLE orgs(
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  plan TEXT NOT NULL DEFAULT 'free',
  created_at INTEGER NOT NULL
);
CREATE TABLE users(
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id),
  email TEXT NOT NULL COLLATE NOCASE UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('owner','admin','member','viewer')),
  tz TEXT NOT NULL DEFAULT 'UTC',
  created_at INTEGER NOT NULL
);
CREATE TABLE workspaces(
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id),
  name TEXT NOT NULL,
  created_by TEXT REFERENCES users(id),
  created_at INTEGER NOT NULL,
  UNIQUE(org_id, name)
);
CREATE TABLE projects(
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id),
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  name TEXT NOT NULL,
  repo_url TEXT NOT NULL,
  branch TEXT NOT NULL DEFAULT 'main',
  target TEXT NOT NULL DEFAULT '',
  region TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT 'new',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE(workspace_id, repo_url)
);
CREATE TABLE integrations(
  project_id TEXT NOT NULL REFERENCES projects(id),
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  type TEXT NOT NULL,
  creds_ref TEXT NOT NULL DEFAULT '',
  scopes TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY(project_id, type)
);
CREATE TABLE runs(
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id),
  kind TEXT NOT NULL CHECK (kind IN ('import','blueprint','apply','readiness','release','rollback')),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','running','done','error')),
  stage TEXT NOT NULL DEFAULT '',
  attempt INTEGER NOT NULL DEFAULT 0,
  logs_ref TEXT NOT NULL DEFAULT '',
  metrics TEXT NOT NULL DEFAULT '{}',
  policy_result TEXT NOT NULL DEFAULT '{}',
  error TEXT,
  input TEXT NOT NULL DEFAULT '{}',
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX runs_by_tenant ON runs(org_id, workspace_id, created_at);
CREATE INDEX runs_by_project ON runs(project_id, created_at);
CREATE TABLE stages(
  run_id TEXT NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  needs TEXT NOT NULL DEFAULT '[]',
  status TEXT NOT NULL CHECK (status IN ('blocked','ready','running','done','error','cancelled')),
  attempt INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  timeout_ms INTEGER NOT NULL,
  not_before INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_token INTEGER NOT NULL DEFAULT 0,
  lease_expires INTEGER NOT NULL DEFAULT 0,
  output TEXT,
  error TEXT,
  started_at INTEGER NOT NULL DEFAULT 0,
  finished_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(run_id, name)
);
CREATE INDEX stages_ready ON stages(status, not_before);
CREATE INDEX stages_leases ON stages(status, lease_expires);
CREATE TABLE stage_attempts(
  key TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  run_id TEXT NOT NULL REFERENCES runs(id),
  stage TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  worker TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('running','done','failed','lost','cancelled','timeout')),
  output TEXT,
  error TEXT,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL DEFAULT 0,
  UNIQUE(run_id, stage, attempt)
);
CREATE TABLE blueprints(
  project_id TEXT PRIMARY KEY REFERENCES projects(id),
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  iac_ref TEXT NOT NULL DEFAULT '',
  cicd_ref TEXT NOT NULL DEFAULT '',
  policies TEXT NOT NULL DEFAULT '{}',
  cost_estimate TEXT NOT NULL DEFAULT '{}',
  plan_diff TEXT NOT NULL DEFAULT '{}',
  updated_at INTEGER NOT NULL
);
CREATE TABLE artifacts(
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id),
  run_id TEXT REFERENCES runs(id),
  t TEXT NOT NULL CHECK (t IN ('iac','cicd','tests','sbom','perf','observability','release','runbook')),
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  media_type TEXT NOT NULL DEFAULT 'application/octet-stream',
  meta TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE INDEX artifacts_by_project ON artifacts(project_id, created_at);
CREATE TABLE releases(
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id),
  sha TEXT NOT NULL,
  env TEXT NOT NULL,
  strategy TEXT NOT NULL,
  status TEXT NOT NULL,
  risk_score REAL,
  meta TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX releases_by_project ON releases(project_id, created_at);
CREATE TABLE alerts(
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id),
  type TEXT NOT NULL,
  severity TEXT NOT NULL,
  action TEXT NOT NULL DEFAULT '',
  meta TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE INDEX alerts_by_project ON alerts(project_id, created_at);
CREATE TABLE audit_log(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  user_id TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL,
  target TEXT NOT NULL DEFAULT '',
  meta TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE TABLE events(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  project_id TEXT NOT NULL DEFAULT '',
  run_id TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL,
  payload TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE INDEX events_by_tenant ON events(org_id, workspace_id, seq);
CREATE TABLE dead_letters(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  run_id TEXT NOT NULL REFERENCES runs(id),
  stage TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  problem TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  replayed_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX dead_letters_by_run ON dead_letters(run_id);
)sql";

// Version 2: the audit's result is an artifact of its own type. SQLite cannot
// change a CHECK constraint in place, so the table is rebuilt.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE artifacts_v2(
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  project_id TEXT NOT NULL REFERENCES projects(id),
  run_id TEXT REFERENCES runs(id),
  t TEXT NOT NULL CHECK (t IN ('iac','cicd','tests','sbom','perf','observability','release',
                               'runbook','audit')),
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  media_type TEXT NOT NULL DEFAULT 'application/octet-stream',
  meta TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
INSERT INTO artifacts_v2 SELECT * FROM artifacts;
DROP TABLE artifacts;
ALTER TABLE artifacts_v2 RENAME TO artifacts;
CREATE INDEX artifacts_by_project ON artifacts(project_id, created_at);
)sql";

// Version 3: the server's access control (members of orgs, API tokens),
// idempotency records, and the audit log hash-chained per org (rows from
// before are chained when the store is opened: ChainAuditLog).
constexpr std::string_view kV3 = R"sql(
CREATE TABLE members(
  org_id TEXT NOT NULL REFERENCES orgs(id),
  sub TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner','admin','developer','viewer')),
  workspaces TEXT NOT NULL DEFAULT '[]',
  added_by TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  PRIMARY KEY(org_id, sub)
);
CREATE INDEX members_by_sub ON members(sub);
CREATE TABLE api_tokens(
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id),
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner','admin','developer','viewer')),
  workspace_id TEXT NOT NULL DEFAULT '',
  hash TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL DEFAULT 0,
  last_used_at INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_by_org ON api_tokens(org_id, created_at);
CREATE TABLE idempotency(
  org_id TEXT NOT NULL,
  actor TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  response TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY(org_id, actor, key)
);
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_by_org ON audit_log(org_id, id);
)sql";

}  // namespace

const std::vector<std::string_view>& Migrations() {
  static const std::vector<std::string_view> kAll = {kV1, kV2, kV3};
  return kAll;
}

}  // namespace ps::store::sqlite
