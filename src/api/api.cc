#include "api/api.h"

#include <algorithm>
#include <chrono>

#include "api/static_files.h"
#include "core/fs.h"
#include "core/log.h"

namespace ps::api {

namespace {

bool IsUnsafe(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

// A client's X-Request-Id is kept when it is short and plain; otherwise the
// server makes its own (it goes into logs and the audit log).
bool SaneRequestId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

}  // namespace

// --- helpers -----------------------------------------------------------

bool MatchPattern(const std::string& pattern, const std::string& path,
                  std::map<std::string, std::string>* params) {
  std::size_t p = 0;
  std::size_t s = 0;
  std::map<std::string, std::string> found;
  while (p < pattern.size() && s <= path.size()) {
    if (pattern[p] == '{') {
      const auto close = pattern.find('}', p);
      const std::string name = pattern.substr(p + 1, close - p - 1);
      auto end = path.find('/', s);
      if (end == std::string::npos) end = path.size();
      if (end == s) return false;  // an empty segment names nothing
      found[name] = path.substr(s, end - s);
      p = close + 1;
      s = end;
      continue;
    }
    if (s >= path.size() || pattern[p] != path[s]) return false;
    ++p;
    ++s;
  }
  if (p != pattern.size() || s != path.size()) return false;
  if (params) *params = std::move(found);
  return true;
}

Problem BadRequest(std::string detail) { return problems::InvalidInput(std::move(detail)); }

Result<std::string> StringField(const Json& body, const std::string& key, bool required) {
  if (!body.contains(key) || body[key].is_null()) {
    if (required) return BadRequest("'" + key + "' is required");
    return std::string();
  }
  if (!body[key].is_string()) return BadRequest("'" + key + "' must be a string");
  std::string v = body[key].get<std::string>();
  if (v.size() > 4096) return BadRequest("'" + key + "' is too long");
  if (required && v.empty()) return BadRequest("'" + key + "' must not be empty");
  return v;
}

Result<int> LimitParam(const Request& req, int def, int max) {
  auto v = req.Param("limit");
  if (!v) return def;
  int n = 0;
  try {
    std::size_t used = 0;
    n = std::stoi(*v, &used);
    if (used != v->size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    return BadRequest("limit must be an integer from 1 to " + std::to_string(max));
  }
  if (n < 1 || n > max) {
    return BadRequest("limit must be an integer from 1 to " + std::to_string(max));
  }
  return n;
}

Json ObjectSchema(std::initializer_list<const char*> props,
                  std::initializer_list<const char*> required) {
  Json p = Json::object();
  for (const char* k : props) p[k] = {{"type", "string"}};
  return {{"type", "object"},
          {"properties", p},
          {"required", Json(required)},
          {"additionalProperties", false}};
}

Response Accepted(const store::Run& run) {
  Response r = Response::WithJson(
      202,
      {{"run_id", run.id},
       {"project_id", run.project_id},
       {"kind", store::ToString(run.kind)},
       {"status", store::ToString(run.status)},
       {"links", {{"run", "/v1/runs/" + run.id}, {"stream", "/v1/runs/" + run.id + "/stream"}}}});
  r.Set("Location", "/v1/runs/" + run.id);
  return r;
}

// --- Call ----------------------------------------------------------------

service::App& Call::app() { return api_.app(); }

Result<Json> Call::Body() const {
  if (req.body.empty()) return Json::object();
  Json j = Json::parse(req.body, nullptr, false);
  if (j.is_discarded()) return BadRequest("the request body is not valid JSON");
  if (!j.is_object()) return BadRequest("the request body must be a JSON object");
  return j;
}

Result<Scope> Call::Check(const Grant& g, const store::Tenant& t, Need need,
                          const std::string& what) {
  audit_tenant = t;
  if (g.role < MinRole(need)) {
    denied = true;
    return Forbidden(what + " needs the role " + std::string(ToString(MinRole(need))) +
                     "; yours is " + std::string(ToString(g.role)));
  }
  // The org's requests share one budget, whoever makes them.
  int retry_after = 0;
  if (!api_.Admit("org:" + g.org.id, api_.app().config.server.rate_org, &retry_after)) {
    return Problem::Make("rate-limited", "Too many requests", 429,
                         "the org's request budget is spent for now")
        .With("retry_after", retry_after);
  }
  return Scope{g.org, t, g.role};
}

Result<Scope> Call::InOrg(const std::string& org, Need need) {
  for (const auto& g : grants) {
    if (g.org.name == org || g.org.id == org) {
      return Check(g, {g.org.id, ""}, need, "this");
    }
  }
  denied = true;
  return problems::NotFound("org", org);
}

Result<Scope> Call::InWorkspace(const std::string& ref, Need need) {
  const auto slash = ref.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == ref.size()) {
    return BadRequest("a workspace is named ORG/WORKSPACE, not '" + ref + "'");
  }
  const std::string org = ref.substr(0, slash);
  const std::string name = ref.substr(slash + 1);
  for (const auto& g : grants) {
    if (g.org.name != org && g.org.id != org) continue;
    auto ws = store::ReadValue<store::Workspace>(
        app().store, [&](store::Tx& tx) { return tx.FindWorkspaceByName(g.org.id, name); });
    if (!ws.ok() || !g.Allows(ws->id)) break;
    return Check(g, {g.org.id, ws->id}, need, "this");
  }
  denied = true;
  return problems::NotFound("workspace", ref);
}

Result<std::vector<Scope>> Call::Visible() {
  std::vector<Scope> out;
  PS_TRY(app().store.Read([&](store::Tx& tx) -> Status {
    for (const auto& g : grants) {
      PS_ASSIGN(auto wss, tx.ListWorkspaces(g.org.id));
      for (const auto& ws : wss) {
        if (g.Allows(ws.id)) out.push_back({g.org, {g.org.id, ws.id}, g.role});
      }
    }
    return Ok();
  }));
  return out;
}

namespace {

// Finds an object by id among the scopes: one read transaction.
template <class T>
Result<std::pair<Scope, T>> FindIn(store::Store& store, const std::vector<Scope>& scopes,
                                   const std::function<Result<T>(store::Tx&, const Scope&)>& get,
                                   const std::string& what, const std::string& id) {
  std::optional<std::pair<Scope, T>> found;
  PS_TRY(store.Read([&](store::Tx& tx) -> Status {
    for (const auto& s : scopes) {
      auto v = get(tx, s);
      if (v.ok()) {
        found.emplace(s, std::move(*v));
        return Ok();
      }
      if (!v.problem().Is("not-found")) return v.problem();
    }
    return Ok();
  }));
  if (!found) return problems::NotFound(what, id);
  return std::move(*found);
}

bool PlausibleId(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';
  });
}

}  // namespace

