#include "stages/audit/audit.h"

#include "security/secrets.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/parallel.h"
#include "stages/audit/languages.h"

namespace ps::stages::audit {

namespace {

// File names the detectors read.
const std::set<std::string>& KeptNames() {
  static const std::set<std::string> kNames = {
      "package.json",
      "package-lock.json",
      "npm-shrinkwrap.json",
      "yarn.lock",
      "pnpm-lock.yaml",
      "bun.lockb",
      "bun.lock",
      "pnpm-workspace.yaml",
      "turbo.json",
      "nx.json",
      "lerna.json",
      ".nvmrc",
      ".node-version",
      ".tool-versions",
      "requirements.txt",
      "requirements-dev.txt",
      "pyproject.toml",
      "Pipfile",
      "Pipfile.lock",
      "poetry.lock",
      "uv.lock",
      "setup.py",
      "manage.py",
      ".python-version",
      "runtime.txt",
      "alembic.ini",
      "go.mod",
      "go.work",
      "Cargo.toml",
      "Gemfile",
      "composer.json",
      "pom.xml",
      "build.gradle",
      "build.gradle.kts",
      "settings.gradle",
      "settings.gradle.kts",
      "mix.exs",
      "deno.json",
      "deno.jsonc",
      "global.json",
      "rust-toolchain",
      "rust-toolchain.toml",
      ".ruby-version",
      "Procfile",
      ".env.example",
      ".env.sample",
      ".env.template",
      ".env.dist",
      ".env.defaults",
      "app.json",
      "render.yaml",
      "vercel.json",
      "fly.toml",
      "netlify.toml",
      "index.html",
      "manifest.json",
      "schema.prisma",
      "drizzle.config.ts",
      "drizzle.config.js",
      "knexfile.js",
      "knexfile.ts",
      ".sequelizerc",
      "ormconfig.json",
      "Chart.yaml",
      ".gitlab-ci.yml",
      "Jenkinsfile",
      "azure-pipelines.yml",
      ".travis.yml",
      "bitbucket-pipelines.yml",
      "skaffold.yaml",
      "kustomization.yaml",
      "docker-compose.yml",
      "docker-compose.yaml",
      "compose.yml",
      "compose.yaml",
      "docker-compose.override.yml",
      "Dockerfile",
      "Containerfile",
      "tsconfig.json",
      "tsconfig.base.json",
      "tsconfig.app.json",
      "next.config.js",
      "next.config.mjs",
      "next.config.ts",
      "nuxt.config.ts",
      "nuxt.config.js",
      "vite.config.ts",
      "vite.config.js",
      "vite.config.mjs",
      "svelte.config.js",
      "astro.config.mjs",
      "astro.config.ts",
      "angular.json",
      "remix.config.js",
      "react-router.config.ts",
      "nest-cli.json",
      "project.json",
      "main.go",
      "app.py",
      "main.py",
      "wsgi.py",
      "asgi.py",
      "settings.py",
      "urls.py",
      "Gemfile.lock",
      "config.ru",
      "composer.lock",
      "artisan",
      "symfony.lock",
      "mvnw",
      "gradlew",
      "mix.lock",
      "main.rs",
      "application.properties",
      "application.yml",
      "application.yaml",
  };
  return kNames;
}

std::string BaseOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Files kept under a name class rather than their own name.
std::string NameClass(const std::string& path, const std::string& base) {
  if (base.rfind("Dockerfile.", 0) == 0 || EndsWith(base, ".dockerfile")) return "Dockerfile";
  if (path.rfind(".github/workflows/", 0) == 0 &&
      (EndsWith(base, ".yml") || EndsWith(base, ".yaml"))) {
    return "@github-workflow";
  }
  if (EndsWith(base, ".tf")) return "@terraform";
  if (EndsWith(base, ".csproj") || EndsWith(base, ".fsproj")) return "@dotnet-project";
  if (base.rfind("appsettings", 0) == 0 && EndsWith(base, ".json")) return "@appsettings";
  if (EndsWith(base, ".service") &&
      (path.find("contrib/") != std::string::npos || path.find("systemd/") != std::string::npos ||
       path.find("packaging/") != std::string::npos || path.find("deploy/") != std::string::npos ||
       path.find("init/") != std::string::npos)) {
    return "@systemd-unit";
  }
  if ((EndsWith(base, ".yaml") || EndsWith(base, ".yml")) &&
      (path.find("k8s/") != std::string::npos || path.find("kubernetes/") != std::string::npos ||
       path.find("manifests/") != std::string::npos || path.find("deploy/") != std::string::npos)) {
    return "@k8s";
  }
  if (base.rfind("requirements", 0) == 0 && EndsWith(base, ".txt")) return "requirements.txt";
  // Env samples by other names: .example.env, example.env, sample.env,
  // .env.local.example, .env.production.sample...
  if (base == ".example.env" || base == "example.env" || base == "sample.env" ||
      base == ".sample.env" || base == "env.example" || base == "env.sample" ||
      (base.rfind(".env.", 0) == 0 &&
       (EndsWith(base, ".example") || EndsWith(base, ".sample") || EndsWith(base, ".template")))) {
    return ".env.example";
  }
  return {};
}

bool IsSourceLanguage(std::string_view name) {
  for (std::string_view l : {"JavaScript", "TypeScript", "TSX", "Python", "Go", "Ruby", "PHP",
                             "Java", "Kotlin", "C#", "Rust", "Elixir", "Vue", "Svelte", "Astro"}) {
    if (name == l) return true;
  }
  return false;
}

struct LangTotal {
  std::uint64_t bytes = 0;
  std::uint64_t files = 0;
};

Json Percentages(const std::map<std::string, LangTotal>& totals) {
  std::uint64_t sum = 0;
  for (const auto& [n, t] : totals) sum += t.bytes;
  std::vector<std::pair<std::string, LangTotal>> v(totals.begin(), totals.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second.bytes != b.second.bytes ? a.second.bytes > b.second.bytes : a.first < b.first;
  });
  Json out = Json::array();
  for (const auto& [name, t] : v) {
    double pct = sum ? 100.0 * static_cast<double>(t.bytes) / static_cast<double>(sum) : 0;
    out.push_back({{"name", name},
                   {"bytes", t.bytes},
                   {"files", t.files},
                   {"percent", std::round(pct * 100) / 100}});
  }
  return out;
}

}  // namespace

