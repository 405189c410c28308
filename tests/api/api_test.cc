// The API as a function (api::Api::Handle) on a real store and engine in
// simulated time: every route of the route table × every role × own and
// another tenant (a route without a sample here fails the matrix, so a new
// route cannot skip it); the OpenAPI document against the route table;
// Idempotency-Key; rate limits; the audit log's chain and what breaks it;
// imports confined to server.repos_root; CORS; ETag/If-Match; the session
// cookie's CSRF rule.
#include "api/api.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "engine/engine_fixture.h"
#include "service/orgs.h"
#include "service/pipelines.h"
#include "sqlite/db.h"
#include "store/model_json.h"
#include "targets/fake_target.h"

namespace ps::api {
namespace {

namespace fs = std::filesystem;

class ApiTest : public engine::EngineTest {
 protected:
  void SetUp() override {
    engine::EngineTest::SetUp();
    config_.server.rate_token = 100'000;
    config_.server.rate_org = 1'000'000;
    config_.server.cors_origins = {"https://dash.example"};
    targets_ = std::make_shared<targets::Targets>();
    targets_->Add(std::make_shared<ps::testing::FakeTarget>(clock_, dir_ / "fake"));
    service::RegisterBuiltinStages(registry_, targets_);
    app_ = std::make_unique<service::App>(service::App{config_, *store_, *artifacts_, *engine_,
                                                       *targets_, clock_, random_, dir_.path()});
    auth_ = std::make_unique<Authenticator>(*store_, clock_, nullptr, jwt::Policy{});
    api_ = std::make_unique<Api>(*app_, *auth_, metrics_, ApiOptions{});

    // Org "acme" (the fixture's tenant, workspace "main") and org "other".
    acme_ = *store::ReadValue<store::Org>(*store_,
                                          [&](store::Tx& tx) { return tx.GetOrg(tenant_.org_id); });
    auto other = service::CreateOrg(*app_, "other", "bob", {"test"});
    ASSERT_TRUE(other.ok()) << other.problem().Message();
    other_ = *other;
    auto ws = store::ReadValue<store::Workspace>(
        *store_, [&](store::Tx& tx) { return tx.FindWorkspaceByName(other_.id, "default"); });
    other_tenant_ = {other_.id, ws->id};
    for (const char* role : {"viewer", "developer", "admin", "owner"}) {
      tokens_[role] = Token(acme_, role);
    }
    other_owner_ = Token(other_, "owner");
    own_ = Objects(tenant_, project_id_, acme_, "acme/main");
    theirs_ =
        Objects(other_tenant_, MakeProject(other_tenant_, "/src/theirs"), other_, "other/default");
  }

  std::string Token(const store::Org& org, const std::string& role) {
    const NewSecret s = MakeTokenSecret();
    auto t = service::CreateToken(*app_, org, role + "-token", role, "", 0, s.hash, {"test"});
    EXPECT_TRUE(t.ok()) << t.problem().Message();
    return s.secret;
  }

  // The ids a tenant's sample requests name.
  struct Ids {
    store::Tenant tenant;
    std::string org, workspace, project, run, release, token;
  };
  Ids Objects(const store::Tenant& t, const std::string& project, const store::Org& org,
              const std::string& workspace) {
    Ids ids{t, org.name, workspace, project, NewId(clock_, random_), "", ""};
    store::Run r;
    r.id = ids.run;
    r.tenant = t;
    r.project_id = project;
    r.kind = store::RunKind::kRelease;
    r.created_at = r.updated_at = clock_.Now();
    r.input = {{"env", "production"}, {"target", "local"}};
    store::Release rel;
    rel.id = ids.run;
    rel.tenant = t;
    rel.project_id = project;
    rel.env = "production";
    rel.strategy = "canary";
    rel.status = "done";
    rel.created_at = rel.updated_at = clock_.Now();
    EXPECT_TRUE(store_
                    ->Write([&](store::Tx& tx) -> Status {
                      PS_TRY(tx.CreateRun(r));
                      return tx.CreateRelease(rel);
                    })
                    .ok());
    ids.release = rel.id;
    const NewSecret s = MakeTokenSecret();
    ids.token = service::CreateToken(*app_, org, "spare", "viewer", "", 0, s.hash, {"test"})->id;
    return ids;
  }

  Response Call(const std::string& method, const std::string& target, const std::string& token,
                const std::string& body = "", std::map<std::string, std::string> headers = {}) {
    Request req;
    req.method = method;
    const auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    req.body = body;
    req.headers = std::move(headers);
    if (!token.empty()) req.headers["authorization"] = "Bearer " + token;
    req.remote = "127.0.0.1";
    return api_->Handle(req);
  }

  static Json BodyOf(const Response& r) { return Json::parse(r.body, nullptr, false); }

