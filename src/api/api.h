// The HTTP API as a function from Request to Response: the route table (one
// list: the dispatcher, the OpenAPI document and the access tests all read
// it), authentication, tenancy, idempotency, rate limits, CORS, security
// headers, the audit of every mutation and denial, and metrics. It calls
// the application layer (service/) for everything it does. Blocking: the
// server calls Handle on its worker threads, never on an I/O thread.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/auth.h"
#include "api/http.h"
#include "api/metrics.h"
#include "service/app.h"

namespace ps::api {

class Api;

// Where a call acts: an org and, for workspace-scoped objects, a workspace.
struct Scope {
  store::Org org;
  store::Tenant tenant;  // workspace_id empty for org-level objects
  Role role = Role::kViewer;
};

// One request being handled: what a handler reads and the access checks it
// makes. A handler finds its objects through these, never through the store
// with a tenant it chose, so another tenant's object is always a 404.
class Call {
 public:
  Call(Api& api, const Request& req) : req(req), api_(api) {}
  Api& api() { return api_; }
  service::App& app();

  const Request& req;
  std::map<std::string, std::string> params;  // from the route's {names}
  Principal who;
  std::vector<Grant> grants;

  service::Actor actor() const { return {who.actor}; }
  // The request body as a JSON object (400 otherwise; {} when empty).
  Result<Json> Body() const;

  // The org named `org` (its name or id), if the caller may see it; 404
  // otherwise, 403 when their role there is below `need`.
  Result<Scope> InOrg(const std::string& org, Need need);
  // "ORG/WORKSPACE" (names), the same way.
  Result<Scope> InWorkspace(const std::string& ref, Need need);
  // Every workspace the caller may see.
  Result<std::vector<Scope>> Visible();
  // The project, run or release with this id in any workspace the caller
  // may see (404 if none), checked against `need` (403).
  Result<std::pair<Scope, store::Project>> Project(const std::string& id, Need need);
  Result<std::pair<Scope, store::Run>> Run(const std::string& id, Need need);
  Result<std::pair<Scope, store::Release>> Release(const std::string& id, Need need);

  // What the audit line of this call says (set by access checks; handlers
  // may add a target and details).
  store::Tenant audit_tenant;
  std::string audit_target;
  Json audit_meta = Json::object();
  bool denied = false;  // an access check refused (404 hides a 403 too)

 private:
  Result<Scope> Check(const Grant& g, const store::Tenant& t, Need need, const std::string& what);
  Api& api_;
};

using Handler = std::function<Result<Response>(Call&)>;

struct Route {
  std::string method;
  std::string pattern;    // "/v1/runs/{id}"
  std::string operation;  // OpenAPI operationId: "getRun"
  std::string tag;        // OpenAPI tag: "runs"
  std::string summary;
  Need need = Need::kView;
  std::string action;   // the audit log's action for a mutation ("run.cancel"); "" for reads
  Json body = nullptr;  // JSON Schema of the request body (null: none)
  int success = 200;    // the status of a successful answer
  std::string media = "application/json";  // of a successful answer
  Handler handler;
};

struct ApiOptions {
  bool dev = false;             // serve --dev: a local owner may log in by link
  std::string public_url;       // "http://127.0.0.1:7070": links, the login redirect
  bool tls = false;             // HSTS when true
  std::string version = "dev";  // /healthz says it
  // The dashboard's built files, served for every GET outside the API
  // (api/static_files.h); empty: none.
  std::filesystem::path web_root;
};

class Api {
 public:
  Api(service::App& app, Authenticator& auth, Metrics& metrics, ApiOptions options);

  // Thread-safe. Never throws.
  Response Handle(const Request& req);

  const std::vector<Route>& routes() const { return routes_; }
  // The OpenAPI 3.1 document of the route table.
  Json OpenApi() const;

  service::App& app() { return app_; }
  Authenticator& auth() { return auth_; }
  Metrics& metrics() { return metrics_; }
  const ApiOptions& options() const { return options_; }
  // Once the server knows its address (before it serves).
  void SetPublicUrl(std::string url) { options_.public_url = std::move(url); }
  // Draining (SIGTERM): /readyz answers 503 so balancers stop sending.
  void SetDraining() { draining_ = true; }
  bool draining() const { return draining_; }
  // Whether the workers and the store are up (set by the server).
  std::function<bool()> ready;

  // Rate limits: true if one more request fits now (token buckets per
  // principal and per org); `retry_after_s` says when the next would.
  bool Admit(const std::string& bucket, int per_second, int* retry_after_s);

 private:
  Response Dispatch(const Request& req, const Route** matched);
  Response Run(const Route& route, Call& call);
  void Audit(const Route* route, const Call& call, const Response& resp);
  void Finish(const Request& req, Response& resp);

  service::App& app_;
  Authenticator& auth_;
  Metrics& metrics_;
  ApiOptions options_;
  std::vector<Route> routes_;
  std::atomic<bool> draining_{false};
  struct Bucket {
    double tokens = 0;
    Millis at = 0;
  };
  std::mutex buckets_mu_;
  std::map<std::string, Bucket> buckets_;
};

// The route table: every group, in the order they are matched.
std::vector<Route> AllRoutes();
// The OpenAPI 3.1 document of `routes`.
Json OpenApiDocument(const std::vector<Route>& routes, const ApiOptions& options);

// The route groups (one file each); AllRoutes adds them all.
void AddSystemRoutes(std::vector<Route>& routes);
void AddOrgRoutes(std::vector<Route>& routes);
void AddProjectRoutes(std::vector<Route>& routes);
void AddRunRoutes(std::vector<Route>& routes);
void AddReleaseRoutes(std::vector<Route>& routes);

// Matches "/v1/runs/{id}" against a path; fills `params`.
bool MatchPattern(const std::string& pattern, const std::string& path,
                  std::map<std::string, std::string>* params);

// Helpers the route files share.
Problem BadRequest(std::string detail);
// A required string field of a body (400 when missing or not a string).
Result<std::string> StringField(const Json& body, const std::string& key, bool required = true);
// ?limit= within [1, max] (default `def`).
Result<int> LimitParam(const Request& req, int def, int max);
// The JSON Schema of an object body with these string properties.
Json ObjectSchema(std::initializer_list<const char*> props,
                  std::initializer_list<const char*> required);
// 202 Accepted for a run: {"run_id", "project_id", "kind", "links"} and Location.
Response Accepted(const store::Run& run);

}  // namespace ps::api
