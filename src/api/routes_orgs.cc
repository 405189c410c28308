// Orgs, workspaces, members, API tokens and the audit log.
#include "api/api.h"
#include "core/clock.h"
#include "service/orgs.h"
#include "store/model_json.h"

namespace ps::api {

namespace {

Result<Response> ListOrgs(Call& c) {
  Json items = Json::array();
  for (const auto& g : c.grants) {
    Json o = store::ToJson(g.org);
    o["role"] = ToString(g.role);
    items.push_back(o);
  }
  return Response::WithJson(200, {{"items", items}});
}

Result<Response> GetOrg(Call& c) {
  PS_ASSIGN(Scope s, c.InOrg(c.params["org"], Need::kView));
  Json o = store::ToJson(s.org);
  o["role"] = ToString(s.role);
  return Response::WithJson(200, o);
}

Result<Response> ListWorkspaces(Call& c) {
  PS_ASSIGN(Scope s, c.InOrg(c.params["org"], Need::kView));
  PS_ASSIGN(auto wss,
            store::ReadValue<std::vector<store::Workspace>>(
                c.app().store, [&](store::Tx& tx) { return tx.ListWorkspaces(s.org.id); }));
  Json items = Json::array();
  for (const auto& g : c.grants) {
    if (g.org.id != s.org.id) continue;
    for (const auto& ws : wss) {
      if (g.Allows(ws.id)) items.push_back(store::ToJson(ws));
    }
  }
  return Response::WithJson(200, {{"items", items}});
}

Result<Response> CreateWorkspace(Call& c) {
  PS_ASSIGN(Scope s, c.InOrg(c.params["org"], Need::kAdmin));
  PS_ASSIGN(Json body, c.Body());
  PS_ASSIGN(std::string name, StringField(body, "name"));
  PS_ASSIGN(store::Workspace ws, service::CreateWorkspace(c.app(), s.org, name, c.actor()));
  c.audit_target = "workspace:" + ws.id;
  c.audit_meta["name"] = name;
  Response r = Response::WithJson(201, store::ToJson(ws));
  r.Set("Location", "/v1/orgs/" + s.org.name + "/workspaces/" + ws.name);
  return r;
}

Result<Response> ListMembers(Call& c) {
  PS_ASSIGN(Scope s, c.InOrg(c.params["org"], Need::kView));
  PS_ASSIGN(auto members,
            store::ReadValue<std::vector<store::Member>>(
                c.app().store, [&](store::Tx& tx) { return tx.ListMembers(s.org.id); }));
  Json items = Json::array();
  for (const auto& m : members) items.push_back(store::ToJson(m));
  return Response::WithJson(200, {{"items", items}});
}

Result<Response> PutMember(Call& c) {
  PS_ASSIGN(Scope s, c.InOrg(c.params["org"], Need::kAdmin));
  PS_ASSIGN(Json body, c.Body());
  PS_ASSIGN(std::string sub, StringField(body, "sub"));
  PS_ASSIGN(std::string role, StringField(body, "role"));
  std::vector<std::string> workspaces;
  if (body.contains("workspaces")) {
    if (!body["workspaces"].is_array()) return BadRequest("'workspaces' must be a list of names");
    for (const auto& w : body["workspaces"]) {
      if (!w.is_string()) return BadRequest("'workspaces' must be a list of names");
      workspaces.push_back(w.get<std::string>());
    }
  }
  // Only an owner makes or unmakes owners; nobody grants more than they have.
  Role wanted = Role::kViewer;
  if (ParseRole(role, &wanted) && wanted > s.role) {
    c.denied = true;
    return Forbidden("granting " + role + " needs that role yourself");
  }
  auto existing = store::ReadValue<store::Member>(
      c.app().store, [&](store::Tx& tx) { return tx.GetMember(s.org.id, sub); });
  if (existing.ok() && existing->role == "owner" && s.role != Role::kOwner) {
    c.denied = true;
    return Forbidden("changing an owner needs the role owner");
  }
  PS_ASSIGN(store::Member m, service::PutMember(c.app(), s.org, sub, role, workspaces, c.actor()));
  c.audit_target = "member:" + sub;
  c.audit_meta["role"] = role;
  return Response::WithJson(existing.ok() ? 200 : 201, store::ToJson(m));
}

Result<Response> DeleteMember(Call& c) {
  PS_ASSIGN(Scope s, c.InOrg(c.params["org"], Need::kAdmin));
  std::string sub;
  if (!PercentDecode(c.params["sub"], &sub)) return BadRequest("malformed member name");
  c.audit_target = "member:" + sub;
  auto existing = store::ReadValue<store::Member>(
      c.app().store, [&](store::Tx& tx) { return tx.GetMember(s.org.id, sub); });
  if (existing.ok() && existing->role == "owner" && s.role != Role::kOwner) {
    c.denied = true;
    return Forbidden("removing an owner needs the role owner");
  }
  PS_TRY(service::RemoveMember(c.app(), s.org, sub));
  Response r;
  r.status = 204;
  return r;
}

Result<Response> ListTokens(Call& c) {
  PS_ASSIGN(Scope s, c.InOrg(c.params["org"], Need::kAdmin));
  PS_ASSIGN(auto tokens,
            store::ReadValue<std::vector<store::ApiToken>>(
                c.app().store, [&](store::Tx& tx) { return tx.ListApiTokens(s.org.id); }));
  Json items = Json::array();
  for (const auto& t : tokens) items.push_back(store::ToJson(t));
  return Response::WithJson(200, {{"items", items}});
}

Result<Response> CreateToken(Call& c) {
  PS_ASSIGN(Scope s, c.InOrg(c.params["org"], Need::kAdmin));
  PS_ASSIGN(Json body, c.Body());
  PS_ASSIGN(std::string name, StringField(body, "name"));
  PS_ASSIGN(std::string role, StringField(body, "role"));
  PS_ASSIGN(std::string workspace, StringField(body, "workspace", false));
  Role wanted = Role::kViewer;
  if (ParseRole(role, &wanted) && wanted > s.role) {
    c.denied = true;
    return Forbidden("a token with role " + role + " needs that role yourself");
  }
  Millis expires_at = 0;
  if (body.contains("expires_in")) {
    PS_ASSIGN(std::string in, StringField(body, "expires_in"));
    const Millis d = ParseDuration(in);
    if (d <= 0 || d > 366LL * 86'400'000) {
      return BadRequest("expires_in is a duration up to a year, e.g. 720h");
    }
    expires_at = c.app().clock.Now() + d;
  }
  const NewSecret secret = MakeTokenSecret();
  PS_ASSIGN(store::ApiToken t, service::CreateToken(c.app(), s.org, name, role, workspace,
                                                    expires_at, secret.hash, c.actor()));
  c.audit_target = "token:" + t.id;
  c.audit_meta["name"] = name;
  c.audit_meta["role"] = role;
  Json out = store::ToJson(t);
  out["token"] = secret.secret;  // shown once: only its hash is kept
  Response r = Response::WithJson(201, out);
  r.Set("Location", "/v1/orgs/" + s.org.name + "/tokens/" + t.id);
  return r;
}

Result<Response> RevokeToken(Call& c) {
  PS_ASSIGN(Scope s, c.InOrg(c.params["org"], Need::kAdmin));
  c.audit_target = "token:" + c.params["id"];
  PS_TRY(service::RevokeToken(c.app(), s.org, c.params["id"]));
  Response r;
  r.status = 204;
  return r;
}

// The audit log, filtered, in pages by id; NDJSON for export.
Result<Response> ListAudit(Call& c) {
  PS_ASSIGN(Scope s, c.InOrg(c.params["org"], Need::kAdmin));
  store::AuditQuery q;
  q.org_id = s.org.id;
  if (auto ws = c.req.Param("workspace")) {
    auto found = store::ReadValue<store::Workspace>(
        c.app().store, [&](store::Tx& tx) { return tx.FindWorkspaceByName(s.org.id, *ws); });
    if (!found.ok()) return problems::NotFound("workspace", *ws);
    q.workspace_id = found->id;
  }
  if (auto u = c.req.Param("user")) q.user_id = *u;
  if (auto a = c.req.Param("action")) q.action_prefix = *a;
  if (auto after = c.req.Param("after")) {
    try {
      q.after_id = std::stoll(*after);
    } catch (const std::exception&) {
      return BadRequest("after must be an audit entry's id");
    }
  }
  const bool ndjson = c.req.Param("format").value_or("") == "ndjson" ||
                      c.req.Header("accept").find("application/x-ndjson") != std::string::npos;
  PS_ASSIGN(q.limit, LimitParam(c.req, ndjson ? 10'000 : 100, ndjson ? 100'000 : 1000));
  PS_ASSIGN(auto entries, store::ReadValue<std::vector<store::AuditEntry>>(
                              c.app().store, [&](store::Tx& tx) { return tx.QueryAudit(q); }));
  Response r;
  if (ndjson) {
    for (const auto& e : entries) r.body += Dump(store::ToJson(e)) + "\n";
    r.Set("Content-Type", "application/x-ndjson");
  } else {
    Json items = Json::array();
    for (const auto& e : entries) items.push_back(store::ToJson(e));
    r = Response::WithJson(200, {{"items", items}});
  }
  if (static_cast<int>(entries.size()) == q.limit && !entries.empty()) {
    std::string next = "/v1/orgs/" + s.org.name +
                       "/audit?after=" + std::to_string(entries.back().id) +
                       "&limit=" + std::to_string(q.limit);
    if (ndjson) next += "&format=ndjson";
    r.Set("Link", "<" + next + ">; rel=\"next\"");
  }
  return r;
}

}  // namespace

void AddOrgRoutes(std::vector<Route>& routes) {
  routes.push_back({"GET", "/v1/orgs", "listOrgs", "orgs", "The orgs the caller belongs to",
                    Need::kIdentity, "", nullptr, 200, "application/json", ListOrgs});
  routes.push_back({"GET", "/v1/orgs/{org}", "getOrg", "orgs", "An org", Need::kView, "", nullptr,
                    200, "application/json", GetOrg});
  routes.push_back({"GET", "/v1/orgs/{org}/workspaces", "listWorkspaces", "orgs",
                    "The org's workspaces the caller may see", Need::kView, "", nullptr, 200,
                    "application/json", ListWorkspaces});
  routes.push_back({"POST", "/v1/orgs/{org}/workspaces", "createWorkspace", "orgs",
                    "Create a workspace", Need::kAdmin, "workspace.create",
                    ObjectSchema({"name"}, {"name"}), 201, "application/json", CreateWorkspace});
  routes.push_back({"GET", "/v1/orgs/{org}/members", "listMembers", "orgs", "The org's members",
                    Need::kView, "", nullptr, 200, "application/json", ListMembers});
  Json member = ObjectSchema({"sub", "role"}, {"sub", "role"});
  member["properties"]["role"]["enum"] = {"owner", "admin", "developer", "viewer"};
  member["properties"]["workspaces"] = {{"type", "array"}, {"items", {{"type", "string"}}}};
  routes.push_back({"POST", "/v1/orgs/{org}/members", "putMember", "orgs",
                    "Add a member or change their role (owners only make owners)", Need::kAdmin,
                    "member.put", member, 200, "application/json", PutMember});
  routes.push_back({"DELETE", "/v1/orgs/{org}/members/{sub}", "deleteMember", "orgs",
                    "Remove a member (not the last owner)", Need::kAdmin, "member.delete", nullptr,
                    204, "", DeleteMember});
  routes.push_back({"GET", "/v1/orgs/{org}/tokens", "listTokens", "orgs",
                    "API tokens, with their last use (never their secret)", Need::kAdmin, "",
                    nullptr, 200, "application/json", ListTokens});
  Json token = ObjectSchema({"name", "role", "workspace", "expires_in"}, {"name", "role"});
  token["properties"]["role"]["enum"] = {"owner", "admin", "developer", "viewer"};
  routes.push_back({"POST", "/v1/orgs/{org}/tokens", "createToken", "orgs",
                    "Create an API token (its secret, pst_..., is in this answer only)",
                    Need::kAdmin, "token.create", token, 201, "application/json", CreateToken});
  routes.push_back({"DELETE", "/v1/orgs/{org}/tokens/{id}", "revokeToken", "orgs",
                    "Revoke an API token", Need::kAdmin, "token.revoke", nullptr, 204, "",
                    RevokeToken});
  routes.push_back({"GET", "/v1/orgs/{org}/audit", "listAudit", "audit",
                    "The audit log: ?workspace=&user=&action=&after=&limit=, NDJSON with "
                    "?format=ndjson or Accept: application/x-ndjson",
                    Need::kAdmin, "", nullptr, 200, "application/json", ListAudit});
}

}  // namespace ps::api