std::string DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  return dir.empty() || dir == "." ? name : dir + "/" + name;
}

bool IsSecretName(std::string_view name) { return security::IsSecretName(name); }

Service& ServiceAt(Services& out, const std::string& root) {
  auto it = out.find(root);
  if (it != out.end()) return it->second;
  Service s;
  s.root = root;
  s.name = root == "." ? "" : BaseOf(root);
  return out.emplace(root, std::move(s)).first->second;
}

void Service::AddEnv(const std::string& n, bool required, bool secret,
                     std::optional<std::string> default_value, Evidence ev) {
  auto& e = env_vars[n];
  e.name = n;
  e.required = e.required || required;
  e.secret = e.secret || secret || IsSecretName(n);
  if (default_value && !e.default_value) e.default_value = std::move(default_value);
  if (e.evidence.size() < 8) e.evidence.push_back(std::move(ev));
}

void Service::AddBacking(const std::string& canonical, Evidence ev) {
  auto& list = backing_services[canonical];
  for (const auto& e : list) {
    if (e.file == ev.file && e.line == ev.line && e.text == ev.text) return;
  }
  if (list.size() < 8) list.push_back(std::move(ev));
}

Json Service::ToJson() const {
  Json env = Json::array();
  for (const auto& [n, e] : env_vars) {
    Json ev = Json::array();
    for (const auto& x : e.evidence) ev.push_back(x.ToJson());
    Json j{{"name", n}, {"required", e.required}, {"secret", e.secret}, {"evidence", ev}};
    j["default"] = e.default_value && !e.secret ? Json(*e.default_value) : Json(nullptr);
    env.push_back(j);
  }
  Json backing = Json::array();
  for (const auto& [n, evs] : backing_services) {
    Json ev = Json::array();
    for (const auto& x : evs) ev.push_back(x.ToJson());
    Json b = {{"name", n}, {"evidence", ev}};
    if (optional_backing.count(n)) b["optional"] = true;
    backing.push_back(std::move(b));
  }
  return {{"name", name},
          {"root", root},
          {"kind", kind.ToJson()},
          {"language", language.ToJson()},
          {"framework", framework.ToJson()},
          {"package_manager", package_manager.ToJson()},
          {"runtime_version", runtime_version.ToJson()},
          {"port", port.ToJson()},
          {"build_command", build_command.ToJson()},
          {"start_command", start_command.ToJson()},
          {"test_framework", test_framework.ToJson()},
          {"test_command", test_command.ToJson()},
          {"env_vars", env},
          {"backing_services", backing},
          {"migrations", migrations.ToJson()},
          {"healthcheck", healthcheck.ToJson()},
          {"dockerfile", dockerfile.ToJson()}};
}

const std::vector<std::string>& RepoIndex::Named(const std::string& base) const {
  static const std::vector<std::string> kEmpty;
  auto it = by_name_.find(base);
  return it == by_name_.end() ? kEmpty : it->second;
}

std::vector<std::string> RepoIndex::Under(const std::string& dir, const std::string& base) const {
  std::vector<std::string> out;
  for (const auto& p : Named(base)) {
    if (dir.empty() || dir == "." || p.rfind(dir + "/", 0) == 0) out.push_back(p);
  }
  return out;
}

std::string RepoIndex::MigrationDirUnder(const std::string& root) const {
  for (const auto& d : migration_dirs_) {
    if (root == "." || d.rfind(root + "/", 0) == 0) return d;
  }
  return JoinPath(root, "migrations");
}

std::optional<std::string> RepoIndex::Read(const std::string& path) {
  auto kept = kept_.find(path);
  if (kept == kept_.end()) return std::nullopt;  // not in the tree (or too large: warned already)
  auto it = cache_.find(path);
  if (it != cache_.end()) return it->second;
  return Accept(path, kept->second, view_.Read(path, limits_.max_read_bytes));
}

std::optional<std::string> RepoIndex::Accept(const std::string& path, bool cache,
                                             Result<std::string> r) {
  if (!r.ok()) {
    Warn(path, r.problem().Message());
    return std::nullopt;
  }
  if (LooksBinary(*r)) {
    Warn(path, "binary content; skipped");
    return std::nullopt;
  }
  if (!cache) return std::move(r).value();
  return cache_.emplace(path, std::move(r).value()).first->second;
}