  Metrics metrics_;
  std::shared_ptr<targets::Targets> targets_;
  std::unique_ptr<service::App> app_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<Api> api_;
  store::Org acme_, other_;
  store::Tenant other_tenant_;
  std::map<std::string, std::string> tokens_;
  std::string other_owner_;
  Ids own_, theirs_;
};

// What a sample request of each route says, for the objects `ids`.
struct Sample {
  std::string path;
  std::string body;
};
std::optional<Sample> SampleOf(const Route& r, const std::string& org, const std::string& workspace,
                               const std::string& project, const std::string& run,
                               const std::string& release, const std::string& token, int n) {
  std::string path = r.pattern;
  auto put = [&](const std::string& name, const std::string& value) {
    const auto at = path.find("{" + name + "}");
    if (at != std::string::npos) path.replace(at, name.size() + 2, value);
  };
  put("org", org);
  put("project_id", project);
  put("sub", "someone");
  if (r.pattern.rfind("/v1/projects/{id}", 0) == 0) put("id", project);
  if (r.pattern.rfind("/v1/runs/{id}", 0) == 0) put("id", run);
  if (r.pattern.rfind("/v1/releases/{id}", 0) == 0) put("id", release);
  if (r.pattern.rfind("/v1/orgs/{org}/tokens/{id}", 0) == 0) put("id", token);
  if (path.find('{') != std::string::npos) return std::nullopt;
  const Json pid = {{"project_id", project}};
  static const std::map<std::string, std::function<Json(const std::string&, const Json&, int)>>
      kBodies = {
          {"importProject",
           [](const std::string& ws, const Json&, int) {
             return Json{{"repo_url", "/nowhere"}, {"workspace", ws}};
           }},
          {"createWorkspace",
           [](const std::string&, const Json&, int i) {
             return Json{{"name", "ws-" + std::to_string(i)}};
           }},
          {"putMember",
           [](const std::string&, const Json&, int) {
             return Json{{"sub", "someone"}, {"role", "viewer"}};
           }},
          {"createToken",
           [](const std::string&, const Json&, int) {
             return Json{{"name", "t"}, {"role", "viewer"}};
           }},
          {"waive",
           [](const std::string&, const Json&, int) {
             return Json{{"gate", "tests"}, {"reason", "known flake"}, {"until", "2023-12-01"}};
           }},
      };
  std::string body;
  if (r.method == "POST") {
    auto it = kBodies.find(r.operation);
    body = Dump(it != kBodies.end() ? it->second(workspace, pid, n) : pid);
  }
  if (r.operation == "listReleases") path += "?project_id=" + project;
  if (r.operation == "listProjects" || r.operation == "listRuns") path += "?workspace=" + workspace;
  return Sample{path, body};
}

bool IsTenancyNotFound(const Json& problem) {
  const std::string title = problem.value("title", "");
  return title == "project not found" || title == "run not found" || title == "release not found" ||
         title == "org not found" || title == "workspace not found";
}

TEST_F(ApiTest, EveryRouteEveryRoleOwnAndAnotherTenant) {
  int n = 0;
  int checked = 0;
  for (const auto& r : api_->routes()) {
    if (r.need == Need::kNone) {
      if (r.operation == "devLogin") continue;  // 404 without --dev
      EXPECT_NE(Call(r.method, r.pattern, "").status, 401) << r.pattern;
      continue;
    }
    auto own = SampleOf(r, own_.org, own_.workspace, own_.project, own_.run, own_.release,
                        own_.token, ++n);
    auto theirs = SampleOf(r, theirs_.org, theirs_.workspace, theirs_.project, theirs_.run,
                           theirs_.release, theirs_.token, ++n);
    ASSERT_TRUE(own && theirs) << "no sample request for " << r.method << " " << r.pattern
                               << ": add one to SampleOf";
    // No credentials: 401 with a challenge.
    Response anon = Call(r.method, own->path, "", own->body);
    EXPECT_EQ(anon.status, 401) << r.pattern;
    EXPECT_FALSE(anon.Get("WWW-Authenticate").empty()) << r.pattern;
    // A wrong token: 401 too.
    EXPECT_EQ(Call(r.method, own->path, "pst_not-a-token", own->body).status, 401) << r.pattern;
    for (const auto& [role_name, token] : tokens_) {
      Role role = Role::kViewer;
      ASSERT_TRUE(ParseRole(role_name, &role));
      std::string own_path = own->path;
      if (r.operation == "deleteProject") {  // each call deletes one: a spare each time
        own_path = "/v1/projects/" + MakeProject(tenant_, "/src/spare-" + role_name);
      }
      Response mine = Call(r.method, own_path, token, own->body);
      const Json problem = BodyOf(mine);
      const std::string what =
          r.method + " " + r.pattern + " as " + role_name + ": " + mine.body.substr(0, 300);
      if (r.need == Need::kIdentity) {
        EXPECT_LT(mine.status, 400) << what;
      } else if (role < MinRole(r.need)) {
        EXPECT_EQ(mine.status, 403) << what;
      } else {
        EXPECT_NE(mine.status, 401) << what;
        EXPECT_NE(mine.status, 403) << what;
        EXPECT_FALSE(mine.status == 404 && IsTenancyNotFound(problem)) << what;
      }
      if (r.need != Need::kIdentity) {
        Response other = Call(r.method, theirs->path, token, theirs->body);
        EXPECT_EQ(other.status, 404) << r.method << " " << r.pattern << " on another tenant as "
                                     << role_name << ": " << other.body.substr(0, 300);
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
  // Lists without a workspace hold only what the caller may see.
  for (const char* list : {"/v1/projects", "/v1/runs"}) {
    Response all = Call("GET", list, tokens_["owner"]);
    ASSERT_EQ(all.status, 200);
    EXPECT_NE(all.body.find(own_.project), std::string::npos) << list;
    EXPECT_EQ(all.body.find(theirs_.project), std::string::npos) << list;
    EXPECT_EQ(all.body.find(other_.id), std::string::npos) << list;
  }
  // The other org saw nothing happen to it: its audit log has no entry
  // from acme's tokens, and its objects are as they were.
  store::AuditQuery q;
  q.org_id = other_.id;
  auto entries = store::ReadValue<std::vector<store::AuditEntry>>(
      *store_, [&](store::Tx& tx) { return tx.QueryAudit(q); });
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty()) << Dump(store::ToJson(entries->front()));
  auto their_runs = store::ReadValue<std::vector<store::Run>>(
      *store_, [&](store::Tx& tx) { return tx.ListRuns(other_tenant_, {}); });
  EXPECT_EQ(their_runs->size(), 1u);
}

TEST_F(ApiTest, OpenApiDocumentsExactlyTheRouteTable) {
  const Json doc = api_->OpenApi();
  EXPECT_EQ(doc["openapi"], "3.1.0");
  std::set<std::string> operations;
  for (const auto& r : api_->routes()) {
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    ASSERT_TRUE(doc["paths"].contains(r.pattern)) << r.pattern;
    EXPECT_TRUE(doc["paths"][r.pattern].contains(method)) << r.method << " " << r.pattern;
    EXPECT_TRUE(operations.insert(r.operation).second) << "duplicate operationId " << r.operation;
  }
  for (const auto& [path, methods] : doc["paths"].items()) {
    for (const auto& [method, op] : methods.items()) {
      bool served = false;
      for (const auto& r : api_->routes()) {
        std::string m = r.method;
        std::transform(m.begin(), m.end(), m.begin(), ::tolower);
        served = served || (r.pattern == path && m == method);
      }
      EXPECT_TRUE(served) << "documented but not served: " << method << " " << path;
    }
  }
  // The brief's routes, exactly.
  for (const char* p :
       {"/v1/projects/import", "/v1/blueprints/generate", "/v1/blueprints/{project_id}",
        "/v1/pipelines/apply", "/v1/readiness/{project_id}", "/v1/releases/create",
        "/v1/releases/rollback", "/v1/dashboards/{project_id}", "/v1/runs/{id}/stream"}) {
    EXPECT_TRUE(doc["paths"].contains(p)) << p;
  }
}

TEST_F(ApiTest, IdempotencyKeyReplaysTheAnswerAndRefusesAnotherBody) {
  const std::string admin = tokens_["admin"];
  const std::map<std::string, std::string> key = {{"idempotency-key", "k-1"}};
  Response first = Call("POST", "/v1/orgs/acme/workspaces", admin, R"({"name":"blue"})", key);
  ASSERT_EQ(first.status, 201) << first.body;
  Response again = Call("POST", "/v1/orgs/acme/workspaces", admin, R"({"name":"blue"})", key);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.Get("Idempotent-Replayed"), "true");
  Response other = Call("POST", "/v1/orgs/acme/workspaces", admin, R"({"name":"green"})", key);
  EXPECT_EQ(other.status, 422);
  // Without the key the same request is a new one (and conflicts).
  EXPECT_EQ(Call("POST", "/v1/orgs/acme/workspaces", admin, R"({"name":"blue"})").status, 409);
}

TEST_F(ApiTest, RateLimitPerTokenAnswers429WithRetryAfter) {
  config_.server.rate_token = 1;  // bursts of 2
  const std::string viewer = tokens_["viewer"];
  EXPECT_EQ(Call("GET", "/v1/me", viewer).status, 200);
  EXPECT_EQ(Call("GET", "/v1/me", viewer).status, 200);
  Response limited = Call("GET", "/v1/me", viewer);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Get("Retry-After"), "1");
  // Another token has its own budget.
  EXPECT_EQ(Call("GET", "/v1/me", tokens_["admin"]).status, 200);
  clock_.Advance(1'000);
  EXPECT_EQ(Call("GET", "/v1/me", viewer).status, 200);
}

TEST_F(ApiTest, RateLimitPerOrg) {
  config_.server.rate_org = 1;
  const std::string viewer = tokens_["viewer"];
  EXPECT_EQ(Call("GET", "/v1/orgs/acme", viewer).status, 200);
  EXPECT_EQ(Call("GET", "/v1/orgs/acme", tokens_["admin"]).status, 200);
  Response limited = Call("GET", "/v1/orgs/acme", tokens_["owner"]);
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_FALSE(limited.Get("Retry-After").empty());
}

TEST_F(ApiTest, AuditLogRecordsMutationsAndDenialsAndVerifyFindsTampering) {
  const std::string admin = tokens_["admin"];
  ASSERT_EQ(Call("POST", "/v1/orgs/acme/workspaces", admin, R"({"name":"one"})",
                 {{"x-request-id", "req-42"}})
                .status,
            201);
  ASSERT_EQ(
      Call("POST", "/v1/orgs/acme/members", tokens_["viewer"], R"({"sub":"eve","role":"owner"})")
          .status,
      403);
  ASSERT_EQ(Call("POST", "/v1/orgs/acme/workspaces", admin, R"({"name":"two"})").status, 201);
  Response log = Call("GET", "/v1/orgs/acme/audit", admin);
  ASSERT_EQ(log.status, 200) << log.body;
  const Json items = BodyOf(log)["items"];
  bool created = false;
  bool denied = false;
  for (const auto& e : items) {
    created =
        created || (e["action"] == "workspace.create" && e["meta"]["request_id"] == "req-42" &&
                    e["meta"]["address"] == "127.0.0.1");
    denied = denied || (e["action"] == "access.denied" && e["meta"]["status"] == 403);
  }
  EXPECT_TRUE(created) << log.body;
  EXPECT_TRUE(denied) << log.body;
  // NDJSON export: one entry per line.
  Response nd = Call("GET", "/v1/orgs/acme/audit?format=ndjson", admin);
  EXPECT_EQ(nd.Get("Content-Type"), "application/x-ndjson");
  EXPECT_EQ(static_cast<std::size_t>(std::count(nd.body.begin(), nd.body.end(), '\n')),
            items.size());

  auto verify = service::VerifyAudit(*app_);
  ASSERT_TRUE(verify.ok());
  for (const auto& c : *verify) EXPECT_TRUE(c.ok) << c.org_id << ": " << c.reason;

  // Change one row behind the store's back: verify names it.
  const std::int64_t changed = items[1]["id"].get<std::int64_t>();
  {
    sqlite::Db db((dir_ / "state.db").string(), false);
    auto st = db.Prepare("UPDATE audit_log SET target = 'forged' WHERE id = ?1");
    st->BindAll(changed);
    st->Exec();
  }
  verify = service::VerifyAudit(*app_);
  bool found = false;
  for (const auto& c : *verify) {
    if (c.org_id == acme_.id) {
      EXPECT_FALSE(c.ok);
      EXPECT_EQ(c.broken_at, changed);
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(ApiTest, VerifyFindsADeletedRow) {
  const std::string admin = tokens_["admin"];
  for (const char* name : {"a1", "a2", "a3"}) {
    ASSERT_EQ(
        Call("POST", "/v1/orgs/acme/workspaces", admin, std::string(R"({"name":")") + name + "\"}")
            .status,
        201);
  }
  Response log = Call("GET", "/v1/orgs/acme/audit", admin);
  const Json items = BodyOf(log)["items"];
  ASSERT_GE(items.size(), 3u);
  const std::int64_t middle = items[items.size() - 2]["id"].get<std::int64_t>();
  const std::int64_t last = items[items.size() - 1]["id"].get<std::int64_t>();
  {
    sqlite::Db db((dir_ / "state.db").string(), false);
    auto st = db.Prepare("DELETE FROM audit_log WHERE id = ?1");
    st->BindAll(middle);
    st->Exec();
  }
  auto verify = service::VerifyAudit(*app_);
  ASSERT_TRUE(verify.ok());
  for (const auto& c : *verify) {
    if (c.org_id != acme_.id) continue;
    EXPECT_FALSE(c.ok);
    EXPECT_EQ(c.broken_at, last);
  }
}

TEST_F(ApiTest, ImportIsConfinedToReposRoot) {
  ps::testing::TempDir root;
  ps::testing::TempDir outside;
  ps::testing::WriteText(root.path() / "shop" / "package.json", R"({"name":"shop"})");
  ps::testing::WriteText(outside.path() / "secret" / "package.json", "{}");
  fs::create_directory_symlink(outside.path() / "secret", root.path() / "link");
  const std::string dev = tokens_["developer"];
  auto import = [&](const std::string& url) {
    return Call("POST", "/v1/projects/import", dev,
                Dump(Json{{"repo_url", url}, {"workspace", "acme/main"}}));
  };
  EXPECT_EQ(import((root.path() / "shop").string()).status, 422) << "no repos_root yet";
  config_.server.repos_root = root.path().string();
  EXPECT_EQ(import((root.path() / "link").string()).status, 422);
  EXPECT_EQ(import((outside.path() / "secret").string()).status, 422);
  EXPECT_EQ(import((root.path() / "shop" / ".." / "shop").string()).status, 422);
  EXPECT_EQ(import("http://github.com/acme/shop.git").status, 422);
  EXPECT_EQ(import("https://alice:secret@github.com/acme/shop.git").status, 422);
  EXPECT_EQ(import("ftp://github.com/acme/shop.git").status, 422);
  EXPECT_EQ(import("relative/path").status, 400);
  EXPECT_EQ(import("file://" + (root.path() / "shop").string()).status, 422) << "not git";
  EXPECT_EQ(import("file://" + (root.path() / "link").string()).status, 422);
  Response ok = import((root.path() / "shop").string());
  ASSERT_EQ(ok.status, 202) << ok.body;
  EXPECT_EQ(ok.Get("Location"), "/v1/runs/" + BodyOf(ok)["run_id"].get<std::string>());
  Drain();
  Response run = Call("GET", ok.Get("Location"), tokens_["viewer"]);
  ASSERT_EQ(run.status, 200);
  EXPECT_EQ(BodyOf(run)["run"]["status"], "done") << run.body;
  // A viewer may not import.
  EXPECT_EQ(
      Call("POST", "/v1/projects/import", tokens_["viewer"],
           Dump(Json{{"repo_url", (root.path() / "shop").string()}, {"workspace", "acme/main"}}))
          .status,
      403);
}

// A git URL is cloned by the import run into the server's own folder (here
// a file:// URL of a real repository: the same code path as https and ssh,
// which need a network); importing again fetches into the same checkout.
TEST_F(ApiTest, ImportOfAGitUrlClonesIntoTheServersFolder) {
  ps::testing::TempDir root;
  const fs::path repo = root.path() / "shop";
  ps::testing::WriteText(repo / "package.json",
                         R"({"name":"shop","scripts":{"start":"node server.js"}})");
  ps::testing::WriteText(repo / "server.js", "require('http').createServer().listen(3000);\n");
  const std::string git = "git -C '" + repo.string() + "' ";
  ASSERT_EQ(std::system((git + "init -q && " + git + "add -A && " + git +
                         "-c user.name=t -c user.email=t@e commit -qm one && " + git + "tag v1")
                            .c_str()),
            0);
  config_.server.repos_root = root.path().string();
  const std::string dev = tokens_["developer"];
  auto import = [&](const std::string& ref) {
    return Call(
        "POST", "/v1/projects/import", dev,
        Dump(Json{
            {"repo_url", "file://" + repo.string()}, {"ref", ref}, {"workspace", "acme/main"}}));
  };
  Response first = import("v1");
  ASSERT_EQ(first.status, 202) << first.body;
  Drain();
  Response run = Call("GET", first.Get("Location"), dev);
  const Json detail = BodyOf(run);
  ASSERT_EQ(detail["run"]["status"], "done") << run.body.substr(0, 2000);
  EXPECT_EQ(detail["stages"][0]["name"], "clone");
  EXPECT_EQ(detail["stages"][0]["output"]["fresh"], true);
  const std::string project = BodyOf(first)["project_id"];
  const fs::path checkout = dir_ / "checkouts" / tenant_.org_id / tenant_.workspace_id / project;
  EXPECT_TRUE(fs::exists(checkout / "package.json"));
  // The client never sees where: no host path of the server in the run.
  EXPECT_EQ(run.body.find("\"checkout\""), std::string::npos) << "checkout path exposed";

  // A new commit, imported again: fetched into the same checkout.
  ps::testing::WriteText(repo / "extra.js", "1;\n");
  ASSERT_EQ(
      std::system(
          (git + "add -A && " + git + "-c user.name=t -c user.email=t@e commit -qm two").c_str()),
      0);
  Response second = import("");
  ASSERT_EQ(second.status, 202) << second.body;
  EXPECT_EQ(BodyOf(second)["project_id"], project);
  Drain();
  const Json again = BodyOf(Call("GET", second.Get("Location"), dev));
  ASSERT_EQ(again["run"]["status"], "done");
  EXPECT_EQ(again["stages"][0]["output"]["fresh"], false);
  EXPECT_TRUE(fs::exists(checkout / "extra.js"));
  // A ref that does not exist fails the run with a readable problem.
  Response bad = import("no-such-tag");
  Drain();
  const Json failed = BodyOf(Call("GET", bad.Get("Location"), dev));
  EXPECT_EQ(failed["run"]["status"], "error");
}

// The server records each project's own settings (its prodsprint.yaml), as
// the CLI does for the repository it runs in; a broken file is a 422 that
// names it, and no run is made.
TEST_F(ApiTest, RunsRecordTheProjectsOwnSettings) {
  app_->project_config = true;
  ps::testing::TempDir root;
  ps::testing::WriteText(root.path() / "shop" / "package.json", R"({"name":"shop"})");
  ps::testing::WriteText(root.path() / "shop" / "prodsprint.yaml",
                         "policy:\n  tests:\n    coverage_min: 42\n");
  ps::testing::WriteText(root.path() / "bad" / "prodsprint.yaml", "engine:\n  workers: many\n");
  config_.server.repos_root = root.path().string();
  const std::string dev = tokens_["developer"];
  Response ok =
      Call("POST", "/v1/projects/import", dev,
           Dump(Json{{"repo_url", (root.path() / "shop").string()}, {"workspace", "acme/main"}}));
  ASSERT_EQ(ok.status, 202) << ok.body;
  auto run = GetRun(BodyOf(ok)["run_id"]);
  EXPECT_EQ(run.input["settings"]["policy"]["tests"]["coverage_min"], 42) << Dump(run.input);
  Response bad =
      Call("POST", "/v1/projects/import", dev,
           Dump(Json{{"repo_url", (root.path() / "bad").string()}, {"workspace", "acme/main"}}));
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("prodsprint.yaml"), std::string::npos) << bad.body;
  // ... and left no project behind.
  Response list = Call("GET", "/v1/projects?workspace=acme/main", dev);
  EXPECT_EQ(list.body.find((root.path() / "bad").string()), std::string::npos) << list.body;
}

TEST_F(ApiTest, BlueprintsArePlannedPerTargetAndReadBack) {
  ps::testing::TempDir root;
  ps::testing::WriteText(root.path() / "shop" / "package.json",
                         R"({"name":"shop","scripts":{"start":"node server.js"},)"
                         R"("dependencies":{"express":"^4.18.2"}})");
  ps::testing::WriteText(root.path() / "shop" / "server.js",
                         "require('express')().listen(process.env.PORT || 3000);\n");
  config_.server.repos_root = root.path().string();
  const std::string dev = tokens_["developer"];
  Response imported =
      Call("POST", "/v1/projects/import", dev,
           Dump(Json{{"repo_url", (root.path() / "shop").string()}, {"workspace", "acme/main"}}));
  ASSERT_EQ(imported.status, 202) << imported.body;
  const std::string project = BodyOf(imported)["project_id"];
  Drain();
  EXPECT_EQ(Call("GET", "/v1/blueprints/" + project, dev).status, 404) << "no plan yet";
  EXPECT_EQ(Call("POST", "/v1/blueprints/generate", dev,
                 Dump(Json{{"project_id", project}, {"target", "mars"}}))
                .status,
            400);
  std::string last_run;
  for (const char* target : {"kubernetes", "aws"}) {
    Response gen = Call("POST", "/v1/blueprints/generate", dev,
                        Dump(Json{{"project_id", project}, {"target", target}}));
    ASSERT_EQ(gen.status, 202) << gen.body;
    last_run = BodyOf(gen)["run_id"];
    Drain();
  }
  Response bp = Call("GET", "/v1/blueprints/" + project, tokens_["viewer"]);
  ASSERT_EQ(bp.status, 200) << bp.body;
  const Json b = BodyOf(bp);
  EXPECT_EQ(b["run_id"], last_run);
  ASSERT_FALSE(b["artifacts"].empty());
  for (const auto& a : b["artifacts"]) EXPECT_EQ(a["run_id"], last_run) << a["name"];
  EXPECT_TRUE(b["cost_estimate"].contains("totalMonthlyCost")) << Dump(b["cost_estimate"]);
}

// The dashboard's files: index.html for the app's own paths, hashed assets
// cached for good, nothing read outside the folder, the API untouched.
TEST_F(ApiTest, TheDashboardsFilesAreServedFromTheirFolderOnly) {
  ps::testing::TempDir web;
  ps::testing::TempDir outside;
  ps::testing::WriteText(web.path() / "index.html", "<!doctype html><title>ProdSprint</title>");
  ps::testing::WriteText(web.path() / "assets" / "app-1a2b.js", "console.log(1)");
  ps::testing::WriteText(outside.path() / "secret.txt", "secret");
  fs::create_symlink(outside.path() / "secret.txt", web.path() / "leak.txt");
  ApiOptions options;
  options.web_root = web.path();
  Api with_web(*app_, *auth_, metrics_, options);
  auto get = [&](const std::string& path) {
    Request r;
    r.method = "GET";
    r.path = path;
    return with_web.Handle(r);
  };
  Response index = get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.Get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.Get("Cache-Control"), "no-cache");
  EXPECT_NE(index.Get("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(get("/projects/123/runs").body, index.body);  // the app's own route
  Response js = get("/assets/app-1a2b.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.Get("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js.Get("Cache-Control").find("immutable"), std::string::npos);
  EXPECT_EQ(get("/assets/missing.js").status, 404);
  EXPECT_EQ(get("/leak.txt").status, 404);
  EXPECT_EQ(get("/../" + outside.path().filename().string() + "/secret.txt").status, 404);
  Response api = get("/v1/nothing");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.Get("Content-Type"), "application/problem+json");
  Request post;
  post.method = "POST";
  post.path = "/";
  EXPECT_EQ(with_web.Handle(post).status, 404);
  // Without a folder there is no page at all.
  EXPECT_EQ(Call("GET", "/", "").status, 404);
}

TEST_F(ApiTest, CorsOnlyForConfiguredOrigins) {
  Response ok = Call("GET", "/healthz", "", "", {{"origin", "https://dash.example"}});
  EXPECT_EQ(ok.Get("Access-Control-Allow-Origin"), "https://dash.example");
  Response no = Call("GET", "/healthz", "", "", {{"origin", "https://evil.example"}});
  EXPECT_EQ(no.Get("Access-Control-Allow-Origin"), "");
  Response pre = Call("OPTIONS", "/v1/projects", "", "", {{"origin", "https://dash.example"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_NE(pre.Get("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
  EXPECT_EQ(ok.Get("X-Content-Type-Options"), "nosniff");
  EXPECT_FALSE(ok.Get("X-Request-Id").empty());
}

TEST_F(ApiTest, ReleaseActionsHonourIfMatch) {
  const std::string dev = tokens_["developer"];
  Response rel = Call("GET", "/v1/releases/" + own_.release, dev);
  ASSERT_EQ(rel.status, 200) << rel.body;
  const std::string etag = rel.Get("ETag");
  ASSERT_FALSE(etag.empty());
  Response stale = Call("POST", "/v1/releases/" + own_.release + "/promote", dev, "",
                        {{"if-match", "\"stale\""}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(stale.Get("ETag"), etag);
  // The right ETag passes the check (and then finds no release running).
  Response current =
      Call("POST", "/v1/releases/" + own_.release + "/promote", dev, "", {{"if-match", etag}});
  EXPECT_EQ(current.status, 409) << current.body;
}

TEST_F(ApiTest, SessionCookieChangesNeedTheDashboardsOrigin) {
  ASSERT_TRUE(service::PutMember(*app_, acme_, "carol", "admin", {}, {"test"}).ok());
  const std::string code = auth_->NewLoginCode("carol");
  ApiOptions options;
  options.dev = true;
  options.public_url = "http://127.0.0.1:7070";
  Api dev_api(*app_, *auth_, metrics_, options);
  Request login;
  login.method = "GET";
  login.path = "/v1/auth/dev";
  login.query = "code=" + code;
  Response r = dev_api.Handle(login);
  ASSERT_EQ(r.status, 303) << r.body;
  const std::string cookie = r.Get("Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  const std::string session = cookie.substr(0, cookie.find(';'));
  // The code was good once.
  EXPECT_EQ(dev_api.Handle(login).status, 401);

  Request read;
  read.method = "GET";
  read.path = "/v1/me";
  read.headers["cookie"] = session;
  Response me = dev_api.Handle(read);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(BodyOf(me)["sub"], "carol");

  Request change;
  change.method = "POST";
  change.path = "/v1/orgs/acme/workspaces";
  change.body = R"({"name":"from-cookie"})";
  change.headers["cookie"] = session;
  EXPECT_EQ(dev_api.Handle(change).status, 403);
  change.headers["origin"] = "https://evil.example";
  EXPECT_EQ(dev_api.Handle(change).status, 403);
  change.headers["origin"] = "http://127.0.0.1:7070";
  EXPECT_EQ(dev_api.Handle(change).status, 201);
}

// A member narrowed to some workspaces sees nothing of the others: their
// objects are 404, as another org's are.
TEST_F(ApiTest, AMemberNarrowedToAWorkspaceSeesOnlyIt) {
  auto side = service::CreateWorkspace(*app_, acme_, "side", {"test"});
  ASSERT_TRUE(side.ok());
  const std::string side_project = MakeProject({acme_.id, side->id}, "/src/side");
  ASSERT_TRUE(service::PutMember(*app_, acme_, "nina", "developer", {"main"}, {"test"}).ok());
  const auto session = auth_->RedeemLoginCode(auth_->NewLoginCode("nina"));
  ASSERT_TRUE(session.has_value());
  const std::map<std::string, std::string> cookie = {
      {"cookie", std::string(Authenticator::kSessionCookie) + "=" + *session}};
  EXPECT_EQ(Call("GET", "/v1/projects/" + own_.project, "", "", cookie).status, 200);
  EXPECT_EQ(Call("GET", "/v1/projects/" + side_project, "", "", cookie).status, 404);
  EXPECT_EQ(Call("GET", "/v1/projects?workspace=acme/side", "", "", cookie).status, 404);
  Response all = Call("GET", "/v1/projects", "", "", cookie);
  EXPECT_EQ(all.body.find(side_project), std::string::npos);
  Response wss = Call("GET", "/v1/orgs/acme/workspaces", "", "", cookie);
  EXPECT_EQ(wss.body.find("\"side\""), std::string::npos) << wss.body;
}

TEST_F(ApiTest, DeletingAProjectTakesItsRecordsButNotTheAuditLog) {
  const std::string admin = tokens_["admin"];
  const std::string doomed = MakeProject(tenant_, "/src/doomed");
  std::string saved = project_id_;
  project_id_ = doomed;
  store::Run r = Submit(engine::PipelineSpec{store::RunKind::kImport, {{"source", {}, 0, 0}}});
  project_id_ = saved;
  // A run that has not finished keeps it.
  EXPECT_EQ(Call("DELETE", "/v1/projects/" + doomed, admin).status, 409);
  ASSERT_TRUE(store_
                  ->Write([&](store::Tx& tx) {
                    r.status = store::RunStatus::kError;
                    return tx.UpdateRun(r);
                  })
                  .ok());
  EXPECT_EQ(Call("DELETE", "/v1/projects/" + doomed, tokens_["developer"]).status, 403);
  EXPECT_EQ(Call("DELETE", "/v1/projects/" + doomed, admin).status, 204);
  EXPECT_EQ(Call("GET", "/v1/projects/" + doomed, admin).status, 404);
  EXPECT_EQ(Call("GET", "/v1/runs/" + r.id, admin).status, 404);
  Response log = Call("GET", "/v1/orgs/acme/audit?action=project.delete", admin);
  EXPECT_NE(log.body.find(doomed), std::string::npos) << log.body;
  // The other projects are untouched.
  EXPECT_EQ(Call("GET", "/v1/projects/" + own_.project, admin).status, 200);
}

TEST_F(ApiTest, RunsArePagedByCursor) {
  for (int i = 0; i < 5; ++i) {
    Submit(engine::PipelineSpec{store::RunKind::kImport, {{"source", {}, 0, 0}}});
    clock_.Advance(1);
  }
  const std::string viewer = tokens_["viewer"];
  std::set<std::string> seen;
  std::string next = "/v1/runs?workspace=acme/main&limit=2";
  int pages = 0;
  while (!next.empty() && pages < 10) {
    Response page = Call("GET", next, viewer);
    ASSERT_EQ(page.status, 200) << page.body;
    const Json body = BodyOf(page);
    for (const auto& r : body["items"]) {
      EXPECT_TRUE(seen.insert(r["id"].get<std::string>()).second) << "twice: " << r["id"];
    }
    const std::string link = page.Get("Link");
    next = link.empty() ? "" : link.substr(1, link.find('>') - 1);
    ++pages;
  }
  EXPECT_EQ(seen.size(), 6u);  // the five, and the fixture's release run
  EXPECT_EQ(Call("GET", "/v1/runs?after=" + theirs_.run, viewer).status, 404);
}

TEST_F(ApiTest, MembersAndTokensFollowTheRoleRules) {
  const std::string admin = tokens_["admin"];
  // An admin cannot make an owner, nor a token above their role.
  EXPECT_EQ(Call("POST", "/v1/orgs/acme/members", admin, R"({"sub":"x","role":"owner"})").status,
            403);
  EXPECT_EQ(Call("POST", "/v1/orgs/acme/tokens", admin, R"({"name":"t","role":"owner"})").status,
            403);
  ASSERT_EQ(Call("POST", "/v1/orgs/acme/members", admin,
                 R"({"sub":"dana","role":"developer","workspaces":["main"]})")
                .status,
            201);
  EXPECT_EQ(Call("POST", "/v1/orgs/acme/members", admin,
                 R"({"sub":"dana","role":"viewer","workspaces":["nope"]})")
                .status,
            400);
  // A new token works at once, is listed without its secret, and stops
  // working when revoked.
  Response made = Call("POST", "/v1/orgs/acme/tokens", admin,
                       R"({"name":"ci","role":"viewer","expires_in":"24h"})");
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string secret = BodyOf(made)["token"];
  EXPECT_EQ(secret.rfind("pst_", 0), 0u);
  EXPECT_EQ(Call("GET", "/v1/me", secret).status, 200);
  Response listed = Call("GET", "/v1/orgs/acme/tokens", admin);
  EXPECT_EQ(listed.body.find(secret), std::string::npos);
  EXPECT_EQ(listed.body.find("hash"), std::string::npos);
  const std::string id = BodyOf(made)["id"];
  EXPECT_EQ(Call("DELETE", "/v1/orgs/acme/tokens/" + id, admin).status, 204);
  EXPECT_EQ(Call("GET", "/v1/me", secret).status, 401);
  // An expired token is refused.
  Response brief = Call("POST", "/v1/orgs/acme/tokens", admin,
                        R"({"name":"brief","role":"viewer","expires_in":"1h"})");
  const std::string brief_secret = BodyOf(brief)["token"];
  clock_.Advance(3'600'001);
  EXPECT_EQ(Call("GET", "/v1/me", brief_secret).status, 401);
}

TEST_F(ApiTest, MalformedBodiesAreProblems) {
  const std::string dev = tokens_["developer"];
  for (const char* body :
       {"{", "[]", "\"x\"", R"({"project_id": 5})", R"({"project_id": null})", "\xff\xfe"}) {
    Response r = Call("POST", "/v1/blueprints/generate", dev, body);
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
    EXPECT_EQ(r.Get("Content-Type"), "application/problem+json");
  }
  EXPECT_EQ(Call("GET", "/v1/runs?limit=0", dev).status, 400);
  EXPECT_EQ(Call("GET", "/v1/runs?limit=abc", dev).status, 400);
  EXPECT_EQ(Call("DELETE", "/v1/projects", dev).status, 405);
  EXPECT_EQ(Call("GET", "/v1/nothing", dev).status, 404);
}

}  // namespace
}  // namespace ps::api