#define PS_FIND_IN_VISIBLE(TYPE, WHAT, GETTER)                                               \
  if (!PlausibleId(id)) {                                                                    \
    denied = true;                                                                           \
    return problems::NotFound(WHAT, id);                                                     \
  }                                                                                          \
  PS_ASSIGN(auto scopes, Visible());                                                         \
  auto found = FindIn<TYPE>(                                                                 \
      app().store, scopes, [&](store::Tx& tx, const Scope& s) { return GETTER; }, WHAT, id); \
  if (!found.ok()) {                                                                         \
    if (found.problem().Is("not-found")) denied = true;                                      \
    return found.problem();                                                                  \
  }                                                                                          \
  for (const auto& g : grants) {                                                             \
    if (g.org.id == found->first.org.id) {                                                   \
      PS_ASSIGN(Scope s, Check(g, found->first.tenant, need, WHAT " " + id));                \
      (void)s;                                                                               \
    }                                                                                        \
  }                                                                                          \
  audit_target = std::string(WHAT) + ":" + id;                                               \
  return std::move(*found);

Result<std::pair<Scope, store::Project>> Call::Project(const std::string& id, Need need){
    PS_FIND_IN_VISIBLE(store::Project, "project", tx.GetProject(s.tenant, id))}

Result<std::pair<Scope, store::Run>> Call::Run(const std::string& id, Need need){
    PS_FIND_IN_VISIBLE(store::Run, "run", tx.GetRun(s.tenant, id))}

Result<std::pair<Scope, store::Release>> Call::Release(const std::string& id, Need need) {
  PS_FIND_IN_VISIBLE(store::Release, "release", tx.GetRelease(s.tenant, id))
}

#undef PS_FIND_IN_VISIBLE

// --- Api -----------------------------------------------------------------

Api::Api(service::App& app, Authenticator& auth, Metrics& metrics, ApiOptions options)
    : app_(app),
      auth_(auth),
      metrics_(metrics),
      options_(std::move(options)),
      routes_(AllRoutes()) {}

std::vector<Route> AllRoutes() {
  std::vector<Route> routes;
  AddSystemRoutes(routes);
  AddOrgRoutes(routes);
  AddProjectRoutes(routes);
  AddRunRoutes(routes);
  AddReleaseRoutes(routes);
  return routes;
}

bool Api::Admit(const std::string& bucket, int per_second, int* retry_after_s) {
  const Millis now = app_.clock.Monotonic();
  const double burst = 2.0 * per_second;
  std::lock_guard lock(buckets_mu_);
  Bucket& b = buckets_[bucket];
  if (b.at == 0) {
    b.tokens = burst;
  } else {
    b.tokens = std::min(burst, b.tokens + static_cast<double>(now - b.at) * per_second / 1000.0);
  }
  b.at = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  *retry_after_s = std::max(1, static_cast<int>((1.0 - b.tokens) / per_second + 0.999));
  return false;
}