void RepoIndex::ReadEach(const std::vector<std::string>& paths,
                         const std::function<void(const std::string&, const std::string&)>& fn) {
  // Windows bound memory: at most kWindow texts are held at once. Within a
  // window, threads claim files by index; the results are used in order, so
  // the audit's output does not depend on the schedule.
  constexpr std::size_t kWindow = 512;
  const unsigned threads = view_.ConcurrentReads() ? IoThreads() : 1U;
  std::vector<std::optional<Result<std::string>>> slots;
  for (std::size_t start = 0; start < paths.size(); start += kWindow) {
    const std::size_t end = std::min(paths.size(), start + kWindow);
    slots.assign(end - start, std::nullopt);
    ParallelFor(start, end, threads, [&](std::size_t i) {
      const std::string& p = paths[i];
      if (!kept_.count(p) || cache_.count(p)) return;  // read below, on this thread
      slots[i - start] = view_.Read(p, limits_.max_read_bytes);
    });
    for (std::size_t i = start; i < end; ++i) {
      const std::string& p = paths[i];
      auto& slot = slots[i - start];
      std::optional<std::string> text;
      if (slot) {
        text = Accept(p, kept_.at(p), std::move(*slot));
      } else {
        text = Read(p);
      }
      if (text) fn(p, *text);
    }
  }
}

std::optional<Json> RepoIndex::ReadJson(const std::string& path) {
  auto text = Read(path);
  if (!text) return std::nullopt;
  Json doc = Json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    Warn(path, "malformed JSON; skipped");
    return std::nullopt;
  }
  return doc;
}

void RepoIndex::Warn(const std::string& file, const std::string& message) {
  if (warnings_.size() < 500) warnings_.push_back({{"file", file}, {"message", message}});
}

namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Folders of tests, benchmarks, examples and documentation: what is in them
// is not deployed as the product.
bool IsNonProductPath(const std::string& root, const std::string& name) {
  static const std::set<std::string> kDirs = {
      "test",       "tests",      "e2e",      "spec",     "__tests__",  "benchmark",
      "benchmarks", "bench",      "examples", "example",  "samples",    "sample",
      "docs",       "doc",        "testdata", "fixtures", "load-tests", "loadtests",
      "loadtest",   "perf-tests", "tools",    "hack"};
  if (root != ".") {
    std::size_t start = 0;
    while (start <= root.size()) {
      const auto slash = root.find('/', start);
      const std::string seg =
          Lower(root.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
      if (kDirs.count(seg)) return true;
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }
  const std::string n = Lower(name);
  for (const char* suffix :
       {"-e2e", "-tests", "-test", "-benchmark", "-bench", "_test", "_tests"}) {
    const std::string x(suffix);
    if (n.size() > x.size() && n.compare(n.size() - x.size(), x.size(), x) == 0) return true;
  }
  return n == "e2e";
}

bool Below(const std::string& root, const std::string& dir) {
  return dir != root && (root == "." || dir.rfind(root + "/", 0) == 0);
}

// Files that list dependencies: evidence from them alone says a client
// library is there, not that a server is needed.
bool IsDependencyManifest(const std::string& path) {
  const std::string b = BaseOf(path);
  return b == "package.json" || b.rfind("requirements", 0) == 0 || b == "pyproject.toml" ||
         b == "Pipfile" || b == "setup.py" || b == "Gemfile" || b == "composer.json" ||
         b == "go.mod" || b == "pom.xml" || b == "build.gradle" || b == "build.gradle.kts" ||
         EndsWith(b, ".csproj") || EndsWith(b, ".fsproj") || b == "Cargo.toml" || b == "mix.exs";
}

// Which of the services found are not services after all, and how those
// that are run.
void DecideWhatRuns(RepoIndex& idx, Services& services) {
  for (auto& [key, s] : services) {
    if (!s.deployable || key.find('#') != std::string::npos) continue;
    // Tests, benchmarks, examples, docs; what compose runs only on request.
    if (IsNonProductPath(s.root, s.name) || idx.optional_roots_.count(s.root)) s.deployable = false;
    // A browser extension is installed in browsers, not deployed.
    if (auto m = idx.Read(JoinPath(s.root, "manifest.json"));
        m && m->find("\"manifest_version\"") != std::string::npos) {
      s.deployable = false;
    }
    // What the code says: a command-line program exits; an application
    // context or a microservice without a listener is a worker.
    if (s.is_cli && !s.serves_http) {
      s.deployable = false;
    } else if (s.serves_grpc && !s.serves_http) {
      s.kind.Add("grpc", 0.95, {s.root, 0, "a gRPC server, no HTTP endpoints of its own"});
    } else if (s.runs_headless && !s.serves_http) {
      s.kind.Add("worker", 0.95,
                 {s.root, 0,
                  "runs in the background (a hosted service, an "
                  "application context), no HTTP endpoints"});
    } else if (s.framework.value() == "ASP.NET Core" && !s.serves_http && !s.serves_grpc) {
      // A web project that maps no endpoint but its health checks: a
      // background consumer that happens to host a health endpoint.
      s.kind.Add("worker", 0.95, {s.root, 0, "an ASP.NET Core host that maps no endpoint"});
    }
  }
  for (auto& [key, s] : services) {
    if (!s.deployable || key.find('#') != std::string::npos) continue;
    // A workspace's root, when packages below it are services: tooling.
    if (s.workspace_root) {
      for (const auto& [k2, t] : services) {
        if (&t != &s && t.deployable && Below(s.root, t.root)) {
          s.deployable = false;
          break;
        }
      }
    }
    // Nothing says how it would run: not a service.
    if (s.kind.empty() && s.start_command.empty() && s.framework.empty() && s.dockerfile.empty())
      s.deployable = false;
  }
  // Go commands: a program named for a migration runs the schema changes of
  // the module's services (its migrations are theirs); a command without a
  // Dockerfile while its siblings have one is a tool, not deployed.
  for (auto& [key, s] : services) {
    if (!s.deployable || s.language.value() != "Go" || key == ".") continue;
    const std::string base = Lower(BaseOf(s.root));
    const std::string parent = DirOf(s.root);
    if (base.find("migrat") != std::string::npos) {
      s.deployable = false;
      for (auto& [k2, t] : services) {
        if (&t == &s || !t.deployable || t.language.value() != "Go") continue;
        if (t.migrations.empty()) t.migrations.Merge(s.migrations);
      }
      continue;
    }
    if (!s.dockerfile.empty()) continue;
    // Siblings built by a Dockerfile of their own folder (cmd/api/Dockerfile),
    // not by one at the root that builds whichever command it names.
    bool sibling_built = false;
    for (const auto& [k2, t] : services) {
      if (&t == &s || t.language.value() != "Go" || DirOf(t.root) != parent) continue;
      if (t.dockerfile.value().is_string() &&
          DirOf(t.dockerfile.value().get<std::string>()) == t.root)
        sibling_built = true;
    }
    if (sibling_built) s.deployable = false;
  }
}

// systemd units a repository ships (contrib/, packaging/, deploy/): a
// unit whose command runs a worker (a queue worker, a scheduler) is a
// process of the service whose code it runs; one that runs the service's
// server or binary is that service.
void DetectSystemdUnits(RepoIndex& idx, Services& services) {
  for (const auto& path : idx.Named("@systemd-unit")) {
    auto text = idx.Read(path);
    if (!text) continue;
    const auto at = text->find("\nExecStart=");
    if (at == std::string::npos) continue;
    const auto eol = text->find('\n', at + 1);
    const std::string cmd =
        text->substr(at + 11, eol == std::string::npos ? std::string::npos : eol - at - 11);
    const std::string lower = Lower(cmd);
    bool worker = false;
    for (const char* w : {"worker", "celery", "sidekiq", "queue", "consumer", "scheduler", "beat",
                          "rqworker", "cron", "jobs"}) {
      if (lower.find(w) != std::string::npos) worker = true;
    }
    if (!worker) continue;
    // The service whose folder the command names, or the only one.
    Service* target = nullptr;
    int candidates = 0;
    for (auto& [root, s] : services) {
      if (!s.deployable || root.find('#') != std::string::npos) continue;
      ++candidates;
      if (root != "." && cmd.find("/" + root + "/") != std::string::npos) target = &s;
    }
    if (!target && candidates == 1) {
      for (auto& [root, s] : services) {
        if (s.deployable && root.find('#') == std::string::npos) target = &s;
      }
    }
    if (!target) continue;
    std::string unit = BaseOf(path);
    unit = unit.substr(0, unit.rfind('.'));
    Service& p = ServiceAt(services, target->root + "#" + unit);
    p.root = target->root;
    p.name = unit;
    p.deployable = true;
    p.kind.Add("worker", 0.8, {path, LineOf(*text, at + 1), "ExecStart=" + cmd});
    p.start_command.Add(cmd, 0.7, {path, LineOf(*text, at + 1), "ExecStart=" + cmd});
  }
}

// A service uses libraries of the repository (the monorepo graph: npm
// workspaces, Maven modules, .NET project references, Go modules...): the
// servers, migrations and environment those libraries need are its own.
void InheritFromLibraries(Services& services) {
  std::map<std::string, Service*> by_id;
  for (auto& [root, s] : services) {
    if (!s.package_id.empty()) by_id.emplace(s.package_id, &s);
  }
  for (auto& [root, s] : services) {
    if (!s.deployable) continue;
    std::set<const Service*> seen = {&s};
    std::vector<const Service*> todo;
    auto push_uses = [&](const Service& x) {
      for (const auto& [name, ev] : x.uses) {
        auto it = by_id.find(name);
        if (it == by_id.end() || it->second->deployable) continue;
        if (seen.insert(it->second).second) todo.push_back(it->second);
      }
    };
    push_uses(s);
    while (!todo.empty() && seen.size() < 200) {
      const Service* lib = todo.back();
      todo.pop_back();
      for (const auto& [n, evs] : lib->backing_services) {
        for (const auto& ev : evs) s.AddBacking(n, ev);
      }
      for (const auto& [n, e] : lib->env_vars) {
        for (const auto& ev : e.evidence) s.AddEnv(n, e.required, e.secret, e.default_value, ev);
      }
      if (s.migrations.empty()) s.migrations.Merge(lib->migrations);
      push_uses(*lib);
    }
  }
}

// Needed or only supported: a static site needs no server; an object store
// known from a client library alone is optional (uploads to disk or to a
// bucket), unless a required variable names its bucket or credentials; a
// server known from a client library alone, when the repository's compose
// files run other servers but not that one, is an alternative (a SQL
// driver among several) or an extra, not part of the deployment.
void MarkOptionalBacking(const RepoIndex& idx, Services& services) {
  for (auto& [key, s] : services) {
    if (s.kind.value() == "static") {
      s.backing_services.clear();
      continue;
    }
    for (const auto& [name, evs] : s.backing_services) {
      const bool from_libraries_only = std::all_of(evs.begin(), evs.end(), [](const Evidence& e) {
        return IsDependencyManifest(e.file) || e.text.rfind("import ", 0) == 0;
      });
      if (!from_libraries_only) continue;
      if (name == "s3") {
        bool configured = false;
        for (const auto& [n, e] : s.env_vars) {
          const std::string u = n;
          if (!e.required || e.default_value) continue;
          if (u.find("BUCKET") == std::string::npos && u.find("S3") == std::string::npos &&
              u != "AWS_ACCESS_KEY_ID" && u != "AWS_SECRET_ACCESS_KEY")
            continue;
          // Read by the code without a default (an env sample lists
          // optional settings too).
          for (const auto& ev : e.evidence) {
            if (BaseOf(ev.file).rfind(".env", 0) != 0 && !EndsWith(ev.file, ".yml") &&
                !EndsWith(ev.file, ".yaml"))
              configured = true;
          }
        }
        if (!configured && !idx.compose_backing_.count("s3")) s.optional_backing.insert(name);
        continue;
      }
      // Laravel uses Redis when a driver setting says so (cache, queue,
      // session); predis alone is a choice it offers.
      if (name == "redis" && s.framework.value() == "Laravel") {
        bool chosen = false;
        for (const char* k : {"CACHE_DRIVER", "CACHE_STORE", "QUEUE_CONNECTION", "QUEUE_DRIVER",
                              "SESSION_DRIVER", "BROADCAST_DRIVER"}) {
          auto e = s.env_vars.find(k);
          if (e != s.env_vars.end() && e->second.default_value == std::string("redis"))
            chosen = true;
        }
        if (!chosen) s.optional_backing.insert(name);
        continue;
      }
      if (!idx.compose_backing_.empty() && !idx.compose_backing_.count(name))
        s.optional_backing.insert(name);
    }
  }
}

}  // namespace

// What the secret scanner recognises never leaves the audit (its JSON is
// stored, printed and turned into plans): a default that is a credential
// makes its variable secret (the environment supplies the value), and in
// any other text the value becomes "[redacted:RULE]".
void RedactSecretsIn(Json& out) {
  for (auto& svc : out["services"]) {
    for (auto& e : svc["env_vars"]) {
      if (!e["default"].is_string()) continue;
      std::vector<std::string> rules;
      security::RedactRecognisedSecrets(e["default"].get_ref<const std::string&>(), &rules);
      if (rules.empty()) continue;
      e["default"] = nullptr;
      e["secret"] = true;
      e["redacted"] = rules.front();
    }
  }
  std::vector<Json*> stack{&out};
  while (!stack.empty()) {
    Json* j = stack.back();
    stack.pop_back();
    if (j->is_string()) {
      const std::string& text = j->get_ref<const std::string&>();
      if (text.size() >= 8) *j = security::RedactRecognisedSecrets(text);
    } else if (j->is_structured()) {
      for (auto& child : *j) stack.push_back(&child);
    }
  }
}

Result<Json> Audit(RepoView& view, const AuditLimits& limits,
                   const std::function<bool()>& stopping) {
  RepoIndex idx(view, limits);
  std::map<std::string, LangTotal> languages;
  LangTotal headers;
  std::uint64_t symlinks = 0, vendored = 0, generated = 0, skipped_large = 0;
  Json links_out = Json::array();
  std::set<std::string> chart_dirs;
  WalkOptions wo;
  wo.max_files = limits.max_files;
  wo.stopping = stopping;
  PS_ASSIGN(WalkStats stats, view.Walk(wo, [&](const FileEntry& f) {
    if (f.symlink) {
      ++symlinks;
      // A link whose target leaves the tree is reported, never followed.
      std::string target = f.link_target;
      int depth = static_cast<int>(std::count(f.path.begin(), f.path.end(), '/'));
      bool outside = !target.empty() && target[0] == '/';
      for (std::size_t pos = 0; !outside && pos < target.size();) {
        auto slash = target.find('/', pos);
        std::string seg =
            target.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
        if (seg == "..") {
          if (--depth < 0) outside = true;
        } else if (!seg.empty() && seg != ".") {
          ++depth;
        }
        if (slash == std::string::npos) break;
        pos = slash + 1;
      }
      if (outside && links_out.size() < 100) {
        links_out.push_back({{"path", f.path}, {"target", target}});
      }
      return;
    }
    const std::string base = BaseOf(f.path);
    const bool is_vendored = IsVendored(f.path);
    if (is_vendored) {
      ++vendored;
      return;  // neither counted nor read: node_modules and friends
    }
    // Migration folders, by convention.
    if (f.path.find("migrat") != std::string::npos ||
        f.path.find("versions/") != std::string::npos) {
      const std::string slashed = "/" + f.path;
      for (std::string_view m : {"/migrations/", "/migrate/", "/versions/"}) {
        auto pos = slashed.find(m);
        if (pos != std::string::npos)
          idx.migration_dirs_.insert(f.path.substr(0, pos + m.size() - 2));
      }
    }
    std::string cls = KeptNames().count(base) ? base : NameClass(f.path, base);
    // Inside a Helm chart (its Chart.yaml comes first in the walk): templates
    // are not manifests until rendered; values files hold the settings.
    if (base == "Chart.yaml") chart_dirs.insert(DirOf(f.path));
    if (!chart_dirs.empty() && (EndsWith(base, ".yaml") || EndsWith(base, ".yml"))) {
      for (std::string d = DirOf(f.path);; d = DirOf(d)) {
        if (chart_dirs.count(d)) {
          if (DirOf(f.path) == d && base.rfind("values", 0) == 0) {
            cls = "@helm-values";
          } else if (cls == "@k8s") {
            cls.clear();
          }
          break;
        }
        if (d == ".") break;
      }
    }
    if (!cls.empty() && f.size <= limits.max_read_bytes) {
      idx.by_name_[cls].push_back(f.path);
      idx.kept_[f.path] = true;
    } else if (!cls.empty()) {
      ++skipped_large;
      idx.Warn(f.path, "larger than " + std::to_string(limits.max_read_bytes) + " bytes; not read");
    }
    const Language* lang = LanguageOf(f.path);
    // A script without an extension says what it is on its first line.
    // (Build tool wrappers are vendored code, as Linguist has it.)
    if (!lang && base.find('.') == std::string::npos && f.size > 2 &&
        f.size <= limits.max_read_bytes && base != "gradlew" && base != "mvnw") {
      if (auto h = view.Read(f.path, 256); h.ok()) lang = LanguageOfShebang(*h);
    }
    if (!lang) return;
    // Only files whose content can betray generation are opened for it.
    std::string head;
    if (EndsWith(base, ".js") || EndsWith(base, ".css") || EndsWith(base, ".go")) {
      auto h = view.Read(f.path, 8192);
      if (h.ok()) head = std::move(h).value();
    }
    if (IsGenerated(f.path, head) || LooksBinary(head)) {
      ++generated;
      return;
    }
    if (IsSourceLanguage(lang->name) && f.size <= limits.max_read_bytes &&
        idx.sources_.size() < limits.max_source_files) {
      idx.sources_.push_back(f.path);
      idx.kept_.emplace(f.path, false);  // a manifest too (main.go, app.py) stays cached
    }
    if (IsDocumentation(f.path)) return;  // read for services, not counted as code
    if (lang->type == LangType::kProgramming || lang->type == LangType::kMarkup) {
      // A .h file is C++ in a C++ code base: decided once the walk is over.
      auto& t = EndsWith(base, ".h") ? headers : languages[std::string(lang->name)];
      t.bytes += f.size;
      t.files += 1;
    }
  }));
  for (const auto& [path, why] : stats.unreadable_paths) {
    idx.Warn(path, "could not be read (" + why + "): left out of the audit");
  }
  for (const auto& [path, why] : stats.gitignore_unread) {
    idx.Warn(path, "its rules were not applied (" + why + "): the files it names were read");
  }
  if (stats.gitignore_bounded) {
    idx.Warn(".gitignore",
             "its patterns took too long to match or too much memory to hold (hostile patterns?): "
             "the rest of the tree was "
             "read without them");
  }

  if (headers.files > 0) {
    const char* owner = languages.count("C++")           ? "C++"
                        : languages.count("Objective-C") ? "Objective-C"
                                                         : "C";
    languages[owner].bytes += headers.bytes;
    languages[owner].files += headers.files;
  }

  // Languages that own a folder go first, so that a package.json there is
  // known to be its asset build, not a second service.
  Services services;
  DetectPython(idx, services);
  DetectRuby(idx, services);
  DetectPhp(idx, services);
  DetectJvm(idx, services);
  DetectDotnet(idx, services);
  DetectRust(idx, services);
  DetectElixir(idx, services);
  DetectNode(idx, services);
  DetectGo(idx, services);
  DetectContainers(idx, services);
  DetectEnvFiles(idx, services);
  ScanSources(idx, services);

  // What is not deployed (tests, tools, what compose runs only on request)
  // is known before Dockerfiles are given to the services they build.
  for (auto& [key, s] : services) {
    if (key.find('#') == std::string::npos &&
        (IsNonProductPath(s.root, s.name) || idx.optional_roots_.count(s.root)))
      s.deployable = false;
  }
  DetectSystemdUnits(idx, services);

  // A Dockerfile or compose service with no language of its own builds a
  // service found below it: the one with its name, or the only one.
  for (auto it = services.begin(); it != services.end();) {
    Service& c = it->second;
    if (!c.language.empty() || it->first.find('#') != std::string::npos) {
      ++it;
      continue;
    }
    std::vector<Service*> below;
    Service* named = nullptr;
    for (auto& [root, s] : services) {
      if (&s == &c || s.language.empty() || root.find('#') != std::string::npos || !s.deployable)
        continue;
      if (c.root == "." || root.rfind(c.root + "/", 0) == 0) {
        below.push_back(&s);
        if (s.name == c.name) named = &s;
      }
    }
    Service* target = named ? named : below.size() == 1 ? below.front() : nullptr;
    if (!target) {
      // A Dockerfile away from any code (packaging/docker/alpine, docker/,
      // src/Dockerfile.api) builds a service of the repository: the one its
      // name says (Dockerfile.api: the service named ...api), or the only one.
      std::vector<Service*> all;
      for (auto& [root, s] : services) {
        if (&s == &c || s.language.empty() || root.find('#') != std::string::npos || !s.deployable)
          continue;
        all.push_back(&s);
      }
      std::string suffix;
      if (c.dockerfile.value().is_string()) {
        const std::string df = c.dockerfile.value().get<std::string>();
        const auto dot = BaseOf(df).find('.');
        if (dot != std::string::npos) suffix = Lower(BaseOf(df).substr(dot + 1));
      }
      for (Service* s : all) {
        const std::string n = Lower(s->name);
        if (!suffix.empty() && n.size() >= suffix.size() &&
            n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
          target = s;
        }
      }
      // What the Dockerfile builds, by the folder or package it names
      // (`turbo prune @acme/web`, `COPY apps/web`).
      if (!target && c.dockerfile.value().is_string()) {
        if (auto df = idx.Read(c.dockerfile.value().get<std::string>())) {
          Service* named_in = nullptr;
          int hits = 0;
          for (Service* s : all) {
            if ((s->root != "." && df->find(s->root) != std::string::npos) ||
                (!s->package_id.empty() && df->find(s->package_id) != std::string::npos)) {
              named_in = s;
              ++hits;
            }
          }
          if (hits == 1) target = named_in;
        }
      }
      if (!target && all.size() == 1) target = all.front();
    }
    if (!target) {
      ++it;
      continue;
    }
    for (Field Service::*f :
         {&Service::kind, &Service::framework, &Service::port, &Service::build_command,
          &Service::start_command, &Service::runtime_version, &Service::dockerfile,
          &Service::healthcheck, &Service::migrations}) {
      (target->*f).Merge(c.*f);
    }
    for (const auto& [n, e] : c.env_vars) {
      for (const auto& ev : e.evidence)
        target->AddEnv(n, e.required, e.secret, e.default_value, ev);
    }
    for (const auto& [n, evs] : c.backing_services) {
      for (const auto& ev : evs) target->AddBacking(n, ev);
    }
    it = services.erase(it);
  }
  // A tree of plain HTML with nothing to build is a static site.
  if (services.empty() && idx.Has("index.html")) {
    Service& site = ServiceAt(services, ".");
    site.kind.Add("static", 0.8, {"index.html", 0, "index.html and no application manifest"});
    site.framework.Add("static HTML", 0.7, {"index.html", 0, "index.html"});
    site.language.Add("HTML", 0.7, {"index.html", 0, "index.html"});
  }

  DetectKubernetes(idx, services);

  // A Go command that serves nothing is a worker.
  for (auto& [root, s] : services) {
    if (s.kind.empty() && s.language.value() == "Go" && s.deployable) {
      s.kind.Add("worker", 0.5, {root, 0, "a command without a listener"});
    }
  }

  DecideWhatRuns(idx, services);
  InheritFromLibraries(services);
  MarkOptionalBacking(idx, services);

  // A process of a Procfile (ROOT#type) runs the code of the service at its
  // root: that service's language, runtime, environment, backing services
  // and migrations are its own too.
  for (auto& [key, s] : services) {
    const auto hash = key.find('#');
    if (hash == std::string::npos) continue;
    const auto base = services.find(key.substr(0, hash));
    if (base == services.end()) continue;
    const Service& b = base->second;
    for (Field Service::*f :
         {&Service::language, &Service::runtime_version, &Service::package_manager,
          &Service::build_command, &Service::migrations}) {
      if ((s.*f).empty()) (s.*f).Merge(b.*f);
    }
    for (const auto& [n, e] : b.env_vars) {
      for (const auto& ev : e.evidence) s.AddEnv(n, e.required, e.secret, e.default_value, ev);
    }
    for (const auto& [n, evs] : b.backing_services) {
      if (b.optional_backing.count(n) && !s.backing_services.count(n)) s.optional_backing.insert(n);
      for (const auto& ev : evs) s.AddBacking(n, ev);
    }
  }

  // Supabase keeps its Postgres schema in supabase/migrations, applied by
  // its CLI: the service holding it uses Postgres, migrated that way.
  for (const auto& dir : idx.migration_dirs_) {
    if (!EndsWith(dir, "supabase/migrations")) continue;
    Service* owner = nullptr;
    for (auto& [root, s] : services) {
      if (!s.deployable || root.find('#') != std::string::npos) continue;
      if (root == "." || dir.rfind(root + "/", 0) == 0) {
        if (!owner || root.size() > owner->root.size()) owner = &s;
      }
    }
    if (!owner) continue;
    owner->migrations.Add({{"tool", "supabase"}, {"dir", dir}, {"command", "supabase db push"}},
                          0.85, {dir, 0, "Supabase migrations"});
    owner->AddBacking("postgres", {dir, 0, "Supabase (PostgreSQL)"});
  }
  // Migration folders belong to the service whose root holds them.
  for (const auto& dir : idx.migration_dirs_) {
    for (auto& [root, s] : services) {
      if (root == "." || dir.rfind(root + "/", 0) == 0) {
        if (s.migrations.empty()) {
          s.migrations.Add({{"tool", nullptr}, {"dir", dir}}, 0.4, {dir, 0, "migrations folder"});
        }
      }
    }
  }

  Json svc = Json::array();
  Json libraries = Json::array();
  std::set<std::string> frameworks, managers;
  for (auto& [root, s] : services) {
    if (s.name.empty()) s.name = root == "." ? BaseOf(view.Describe()) : BaseOf(root);
    if (!s.framework.empty() && s.framework.value().is_string()) {
      frameworks.insert(s.framework.value().get<std::string>());
    }
    if (!s.package_manager.empty() && s.package_manager.value().is_string()) {
      managers.insert(s.package_manager.value().get<std::string>());
    }
    if (s.deployable) {
      svc.push_back(s.ToJson());
    } else {
      libraries.push_back({{"name", s.name}, {"root", root}});
    }
  }

  auto list = [&](const std::string& cls) {
    Json a = Json::array();
    for (const auto& p : idx.Named(cls)) a.push_back(p);
    return a;
  };
  Json files{{"dockerfiles", list("Dockerfile")}, {"compose", Json::array()},
             {"kubernetes", list("@k8s")},        {"helm_charts", list("Chart.yaml")},
             {"procfiles", list("Procfile")},     {"ci", Json::array()},
             {"iac", list("@terraform")},         {"platform", Json::array()}};
  for (const char* c : {"docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml",
                        "docker-compose.override.yml"}) {
    for (const auto& p : idx.Named(c)) files["compose"].push_back(p);
  }
  for (const char* c : {"@github-workflow", ".gitlab-ci.yml", "Jenkinsfile", "azure-pipelines.yml",
                        ".travis.yml", "bitbucket-pipelines.yml"}) {
    for (const auto& p : idx.Named(c)) files["ci"].push_back(p);
  }
  for (const char* c : {"render.yaml", "vercel.json", "fly.toml", "netlify.toml", "app.json"}) {
    for (const auto& p : idx.Named(c)) files["platform"].push_back(p);
  }

  Json monorepo = nullptr;
  {
    Json tools = Json::array();
    Json workspaces = Json::array();
    for (const auto& [cls, tool] :
         std::vector<std::pair<std::string, std::string>>{{"pnpm-workspace.yaml", "pnpm"},
                                                          {"turbo.json", "turborepo"},
                                                          {"nx.json", "nx"},
                                                          {"lerna.json", "lerna"},
                                                          {"go.work", "go-work"}}) {
      if (!idx.Named(cls).empty()) tools.push_back(tool);
    }
    // Workspaces declared in the build tool's own manifest.
    auto declares = [&](const std::string& name, const std::string& needle) {
      for (const auto& p : idx.Named(name)) {
        auto t = idx.Read(p);
        if (t && t->find(needle) != std::string::npos) return true;
      }
      return false;
    };
    if (declares("package.json", "\"workspaces\"") && idx.Named("pnpm-workspace.yaml").empty())
      tools.push_back("npm-workspaces");
    if (declares("Cargo.toml", "[workspace]")) tools.push_back("cargo-workspace");
    if (declares("pom.xml", "<modules>")) tools.push_back("maven-modules");
    if (declares("settings.gradle", "include") || declares("settings.gradle.kts", "include"))
      tools.push_back("gradle-multi-project");
    std::size_t packages = 0;
    for (const auto& [root, s] : services) packages += root != ".";
    for (const auto& [root, s] : services) {
      if (root != ".") workspaces.push_back(root);
    }
    // The graph: which package of the repository uses which, by the names
    // their manifests give each other.
    std::map<std::string, const Service*> by_id;
    for (const auto& [root, s] : services) {
      if (!s.package_id.empty()) by_id.emplace(s.package_id, &s);
    }
    Json graph = Json::array();
    for (const auto& [root, s] : services) {
      std::set<std::string> seen;
      for (const auto& [name, ev] : s.uses) {
        auto it = by_id.find(name);
        if (it == by_id.end() || it->second == &s || !seen.insert(it->second->root).second)
          continue;
        graph.push_back({{"from", s.root}, {"to", it->second->root}, {"evidence", ev.ToJson()}});
      }
    }
    if (!tools.empty() || packages > 1) {
      monorepo = {{"tools", tools}, {"workspaces", workspaces}, {"graph", graph}};
    }
  }

  Json out;
  out["schema"] = "https://prodsprint.dev/schemas/audit/v1";
  out["source"] = view.Describe();
  if (!view.Commit().empty()) out["commit"] = view.Commit();
  out["languages"] = Percentages(languages);
  out["frameworks"] = frameworks;
  out["package_managers"] = managers;
  out["monorepo"] = monorepo;
  out["files"] = files;
  out["services"] = svc;
  out["libraries"] = libraries;
  out["stats"] = {{"files", stats.files},
                  {"ignored", stats.ignored},
                  {"vendored", vendored},
                  {"generated", generated},
                  {"symlinks", symlinks},
                  {"large_files_not_read", skipped_large},
                  {"truncated", stats.truncated},
                  {"unreadable", stats.unreadable},
                  {"gitignore_bounded", stats.gitignore_bounded}};
  if (!stats.unreadable_paths.empty()) {
    Json list = Json::array();
    for (const auto& [path, why] : stats.unreadable_paths)
      list.push_back({{"path", path}, {"why", why}});
    out["unreadable"] = list;
  }
  out["symlinks_outside"] = links_out;
  out["warnings"] = idx.warnings();
  RedactSecretsIn(out);
  return out;
}

}  // namespace ps::stages::audit
