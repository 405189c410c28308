// `prodsprint serve`: the control plane — the HTTP API (REST /v1, live runs
// over SSE) with the engine's workers in this process (docs/API.md).
#include <sys/resource.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "api/api.h"
#include "api/hub.h"
#include "api/server.h"
#include "cli/command.h"
#include "engine/worker_pool.h"
#include "service/orgs.h"

namespace ps::cli {
namespace {

struct ServeArgs {
  std::string listen;
  std::string tls_cert, tls_key;
  bool dev = false;
  int workers = 0;
  int io_threads = 2;
  int handler_threads = 8;
  bool openapi = false;
  std::string web;
};

// Where the dashboard's files are: --web, or share/prodsprint/web beside the
// binary's folder (an install), or build/web/dist of the checkout the binary
// was built in; empty when there are none.
std::filesystem::path WebRoot(const std::string& flag) {
  if (!flag.empty()) return flag;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (const auto& candidate : {exe.parent_path().parent_path() / "share" / "prodsprint" / "web",
                                exe.parent_path().parent_path().parent_path() / "web" / "dist"}) {
    if (std::filesystem::exists(candidate / "index.html", ec)) return candidate;
  }
  return {};
}

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host.rfind("127.", 0) == 0 || host == "localhost";
}

// serve --dev: the login link's owner is a member (owner) of the CLI's own
// org, so what `prodsprint up` made is on the dashboard.
Result<std::string> DevOwner(Session& s) {
  const char* user = std::getenv("USER");
  const std::string sub = std::string("dev:") + (user && *user ? user : "local");
  auto app = s.App();
  PS_ASSIGN(store::Org org, store::ReadValue<store::Org>(*s.store, [&](store::Tx& tx) {
              return tx.GetOrg(s.tenant.org_id);
            }));
  auto member = store::ReadValue<store::Member>(
      *s.store, [&](store::Tx& tx) { return tx.GetMember(org.id, sub); });
  if (!member.ok() || member->role != "owner") {
    auto put = service::PutMember(app, org, sub, "owner", {}, {"cli:serve"});
    if (!put.ok()) return put.problem();
  }
  return sub;
}

Result<int> CmdServe(const Options& o, const ServeArgs& a) {
  if (a.openapi) {
    api::ApiOptions options;
    options.version = PS_VERSION;
    std::cout << Dump(api::OpenApiDocument(api::AllRoutes(), options), 2) << std::endl;
    return kExitOk;
  }
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", true));
  if (a.workers > 0) s->config.engine.workers = a.workers;
  const std::string listen = a.listen.empty() ? s->config.server.listen : a.listen;
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return problems::InvalidInput("--listen takes HOST:PORT, not '" + listen + "'");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) return problems::InvalidInput("bad port in '" + listen + "'");
  if (a.dev && !IsLoopback(host)) {
    return problems::InvalidInput(
        "--dev logs anyone in as an owner: it listens on loopback only (127.0.0.1 or ::1), not "
        "on " +
        host);
  }

  // Identity: OIDC when configured; API tokens and sessions always.
  const ServerConfig& sc = s->config.server;
  std::unique_ptr<api::jwt::JwksCache> oidc;
  api::jwt::Policy policy;
  if (!sc.oidc_issuer.empty()) {
    if (sc.oidc_audience.empty() || (sc.oidc_jwks_url.empty() && sc.oidc_jwks_file.empty())) {
      return problems::InvalidConfig(
          "server.oidc needs issuer, audience, and jwks_url or jwks_file");
    }
    api::jwt::Source source;
    source.file = sc.oidc_jwks_file;
    source.url = sc.oidc_jwks_url;
    source.fetch = [](const std::string& url) { return api::HttpGet(url); };
    oidc = std::make_unique<api::jwt::JwksCache>(std::move(source), SystemClock::Instance());
    policy.issuer = sc.oidc_issuer;
    policy.audiences = {sc.oidc_audience};
  }
  api::Authenticator auth(*s->store, SystemClock::Instance(), std::move(oidc), policy);
  if (!sc.oidc_client_id.empty()) {
    if (!auth.oidc_keys()) {
      return problems::InvalidConfig("server.oidc.client_id needs server.oidc.issuer and its keys");
    }
    api::OidcClient client;
    client.issuer = sc.oidc_issuer;
    client.client_id = sc.oidc_client_id;
    client.get = [](const std::string& url) { return api::HttpGet(url); };
    client.post = [](const std::string& url, const std::string& form) {
      return api::HttpPostForm(url, form);
    };
    auth.SetLogin(std::make_unique<api::LoginFlow>(std::move(client), *auth.oidc_keys(),
                                                   SystemClock::Instance()));
  }
  api::Metrics metrics;
  auto app = s->App();
  app.project_config = true;  // each project's prodsprint.yaml, as the CLI reads it
  api::ApiOptions options;
  options.dev = a.dev;
  options.tls = !a.tls_cert.empty();
  options.version = PS_VERSION;
  options.web_root = WebRoot(a.web);
  if (!a.web.empty() && !std::filesystem::exists(options.web_root / "index.html")) {
    return problems::InvalidInput("--web " + a.web + " holds no index.html");
  }
  api::Api http_api(app, auth, metrics, options);
  api::Hub hub(*s->store);
  hub.SetObserver([&metrics](const store::Event& e) {
    if (e.name != "stage.done" || !e.payload.is_object()) return;
    const Json& ms = e.payload.contains("duration_ms") ? e.payload["duration_ms"] : Json();
    if (ms.is_number()) {
      metrics.ObserveStage(e.payload.value("stage", "?"), ms.get<double>() / 1000.0);
    }
  });
  store::Store& st = *s->store;
  metrics.AddGauge("prodsprint_runs", "Runs by status, all tenants.", [&st] {
    std::vector<std::pair<std::string, double>> out;
    auto counts = store::ReadValue<std::map<std::string, std::int64_t>>(
        st, [](store::Tx& tx) { return tx.CountRunsByStatus(); });
    if (counts.ok()) {
      for (const auto& [status, n] : *counts) {
        out.emplace_back("status=\"" + status + "\"", static_cast<double>(n));
      }
    }
    return out;
  });
  metrics.AddGauge("prodsprint_queue_depth", "Stages ready to run now, all tenants.", [&st] {
    auto n = store::ReadValue<std::int64_t>(
        st, [](store::Tx& tx) { return tx.CountReadyStages(SystemClock::Instance().Now()); });
    return std::vector<std::pair<std::string, double>>{
        {"", n.ok() ? static_cast<double>(*n) : 0.0}};
  });
  PS_TRY(hub.Start());

