// Routes of the server itself: health, readiness, metrics, the OpenAPI
// document, logging in with `serve --dev`'s link, and who the caller is.
#include "api/api.h"
#include "store/model_json.h"

namespace ps::api {

namespace {

Result<Response> Health(Call& c) {
  return Response::WithJson(200, {{"status", "ok"}, {"version", c.api().options().version}});
}

Result<Response> Ready(Call& c) {
  const bool up = !c.api().draining() && (!c.api().ready || c.api().ready());
  if (!up) {
    return Problem::Make("not-ready", "Not ready", 503,
                         c.api().draining() ? "the server is shutting down"
                                            : "the store or the workers are not up")
        .Retryable();
  }
  return Response::WithJson(200, {{"status", "ready"}});
}

Result<Response> MetricsText(Call& c) {
  Response r;
  r.body = c.api().metrics().Render();
  r.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  return r;
}

Result<Response> OpenApiDoc(Call& c) { return Response::WithJson(200, c.api().OpenApi()); }

std::string SessionCookie(Call& c, const std::string& session) {
  return std::string(Authenticator::kSessionCookie) + "=" + session +
         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200" +
         (c.api().options().tls ? "; Secure" : "");
}

// serve --dev's link: a code printed on the server's terminal becomes a
// session cookie (HttpOnly, SameSite=Strict), then the dashboard.
Result<Response> DevLogin(Call& c) {
  if (!c.api().options().dev) {
    return problems::NotFound("route", "GET /v1/auth/dev (the server was not started with --dev)");
  }
  const auto code = c.req.Param("code");
  const auto session = code ? c.api().auth().RedeemLoginCode(*code) : std::nullopt;
  if (!session) return Unauthenticated("the login link is not valid (or no longer)");
  Response r;
  r.status = 303;
  r.Set("Location", "/");
  r.Set("Set-Cookie", SessionCookie(c, *session));
  return r;
}

// Sign in through the identity provider: to its authorization page.
Result<Response> Login(Call& c) {
  LoginFlow* flow = c.api().auth().login();
  if (!flow) {
    return problems::NotFound("route",
                              "GET /v1/auth/login (no identity provider: server.oidc.client_id)");
  }
  PS_ASSIGN(std::string url, flow->Begin(c.api().options().public_url + "/v1/auth/callback",
                                         c.req.Param("return_to").value_or("/")));
  Response r;
  r.status = 302;
  r.Set("Location", url);
  return r;
}

// Back from the provider: the code exchanged, the session started.
Result<Response> Callback(Call& c) {
  LoginFlow* flow = c.api().auth().login();
  if (!flow) return problems::NotFound("route", "GET /v1/auth/callback");
  if (auto error = c.req.Param("error")) {
    return Unauthenticated("the identity provider said " + error->substr(0, 100) + ": " +
                           c.req.Param("error_description").value_or("").substr(0, 300));
  }
  PS_ASSIGN(LoginFlow::Signed who,
            flow->Finish(c.req.Param("code").value_or(""), c.req.Param("state").value_or(""),
                         c.api().options().public_url + "/v1/auth/callback"));
  c.who.actor = "user:" + who.sub;
  Response r;
  r.status = 303;
  r.Set("Location", who.return_to);
  r.Set("Set-Cookie", SessionCookie(c, c.api().auth().StartSession(who.sub)));
  return r;
}

Result<Response> Logout(Call& c) {
  c.api().auth().EndSession(c.req.Cookie(Authenticator::kSessionCookie));
  Response r;
  r.status = 204;
  r.Set("Set-Cookie", std::string(Authenticator::kSessionCookie) +
                          "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  return r;
}

Result<Response> Me(Call& c) {
  Json orgs = Json::array();
  for (const auto& g : c.grants) {
    orgs.push_back({{"id", g.org.id},
                    {"name", g.org.name},
                    {"role", ToString(g.role)},
                    {"workspaces", g.workspaces}});
  }
  return Response::WithJson(200,
                            {{"sub", c.who.sub},
                             {"actor", c.who.actor},
                             {"kind", c.who.kind == Principal::Kind::kToken ? "token" : "user"},
                             {"orgs", orgs}});
}

}  // namespace

void AddSystemRoutes(std::vector<Route>& routes) {
  routes.push_back({"GET", "/healthz", "health", "system", "Liveness: the process answers",
                    Need::kNone, "", nullptr, 200, "application/json", Health});
  routes.push_back({"GET", "/readyz", "ready", "system",
                    "Readiness: the store and the workers are up and the server is not draining",
                    Need::kNone, "", nullptr, 200, "application/json", Ready});
  routes.push_back({"GET", "/metrics", "metrics", "system", "Prometheus metrics", Need::kNone, "",
                    nullptr, 200, "text/plain", MetricsText});
  routes.push_back({"GET", "/v1/openapi.json", "openapi", "system",
                    "This API's OpenAPI 3.1 document", Need::kNone, "", nullptr, 200,
                    "application/json", OpenApiDoc});
  routes.push_back({"GET", "/v1/auth/dev", "devLogin", "auth",
                    "Log in with the link `serve --dev` printed (sets the session cookie)",
                    Need::kNone, "", nullptr, 303, "", DevLogin});
  routes.push_back({"GET", "/v1/auth/login", "login", "auth",
                    "Sign in through the identity provider (authorization code + PKCE): to its "
                    "page, then back to ?return_to= (a path) with the session cookie",
                    Need::kNone, "", nullptr, 302, "", Login});
  routes.push_back({"GET", "/v1/auth/callback", "loginCallback", "auth",
                    "The identity provider's redirect: the code exchanged and the ID token "
                    "verified, the session cookie set",
                    Need::kNone, "auth.login", nullptr, 303, "", Callback});
  routes.push_back({"POST", "/v1/auth/logout", "logout", "auth", "End the session", Need::kIdentity,
                    "", nullptr, 204, "", Logout});
  routes.push_back({"GET", "/v1/me", "me", "auth", "The caller: identity and orgs with roles",
                    Need::kIdentity, "", nullptr, 200, "application/json", Me});
}

}  // namespace ps::api