Response Api::Handle(const Request& in) {
  const auto start = std::chrono::steady_clock::now();
  Request req = in;
  if (!SaneRequestId(req.request_id)) {
    req.request_id =
        SaneRequestId(req.Header("x-request-id")) ? req.Header("x-request-id") : RandomText(12);
  }
  const Route* route = nullptr;
  Response resp;
  try {
    resp = Dispatch(req, &route);
  } catch (const std::exception& e) {
    resp =
        Response::WithProblem(problems::Internal(std::string("unexpected: ") + e.what()), req.path);
  }
  Finish(req, resp);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.Observe(req.method, route ? route->pattern : "", resp.status, seconds);
  return resp;
}

Response Api::Dispatch(const Request& req, const Route** matched) {
  std::vector<std::string> allowed;
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> p;
    if (!MatchPattern(r.pattern, req.path, &p)) continue;
    allowed.push_back(r.method);
    if (r.method == req.method || (req.method == "HEAD" && r.method == "GET")) {
      route = &r;
      params = std::move(p);
    }
  }
  if (!route) {
    if (allowed.empty()) {
      if (auto file = ServeStatic(options_.web_root, req)) return std::move(*file);
      return Response::WithProblem(problems::NotFound("route", req.method + " " + req.path),
                                   req.path);
    }
    if (req.method == "OPTIONS") {
      Response r;
      r.status = 204;
      std::string methods;
      for (const auto& m : allowed) methods += (methods.empty() ? "" : ", ") + m;
      r.Set("Allow", methods + ", OPTIONS");
      return r;
    }
    Response r =
        Response::WithProblem(Problem::Make("method-not-allowed", "Method not allowed", 405,
                                            req.method + " is not one of this route's methods"),
                              req.path);
    std::string methods;
    for (const auto& m : allowed) methods += (methods.empty() ? "" : ", ") + m;
    r.Set("Allow", methods);
    return r;
  }
  *matched = route;
  Call call(*this, req);
  call.params = std::move(params);
  Response resp = Run(*route, call);
  Audit(route, call, resp);
  return resp;
}

Response Api::Run(const Route& route, Call& call) {
  const Request& req = call.req;
  if (route.need != Need::kNone) {
    auto who = auth_.Authenticate(req);
    if (!who.ok()) {
      call.denied = true;
      call.audit_meta["reason"] = who.problem().detail;
      Response r = Response::WithProblem(who.problem(), req.path);
      std::string challenge = "Bearer realm=\"prodsprint\"";
      if (!req.Header("authorization").empty()) challenge += ", error=\"invalid_token\"";
      r.Set("WWW-Authenticate", challenge);
      return r;
    }
    call.who = *who;
    // A browser's cookie must not let another site act: unsafe methods
    // under a cookie need the request to come from the dashboard's origin.
    if (call.who.via_cookie && IsUnsafe(req.method)) {
      const std::string origin = req.Header("origin");
      const bool same = !origin.empty() && origin == options_.public_url;
      if (!same && req.Header("x-requested-with").empty()) {
        call.denied = true;
        return Response::WithProblem(
            Forbidden("a cookie-authenticated change must come from the dashboard's origin"),
            req.path);
      }
    }
    int retry_after = 0;
    if (!Admit("who:" + call.who.actor, app_.config.server.rate_token, &retry_after)) {
      Response r =
          Response::WithProblem(Problem::Make("rate-limited", "Too many requests", 429,
                                              "this caller's request budget is spent for now")
                                    .With("retry_after", retry_after),
                                req.path);
      r.Set("Retry-After", std::to_string(retry_after));
      return r;
    }
    auto grants = auth_.GrantsOf(call.who);
    if (!grants.ok()) return Response::WithProblem(grants.problem(), req.path);
    call.grants = std::move(*grants);
  }

  // Idempotency-Key: the same key and body get the first answer again.
  const std::string key = req.Header("idempotency-key");
  std::string request_hash;
  if (req.method == "POST" && !key.empty() && route.need != Need::kNone) {
    if (key.size() > 255) {
      return Response::WithProblem(BadRequest("Idempotency-Key is longer than 255 characters"),
                                   req.path);
    }
    request_hash = Sha256Hex(req.method + "\n" + req.path + "\n" + req.body);
    auto prior = store::ReadValue<store::IdempotencyRecord>(
        app_.store, [&](store::Tx& tx) { return tx.GetIdempotency("", call.who.actor, key); });
    if (prior.ok()) {
      if (prior->request_hash != request_hash) {
        return Response::WithProblem(
            Problem::Make("idempotency-key-reused", "Idempotency key reused", 422,
                          "this Idempotency-Key was used with another request; use a new key"),
            req.path);
      }
      Response r;
      r.status = prior->status;
      r.body = prior->response.value("body", "");
      if (prior->response.contains("headers") && prior->response["headers"].is_object()) {
        for (const auto& [k, v] : prior->response["headers"].items()) {
          if (v.is_string()) r.Set(k, v.get<std::string>());
        }
      }
      r.Set("Idempotent-Replayed", "true");
      call.audit_meta["replayed"] = true;
      return r;
    }
  }

  Response resp;
  auto out = route.handler(call);
  if (out.ok()) {
    resp = std::move(*out);
  } else {
    resp = Response::WithProblem(out.problem(), req.path);
    if (resp.status == 429 && out.problem().extensions.contains("retry_after")) {
      resp.Set("Retry-After", Dump(out.problem().extensions["retry_after"]));
    }
  }
  if (!request_hash.empty() && resp.status < 500 && resp.status != 429 && !resp.stream) {
    Json headers = Json::object();
    for (const auto& [k, v] : resp.headers) headers[k] = v;
    store::IdempotencyRecord rec{"",
                                 call.who.actor,
                                 key,
                                 request_hash,
                                 resp.status,
                                 {{"headers", headers}, {"body", resp.body}},
                                 app_.clock.Now()};
    // Two requests racing with one key: the second record is refused
    // (conflict) and its own answer stands; both did the same thing.
    (void)app_.store.Write([&](store::Tx& tx) { return tx.PutIdempotency(rec); });
  }
  return resp;
}

