#include "store/model_json.h"

namespace ps::store {

namespace {
Json Time(Millis ms) { return ms > 0 ? Json(FormatTime(ms)) : Json(nullptr); }
}  // namespace

Json ToJson(const Project& p) {
  return {{"id", p.id},
          {"org_id", p.tenant.org_id},
          {"workspace_id", p.tenant.workspace_id},
          {"name", p.name},
          {"repo_url", p.repo_url},
          {"branch", p.branch},
          {"target", p.target},
          {"region", p.region},
          {"state", p.state},
          {"created_at", Time(p.created_at)},
          {"updated_at", Time(p.updated_at)}};
}

Json ToJson(const Run& r) {
  // The checkout of a project cloned from a git URL is the server's own
  // folder, derived by the application layer: not for callers to see.
  Json input = r.input;
  if (input.is_object()) input.erase("checkout");
  return {{"id", r.id},
          {"org_id", r.tenant.org_id},
          {"workspace_id", r.tenant.workspace_id},
          {"project_id", r.project_id},
          {"kind", ToString(r.kind)},
          {"status", ToString(r.status)},
          {"stage", r.stage},
          {"attempt", r.attempt},
          {"logs_ref", r.logs_ref},
          {"metrics", r.metrics},
          {"policy_result", r.policy_result},
          {"error", r.error},
          {"input", input},
          {"cancel_requested", r.cancel_requested},
          {"created_at", Time(r.created_at)},
          {"updated_at", Time(r.updated_at)}};
}

Json ToJson(const StageRow& s) {
  return {{"name", s.name},
          {"position", s.position},
          {"needs", s.needs},
          {"status", ToString(s.status)},
          {"attempt", s.attempt},
          {"max_attempts", s.max_attempts},
          {"timeout_ms", s.timeout_ms},
          {"not_before", Time(s.not_before)},
          {"lease_owner", s.lease_owner},
          {"lease_expires", Time(s.lease_expires)},
          {"output", s.output},
          {"error", s.error},
          {"started_at", Time(s.started_at)},
          {"finished_at", Time(s.finished_at)}};
}

Json ToJson(const AttemptRow& a) {
  return {{"key", a.key},
          {"stage", a.stage},
          {"attempt", a.attempt},
          {"worker", a.worker},
          {"status", ToString(a.status)},
          {"error", a.error},
          {"started_at", Time(a.started_at)},
          {"finished_at", Time(a.finished_at)}};
}

Json ToJson(const Artifact& a) {
  return {{"id", a.id},
          {"project_id", a.project_id},
          {"run_id", a.run_id},
          {"type", ToString(a.type)},
          {"name", a.name},
          {"path", a.path},
          {"sha256", a.sha256},
          {"size", a.size},
          {"media_type", a.media_type},
          {"meta", a.meta},
          {"created_at", Time(a.created_at)}};
}

Json ToJson(const Event& e) {
  return {{"seq", e.seq},       {"name", e.name},       {"project_id", e.project_id},
          {"run_id", e.run_id}, {"payload", e.payload}, {"created_at", Time(e.created_at)}};
}

Json ToJson(const DeadLetter& d) {
  return {{"id", d.id},
          {"run_id", d.run_id},
          {"stage", d.stage},
          {"attempt", d.attempt},
          {"problem", d.problem},
          {"created_at", Time(d.created_at)},
          {"replayed_at", Time(d.replayed_at)}};
}

Json ToJson(const Org& o) {
  return {{"id", o.id}, {"name", o.name}, {"plan", o.plan}, {"created_at", Time(o.created_at)}};
}

Json ToJson(const Workspace& w) {
  return {{"id", w.id},
          {"org_id", w.org_id},
          {"name", w.name},
          {"created_by", w.created_by},
          {"created_at", Time(w.created_at)}};
}

Json ToJson(const Member& m) {
  return {{"org_id", m.org_id},     {"sub", m.sub},
          {"role", m.role},         {"workspaces", m.workspaces},
          {"added_by", m.added_by}, {"created_at", Time(m.created_at)}};
}

Json ToJson(const ApiToken& t) {
  // Never the hash: a listing must not help anyone guess a secret.
  return {{"id", t.id},
          {"org_id", t.org_id},
          {"name", t.name},
          {"role", t.role},
          {"workspace_id", t.workspace_id},
          {"created_by", t.created_by},
          {"created_at", Time(t.created_at)},
          {"expires_at", Time(t.expires_at)},
          {"last_used_at", Time(t.last_used_at)},
          {"revoked_at", Time(t.revoked_at)}};
}

Json ToJson(const AuditEntry& e) {
  return {{"id", e.id},
          {"org_id", e.tenant.org_id},
          {"workspace_id", e.tenant.workspace_id},
          {"user_id", e.user_id},
          {"action", e.action},
          {"target", e.target},
          {"meta", e.meta},
          {"created_at", Time(e.created_at)},
          {"created_at_ms", e.created_at},
          {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

Json ToJson(const Release& r) {
  return {{"id", r.id},
          {"org_id", r.tenant.org_id},
          {"workspace_id", r.tenant.workspace_id},
          {"project_id", r.project_id},
          {"sha", r.sha},
          {"env", r.env},
          {"strategy", r.strategy},
          {"status", r.status},
          {"risk_score", r.risk_score ? Json(*r.risk_score) : Json(nullptr)},
          {"meta", r.meta},
          {"created_at", Time(r.created_at)},
          {"updated_at", Time(r.updated_at)}};
}

Json ToJson(const Blueprint& b) {
  return {{"project_id", b.project_id},       {"iac_ref", b.iac_ref},
          {"cicd_ref", b.cicd_ref},           {"policies", b.policies},
          {"cost_estimate", b.cost_estimate}, {"plan_diff", b.plan_diff},
          {"updated_at", Time(b.updated_at)}};
}

Json ToJson(const Alert& a) {
  return {{"id", a.id},
          {"project_id", a.project_id},
          {"type", a.type},
          {"severity", a.severity},
          {"action", a.action},
          {"meta", a.meta},
          {"created_at", Time(a.created_at)}};
}

}  // namespace ps::store