  api::ServerOptions so;
  so.host = host;
  so.port = port;
  so.tls_cert = a.tls_cert;
  so.tls_key = a.tls_key;
  so.io_threads = a.io_threads;
  so.handler_threads = a.handler_threads;
  so.heartbeat = sc.heartbeat;
  // Every open stream is a socket: the soft limit on files (often 1,024)
  // goes up to the hard one, as far as the system lets this process.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }
  api::Server server(http_api, hub, so);
  PS_ASSIGN(const int bound, server.Listen());
  const std::string scheme = options.tls ? "https" : "http";
  const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::string url = scheme + "://" + shown_host + ":" + std::to_string(bound);
  // The dev login redirect and the cookie's CSRF check compare against it.
  http_api.SetPublicUrl(url);

  engine::WorkerPool pool(*s->engine, s->config.engine.workers, engine::ProcessWorkerId());
  pool.Start();
  http_api.ready = [&pool] { return !pool.Failure().has_value(); };

  std::cerr << "prodsprint " << PS_VERSION << " serving " << url << " (state "
            << s->state_dir.string() << ", " << s->config.engine.workers << " worker(s)"
            << (sc.oidc_issuer.empty() ? "" : ", OIDC issuer " + sc.oidc_issuer) << ")\n";
  std::cerr << "  OpenAPI: " << url << "/v1/openapi.json   health: " << url << "/healthz\n";
  if (a.dev) {
    PS_ASSIGN(std::string sub, DevOwner(*s));
    const std::string code = auth.NewLoginCode(sub, 365LL * 86'400'000, true);
    std::cerr << "  dev login (owner '" << sub << "'): " << url << "/v1/auth/dev?code=" << code
              << "\n";
  }
  std::cerr << "Ctrl-C or SIGTERM stops: in-flight requests finish, streams end, runs resume at "
               "the next start\n";

  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done && !g_interrupted) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (g_interrupted) server.Shutdown();
  });
  server.Run();
  done = true;
  watcher.join();
  hub.Stop();
  // Running stages stop within a heartbeat and run again at the next start.
  s->engine->AbandonRunningStages();
  pool.Stop();
  std::cerr << "stopped\n";
  return kExitOk;
}

}  // namespace

void RegisterServe(Commands& commands) {
  auto a = std::make_shared<ServeArgs>();
  auto* serve = commands.app().add_subcommand(
      "serve",
      "Serve the control plane: the REST API under /v1 (docs/API.md, /v1/openapi.json), live\n"
      "runs as Server-Sent Events, /healthz, /readyz and /metrics, with the engine's workers in\n"
      "this process. Identity: OIDC bearer tokens (server.oidc in prodsprint.yaml) and API\n"
      "tokens; with --dev, a login link for a local owner. Bootstrap an org first with\n"
      "'prodsprint orgs create SLUG --owner SUB'. SIGTERM stops gracefully.");
  serve->add_option("--listen", a->listen, "HOST:PORT (default: server.listen, 127.0.0.1:7070)");
  serve->add_option("--tls-cert", a->tls_cert, "PEM certificate chain: serve HTTPS");
  serve->add_option("--tls-key", a->tls_key, "PEM private key of --tls-cert");
  serve->add_flag("--dev", a->dev,
                  "Print a login link for a local owner (loopback addresses only)");
  serve->add_option("--workers", a->workers, "Worker threads (default: engine.workers)")
      ->check(CLI::Range(1, 64));
  serve->add_option("--io-threads", a->io_threads, "Threads carrying connections (default 2)")
      ->check(CLI::Range(1, 64));
  serve->add_option("--handler-threads", a->handler_threads, "Threads running requests (default 8)")
      ->check(CLI::Range(1, 256));
  serve->add_option("--web", a->web,
                    "The dashboard's built files (default: share/prodsprint/web beside the "
                    "binary's folder)");
  serve->add_flag("--openapi", a->openapi,
                  "Print the API's OpenAPI 3.1 document (as served at /v1/openapi.json) and exit");
  const Options& o = commands.options();
  commands.Add(serve, [&o, a] { return CmdServe(o, *a); });
}

}  // namespace ps::cli