void Api::Audit(const Route* route, const Call& call, const Response& resp) {
  const bool mutation = route && !route->action.empty();
  const bool denial = call.denied || resp.status == 401 || resp.status == 403;
  if (!mutation && !denial) return;
  store::AuditEntry e;
  e.tenant = call.audit_tenant;
  // A denial that hid an object names no tenant: it goes to the server's
  // own chain, so the org's log does not learn what was probed.
  if (denial && resp.status == 404) e.tenant = {};
  e.user_id = call.who.actor;
  e.action = denial ? "access.denied" : route->action;
  e.target = call.audit_target.empty() ? call.req.method + " " + call.req.path : call.audit_target;
  e.meta = call.audit_meta;
  e.meta["status"] = resp.status;
  e.meta["outcome"] = resp.status < 400 ? "ok" : "refused";
  e.meta["request_id"] = call.req.request_id;
  e.meta["address"] = call.req.remote;
  e.meta["route"] = call.req.method + " " + (route ? route->pattern : call.req.path);
  e.created_at = app_.clock.Now();
  auto st = app_.store.Write([&](store::Tx& tx) -> Status {
    PS_TRY(tx.AppendAudit(e));
    return Ok();
  });
  if (!st.ok() && !e.tenant.org_id.empty()) {
    // The org vanished under us (or its workspace): keep the line anyway.
    e.tenant = {};
    (void)app_.store.Write([&](store::Tx& tx) -> Status {
      PS_TRY(tx.AppendAudit(e));
      return Ok();
    });
  }
}

void Api::Finish(const Request& req, Response& resp) {
  resp.Set("X-Request-Id", req.request_id);
  resp.Set("X-Content-Type-Options", "nosniff");
  resp.Set("X-Frame-Options", "DENY");
  resp.Set("Referrer-Policy", "no-referrer");
  if (resp.Get("Cache-Control").empty()) resp.Set("Cache-Control", "no-store");
  if (resp.Get("Content-Security-Policy").empty()) {
    resp.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  }
  if (options_.tls) resp.Set("Strict-Transport-Security", "max-age=31536000");
  // CORS: only the configured origins, never '*'.
  const std::string origin = req.Header("origin");
  const auto& allowed = app_.config.server.cors_origins;
  if (!origin.empty() && std::find(allowed.begin(), allowed.end(), origin) != allowed.end()) {
    resp.Set("Access-Control-Allow-Origin", origin);
    resp.Set("Vary", "Origin");
    resp.Set("Access-Control-Expose-Headers",
             "Location, Link, ETag, Retry-After, X-Request-Id, Idempotent-Replayed");
    if (req.method == "OPTIONS") {
      resp.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
      resp.Set("Access-Control-Allow-Headers",
               "Authorization, Content-Type, Idempotency-Key, If-Match, Last-Event-ID, "
               "X-Request-Id");
      resp.Set("Access-Control-Max-Age", "600");
    }
  }
}

}  // namespace ps::api
