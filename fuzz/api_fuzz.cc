// Requests from outside: the input picks a route of the route table and
// supplies its path parameters, query, headers and body, sent with a valid
// admin token (so the handlers, not only authentication, see the bytes), or
// with a random Authorization/Cookie header. Api::Handle must answer every
// one with a status and, for errors, an RFC 9457 problem — never crash or
// throw.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "api/api.h"
#include "service/orgs.h"
#include "service/pipelines.h"
#include "store/sqlite/sqlite_store.h"
#include "store/tenancy.h"

namespace {

namespace fs = std::filesystem;
using namespace ps;

struct World {
  fs::path dir;
  Config config;
  SimClock clock;
  SeededRandom random{7};
  std::unique_ptr<store::Store> store;
  std::unique_ptr<artifacts::FsArtifactStore> artifacts;
  engine::StageRegistry registry;
  std::shared_ptr<targets::Targets> targets = std::make_shared<targets::Targets>();
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<service::App> app;
  std::unique_ptr<api::Authenticator> auth;
  api::Metrics metrics;
  std::unique_ptr<api::Api> http;
  std::string token;

  World() {
    dir = fs::temp_directory_path() / ("api_fuzz." + std::to_string(::getpid()));
    fs::create_directories(dir);
    config.server.repos_root = dir.string();
    config.server.rate_token = 1'000'000;
    config.server.rate_org = 1'000'000;
    store = std::move(
        store::sqlite::SqliteStore::Open((dir / "state.db").string(), {.durable = false}).value());
    artifacts = std::make_unique<artifacts::FsArtifactStore>(dir / "artifacts");
    service::RegisterBuiltinStages(registry, targets);
    engine = std::make_unique<engine::Engine>(engine::EngineDeps{*store,
                                                                 *artifacts,
                                                                 registry,
                                                                 clock,
                                                                 random,
                                                                 Logger::Null(),
                                                                 config,
                                                                 dir / "logs",
                                                                 false,
                                                                 {}});
    app = std::make_unique<service::App>(
        service::App{config, *store, *artifacts, *engine, *targets, clock, random});
    auth = std::make_unique<api::Authenticator>(*store, clock, nullptr, api::jwt::Policy{});
    http = std::make_unique<api::Api>(*app, *auth, metrics, api::ApiOptions{});
    auto org = service::CreateOrg(*app, "acme", "alice", {"fuzz"});
    const api::NewSecret s = api::MakeTokenSecret();
    (void)service::CreateToken(*app, *org, "fuzz", "owner", "", 0, s.hash, {"fuzz"});
    token = s.secret;
  }
  ~World() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// Splits the input at '\n' into up to `n` parts.
std::vector<std::string> Parts(const std::uint8_t* data, std::size_t size, std::size_t n) {
  std::vector<std::string> out(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == '\n' && out.size() < n) {
      out.emplace_back();
    } else {
      out.back().push_back(static_cast<char>(data[i]));
    }
  }
  out.resize(n);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World* world = new World();
  if (size < 2 || size > 64 * 1024) return 0;
  const auto& routes = world->http->routes();
  const api::Route& route = routes[data[0] % routes.size()];
  const int mode = data[1] % 4;
  // param, query, header value, body
  auto parts = Parts(data + 2, size - 2, 4);
  api::Request req;
  req.method = route.method;
  // Each {name} of the pattern becomes the input's parameter.
  for (std::size_t i = 0; i < route.pattern.size(); ++i) {
    if (route.pattern[i] == '{') {
      req.path += parts[0];
      i = route.pattern.find('}', i);
    } else {
      req.path += route.pattern[i];
    }
  }
  req.query = parts[1];
  req.body = parts[3];
  req.remote = "127.0.0.1";
  if (mode == 0) req.headers["authorization"] = "Bearer " + world->token;
  if (mode == 1) req.headers["authorization"] = parts[2];
  if (mode == 2) req.headers["cookie"] = parts[2];
  if (mode == 3) {
    req.headers["authorization"] = "Bearer " + world->token;
    req.headers["idempotency-key"] = parts[2];
    req.headers["if-match"] = parts[2];
    req.headers["last-event-id"] = parts[2];
  }
  const api::Response resp = world->http->Handle(req);
  if (resp.status < 100 || resp.status > 599) __builtin_trap();
  if (resp.status >= 400) {
    const ps::Json body = ps::Json::parse(resp.body, nullptr, false);
    if (!body.is_object() || !body.contains("title") || !body.contains("status")) {
      __builtin_trap();
    }
  }
  return 0;
}
