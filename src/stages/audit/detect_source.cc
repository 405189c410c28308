// What source code and env samples say: variables read, ports listened on,
// health endpoints.
#include <algorithm>
#include <cctype>
#include <sstream>

#include "stages/audit/audit.h"
#include "stages/audit/languages.h"

namespace ps::stages::audit {

namespace {

bool IdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The service that owns `path`: the longest root that contains it.
Service* Owner(Services& out, const std::string& path) {
  Service* best = nullptr;
  std::size_t best_len = 0;
  for (auto& [key, s] : out) {
    if (key.find('#') != std::string::npos) continue;  // Procfile processes share their root
    const std::string& root = s.root;
    if (root == ".") {
      if (!best) best = &s;
      continue;
    }
    if (path.rfind(root + "/", 0) == 0 && root.size() + 1 > best_len) {
      best = &s;
      best_len = root.size() + 1;
    }
  }
  return best;
}

bool IsPlaceholder(const std::string& v) {
  std::string l = v;
  for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view p : {"changeme", "change-me", "change_me", "your", "xxx", "<", "replace",
                             "example", "todo", "secret", "password", "..."}) {
    if (l.find(p) != std::string::npos) return true;
  }
  return false;
}

// Reads an identifier starting at `pos`.
std::string IdentAt(const std::string& t, std::size_t pos) {
  std::size_t end = pos;
  while (end < t.size() && IdentChar(t[end])) ++end;
  return t.substr(pos, end - pos);
}

// Reads a quoted string literal starting at `pos` (at the quote).
std::optional<std::string> QuotedAt(const std::string& t, std::size_t pos) {
  if (pos >= t.size() || (t[pos] != '"' && t[pos] != '\'' && t[pos] != '`')) return std::nullopt;
  const char q = t[pos];
  auto end = t.find(q, pos + 1);
  if (end == std::string::npos || end - pos > 200) return std::nullopt;
  return t.substr(pos + 1, end - pos - 1);
}

// A port number right after `pos` (skipping spaces, quotes and ':').
std::optional<int> PortAfter(const std::string& t, std::size_t pos) {
  while (pos < t.size() && (t[pos] == ' ' || t[pos] == '"' || t[pos] == '\'' || t[pos] == ':' ||
                            t[pos] == '(' || t[pos] == '=')) {
    ++pos;
  }
  std::size_t end = pos;
  while (end < t.size() && std::isdigit(static_cast<unsigned char>(t[end]))) ++end;
  if (end == pos || end - pos > 5) return std::nullopt;
  int p = std::stoi(t.substr(pos, end - pos));
  if (p <= 0 || p >= 65536) return std::nullopt;
  return p;
}

std::string LineText(const std::string& t, std::size_t pos) { return LineTextAt(t, pos); }

void ScanEnvReads(const std::string& path, const std::string& t, Service& s) {
  // Prefix -> how the name follows: '.' identifier, or a quoted literal.
  static const std::vector<std::pair<std::string, bool>> kReads = {
      {"process.env.", false},
      {"process.env[", true},
      {"import.meta.env.", false},
      {"Deno.env.get(", true},
      {"Bun.env.", false},
      {"os.environ[", true},
      {"os.environ.get(", true},
      {"os.getenv(", true},
      {"env(", true},
      {"os.Getenv(", true},
      {"os.LookupEnv(", true},
      {"ENV[", true},
      {"ENV.fetch(", true},
      {"System.getenv(", true},
      {"getenv(", true},
      {"env::var(", true},
      {"env!(", true},
      {"System.get_env(", true},
      {"Environment.GetEnvironmentVariable(", true},
  };
  for (const auto& [prefix, quoted] : kReads) {
    std::size_t pos = 0;
    while ((pos = t.find(prefix, pos)) != std::string::npos) {
      // "env(" must not be the tail of another name (getenv, os.getenv).
      if (prefix == "env(" && pos > 0 && (IdentChar(t[pos - 1]) || t[pos - 1] == '.')) {
        pos += prefix.size();
        continue;
      }
      if (prefix == "getenv(" && pos > 0 && t[pos - 1] == '.') {
        pos += prefix.size();
        continue;
      }
      const std::size_t at = pos + prefix.size();
      std::string name = quoted ? QuotedAt(t, at).value_or("") : IdentAt(t, at);
      pos = at;
      if (!IsEnvName(name)) continue;
      // A default right after: `process.env.X || 'v'`, os.getenv("X", "v").
      std::optional<std::string> def;
      const std::string line = LineText(t, at);
      {
        // What follows the name on its line: `|| 'v'`, `?? "v"`, `, "v"`.
        std::size_t after = at + name.size() + (quoted ? 2 : 0);
        auto eol = t.find('\n', after);
        std::string rest =
            t.substr(after, eol == std::string::npos ? std::string::npos : eol - after);
        while (!rest.empty() && (rest[0] == ']' || rest[0] == ')' || rest[0] == ' '))
          rest.erase(0, 1);
        for (const char* op : {"||", "??", ","}) {
          if (rest.rfind(op, 0) == 0) {
            std::size_t q = std::string(op).size();
            while (q < rest.size() && rest[q] == ' ') ++q;
            def = QuotedAt(rest, q);
            if (!def) {  // a number: process.env.PORT || 8080
              std::size_t e = q;
              while (e < rest.size() && std::isdigit(static_cast<unsigned char>(rest[e]))) ++e;
              if (e > q) def = rest.substr(q, e - q);
            }
            break;
          }
        }
      }
      const bool required =
          !def && (prefix == "os.environ[" || prefix == "ENV[" || prefix == "ENV.fetch(");
      if (name == "NODE_ENV" || name == "PATH" || name == "HOME") continue;
      s.AddEnv(name, required, false, def, {path, LineOf(t, at), line});
    }
  }
}

void ScanPorts(const std::string& path, const std::string& t, Service& s) {
  static const std::vector<std::string> kListen = {
      ".listen(",        ".Listen(",     ".Start(",
      "ListenAndServe(", ".Run(",        "net.Listen(\"tcp\",",
      "app.run(",        "uvicorn.run(", "port=",
      "PORT || ",        "PORT ?? ",     "\"PORT\", \"",
      "'PORT', '",       "\"PORT\", ",   "Bun.serve({ port:",
      "port: ",          "\"0.0.0.0:",   "'0.0.0.0:",
      "\"[::]:",         "port = ",      "port := ",
      "PORT = ",         "PORT) : ",
  };
  for (const auto& k : kListen) {
    std::size_t pos = 0;
    while ((pos = t.find(k, pos)) != std::string::npos) {
      std::size_t at = pos + k.size();
      pos = at;
      // app.run(host=..., port=8000): find port= within the call.
      if (k == "app.run(" || k == "uvicorn.run(") {
        auto close = t.find(')', at);
        auto p = t.find("port=", at);
        if (p == std::string::npos || p > close) continue;
        at = p + 5;
      }
      // A variable named port given a number: `const port = 3000`, Go's
      // `if port == "" { port = "3000" }`. Not `report = 3`, not `port = cfg.x`.
      if (k == "port = " || k == "port := " || k == "PORT = ") {
        if (pos - k.size() > 0 && IdentChar(t[pos - k.size() - 1])) continue;
      }
      if (k == "port: " || k == "port=") {
        // Only where the line talks about listening or serving.
        std::string line = LineText(t, at);
        if (line.find("listen") == std::string::npos && line.find("serve") == std::string::npos &&
            line.find("run") == std::string::npos && line.find("PORT") == std::string::npos) {
          continue;
        }
      }
      if (auto p = PortAfter(t, at)) {
        s.port.Add(*p, 0.65, {path, LineOf(t, at), LineText(t, at)});
        if (s.kind.empty())
          s.kind.Add(k == "net.Listen(\"tcp\"," ? "grpc" : "web", 0.5,
                     {path, LineOf(t, at), LineText(t, at)});
      }
    }
  }
}

void ScanHealth(const std::string& path, const std::string& t, Service& s) {
  for (const char* route : {"/healthz", "/health", "/livez", "/readyz", "/ready", "/ping", "/up"}) {
    for (const char q : {'\'', '"', '`'}) {
      const std::string lit = std::string(1, q) + route + q;
      auto pos = t.find(lit);
      if (pos != std::string::npos) {
        s.healthcheck.Add(route, 0.7, {path, LineOf(t, pos), LineText(t, pos)});
        return;
      }
    }
  }
}

}  // namespace

bool IsEnvName(const std::string& n) {
  if (n.empty() || n.size() > 100 || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isupper(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

// The backing service a connection URL names by its scheme.
std::optional<std::string> BackingOfUrl(std::string_view v) {
  static const std::pair<const char*, const char*> kSchemes[] = {
      {"postgres://", "postgres"},   {"postgresql://", "postgres"},
      {"mysql://", "mysql"},         {"redis://", "redis"},
      {"rediss://", "redis"},        {"mongodb://", "mongodb"},
      {"mongodb+srv://", "mongodb"}, {"amqp://", "rabbitmq"},
      {"amqps://", "rabbitmq"},      {"nats://", "nats"}};
  for (const auto& [scheme, svc] : kSchemes) {
    if (v.rfind(scheme, 0) == 0) return std::string(svc);
  }
  return std::nullopt;
}

void DetectEnvFiles(RepoIndex& idx, Services& out) {
  for (const char* name :
       {".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults"}) {
    for (const auto& path : idx.Named(name)) {
      auto text = idx.Read(path);
      if (!text) continue;
      Service* s = Owner(out, path);
      if (!s) s = &ServiceAt(out, DirOf(path));
      std::istringstream in(*text);
      std::string line;
      int n = 0;
      while (std::getline(in, line)) {
        ++n;
        std::string l = line;
        l.erase(0, l.find_first_not_of(" \t"));
        if (l.empty() || l[0] == '#') continue;
        if (l.rfind("export ", 0) == 0) l = l.substr(7);
        auto eq = l.find('=');
        if (eq == std::string::npos) continue;
        std::string k = l.substr(0, eq);
        while (!k.empty() && k.back() == ' ') k.pop_back();
        if (!IsEnvName(k)) continue;
        std::string v = l.substr(eq + 1);
        auto hash = v.find(" #");
        if (hash != std::string::npos) v = v.substr(0, hash);
        while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
        if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
          v = v.substr(1, v.size() - 2);
        }
        const bool empty = v.empty();
        std::optional<std::string> def;
        if (!empty && !IsPlaceholder(v)) def = v;
        const Evidence ev{path, n, k + "=" + (IsSecretName(k) ? "…" : v)};
        s->AddEnv(k, empty || IsPlaceholder(v), false, def, ev);
        // A sample URL names its server by scheme even when its password is a
        // placeholder ("postgres://app:secret@...").
        if (auto b = BackingOfUrl(v)) s->AddBacking(*b, ev);
      }
    }
  }
}

// How a program runs, from its source: an HTTP listener (a NestJS app, a
// node:http or Python http.server / wsgiref server, a Go net/http server), an
// application context or microservice without one (a worker), or a
// command-line program. JavaScript, TypeScript, Python and Go.
void ScanHowItRuns(const std::string& path, const std::string& t, Service& s) {
  const bool js = EndsWith(path, ".ts") || EndsWith(path, ".js") || EndsWith(path, ".mjs") ||
                  EndsWith(path, ".cjs");
  const bool py = EndsWith(path, ".py");
  if (js) {
    if (t.find("NestFactory.create(") != std::string::npos ||
        t.find("NestFactory.create<") != std::string::npos ||
        t.find("createServer(") != std::string::npos) {
      s.serves_http = true;
    }
    if (t.find("NestFactory.createApplicationContext(") != std::string::npos ||
        t.find("NestFactory.createMicroservice") != std::string::npos) {
      s.runs_headless = true;
    }
    // What it imports: packages of the repository (an edge of the monorepo
    // graph, by npm name or tsconfig path alias) and client libraries of
    // backing servers (in a monorepo whose root package.json holds every
    // dependency, the import says which package uses which).
    static const std::vector<std::pair<std::string, std::string>> kClients = {
        {"ioredis", "redis"},    {"redis", "redis"},     {"bullmq", "redis"},
        {"bull", "redis"},       {"pg", "postgres"},     {"postgres", "postgres"},
        {"mysql2", "mysql"},     {"mongodb", "mongodb"}, {"mongoose", "mongodb"},
        {"amqplib", "rabbitmq"}, {"kafkajs", "kafka"},   {"nats", "nats"}};
    for (const char* lead : {"from '", "from \"", "require('", "require(\"", "import('"}) {
      const std::string l(lead);
      for (std::size_t at = t.find(l); at != std::string::npos; at = t.find(l, at + 1)) {
        const char quote = l.back();
        const std::size_t b = at + l.size();
        const auto e = t.find(quote, b);
        if (e == std::string::npos || e - b > 200) continue;
        const std::string spec = t.substr(b, e - b);
        if (spec.empty() || spec[0] == '.' || spec[0] == '/') continue;
        // The package: "@scope/name" or "name" (what follows is a path in it).
        std::size_t cut = spec.find('/');
        if (spec[0] == '@' && cut != std::string::npos) cut = spec.find('/', cut + 1);
        const std::string pkg = spec.substr(0, cut);
        if (s.uses.size() < 2000)
          s.uses.emplace_back(pkg, Evidence{path, LineOf(t, at), LineText(t, at)});
        for (const auto& [client, svc] : kClients) {
          // (Evidence named "import PKG": a client library, as a manifest's
          // dependency is; MarkOptionalBacking weighs it so.)
          if (pkg == client) s.AddBacking(svc, {path, LineOf(t, at), "import " + pkg});
        }
      }
    }
    if (t.find("from 'nestjs-command'") != std::string::npos ||
        t.find("from \"nestjs-command\"") != std::string::npos ||
        t.find("CommandFactory.run(") != std::string::npos) {
      s.is_cli = true;
    }
  }
  if (EndsWith(path, ".cs")) {
    // ASP.NET Core: endpoints mapped (Map* other than health and gRPC, or
    // controllers) serve HTTP; MapGrpcService serves gRPC; a hosted service
    // runs in the background.
    for (std::size_t at = t.find(".Map"); at != std::string::npos; at = t.find(".Map", at + 4)) {
      std::size_t e = at + 4;
      while (e < t.size() && IdentChar(t[e])) ++e;
      const std::string m = t.substr(at + 1, e - at - 1);
      if (m.size() < 4 || !std::isupper(static_cast<unsigned char>(m[3]))) continue;
      if (m == "MapGrpcService") {
        s.serves_grpc = true;
      } else if (m != "MapDefaultEndpoints" && m != "MapHealthChecks" &&
                 m != "MapGrpcHealthChecksService" && m != "MapGrpcReflectionService" &&
                 m != "MapPrometheusScrapingEndpoint") {
        s.serves_http = true;
      }
    }
    if (t.find("UseEndpoints(") != std::string::npos) s.serves_http = true;
    if (t.find("AddHostedService<") != std::string::npos) s.runs_headless = true;
    // Aspire's client integrations: the connection string ConnectionStrings__NAME
    // (given by the AppHost, or by whoever deploys it) and the server it names.
    static const std::vector<std::pair<std::string, std::string>> kAspire = {
        {"AddNpgsqlDbContext", "postgres"},    {"AddNpgsqlDataSource", "postgres"},
        {"AddSqlServerDbContext", ""},         {"AddMySqlDataSource", "mysql"},
        {"AddMySqlDbContext", "mysql"},        {"AddRedisClient", "redis"},
        {"AddRedisDistributedCache", "redis"}, {"AddRedisOutputCache", "redis"},
        {"AddRabbitMQClient", "rabbitmq"},     {"AddRabbitMqEventBus", "rabbitmq"},
        {"AddMongoDBClient", "mongodb"},       {"AddKafkaProducer", "kafka"},
        {"AddKafkaConsumer", "kafka"},         {"AddNatsClient", "nats"}};
    for (const auto& [call, svc] : kAspire) {
      for (std::size_t at = t.find(call); at != std::string::npos; at = t.find(call, at + 1)) {
        const auto q = t.find('"', at + call.size());
        const auto paren = t.find('(', at + call.size());
        if (q == std::string::npos || paren == std::string::npos || q > paren + 3) continue;
        const auto end = t.find('"', q + 1);
        if (end == std::string::npos || end - q > 80) continue;
        const std::string name = t.substr(q + 1, end - q - 1);
        const Evidence ev{path, LineOf(t, at), LineText(t, at)};
        if (!svc.empty()) s.AddBacking(svc, ev);
        if (!name.empty()) s.AddEnv("ConnectionStrings__" + name, true, true, std::nullopt, ev);
      }
    }
    for (std::size_t at = t.find("GetConnectionString(\""); at != std::string::npos;
         at = t.find("GetConnectionString(\"", at + 1)) {
      const auto end = t.find('"', at + 21);
      if (end == std::string::npos || end - at > 100) continue;
      s.AddEnv("ConnectionStrings__" + t.substr(at + 21, end - at - 21), true, true, std::nullopt,
               {path, LineOf(t, at), LineText(t, at)});
    }
  }
  if (EndsWith(path, ".java") || EndsWith(path, ".kt")) {
    if (t.find("ServerBuilder.forPort(") != std::string::npos ||
        t.find("NettyServerBuilder") != std::string::npos) {
      s.serves_grpc = true;
    }
    if (t.find("@RestController") != std::string::npos ||
        t.find("@Controller") != std::string::npos || t.find("@GetMapping") != std::string::npos ||
        t.find("HttpServer.create(") != std::string::npos) {
      s.serves_http = true;
    }
  }
  if (py && (t.find("http.server") != std::string::npos ||
             t.find("wsgiref.simple_server") != std::string::npos ||
             t.find("socketserver.TCPServer(") != std::string::npos)) {
    if (t.find("serve_forever(") != std::string::npos) {
      s.serves_http = true;
      if (s.kind.empty()) s.kind.Add("web", 0.6, {path, 0, "a standard-library HTTP server"});
    }
  }
}

// Settings read from the environment by declaration rather than by call:
// Go structs bound by viper (`mapstructure:"NAME"` with AutomaticEnv) and
// pydantic's BaseSettings (a field without a default is required).
void ScanDeclaredSettings(const std::string& path, const std::string& t, Service& s) {
  if (EndsWith(path, ".go") && t.find("mapstructure:\"") != std::string::npos &&
      (t.find("AutomaticEnv()") != std::string::npos || t.find("viper.") != std::string::npos)) {
    const std::string tag = "mapstructure:\"";
    for (std::size_t at = t.find(tag); at != std::string::npos; at = t.find(tag, at + 1)) {
      const auto end = t.find('"', at + tag.size());
      if (end == std::string::npos) break;
      const std::string name = t.substr(at + tag.size(), end - at - tag.size());
      if (IsEnvName(name))
        s.AddEnv(name, false, false, std::nullopt, {path, LineOf(t, at), LineText(t, at)});
    }
  }
  if (EndsWith(path, ".py") && t.find("BaseSettings") != std::string::npos) {
    std::istringstream in(t);
    std::string line;
    int n = 0;
    bool in_settings = false;
    while (std::getline(in, line)) {
      ++n;
      if (line.rfind("class ", 0) == 0) {
        in_settings = line.find("BaseSettings") != std::string::npos;
        continue;
      }
      if (!in_settings) continue;
      if (!line.empty() && line[0] != ' ' && line[0] != '\t') {
        in_settings = false;
        continue;
      }
      // "    NAME: type" or "    NAME: type = default", at the class's own indent.
      std::size_t i = line.find_first_not_of(" \t");
      if (i > 4 || line[i] == '#' || line[i] == '@') continue;  // npos > 4 too
      std::size_t j = i;
      while (j < line.size() && IdentChar(line[j])) ++j;
      if (j == i || j >= line.size() || line[j] != ':' || line.compare(i, 6, "model_") == 0)
        continue;
      std::string name = line.substr(i, j - i);
      for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!IsEnvName(name)) continue;
      const auto eq = line.find('=', j);
      const bool has_default = eq != std::string::npos;
      std::optional<std::string> def;
      if (has_default) {
        std::string v = line.substr(eq + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        if (v.size() >= 2 && (v[0] == '"' || v[0] == '\'') && v.back() == v[0])
          v = v.substr(1, v.size() - 2);
        def = v;
      }
      std::string text = line.substr(i);
      s.AddEnv(name, !has_default, false, def, {path, n, text});
    }
  }
}

void ScanSources(RepoIndex& idx, Services& out) {
  std::vector<std::string> paths;
  for (const auto& path : idx.Sources()) {
    if (IsScannedSource(path) && Owner(out, path)) paths.push_back(path);
  }
  idx.ReadEach(paths, [&](const std::string& path, const std::string& text) {
    Service& s = *Owner(out, path);
    // Cheap tests first: most files read no environment and open no port.
    if (text.find("env") != std::string::npos || text.find("ENV") != std::string::npos ||
        text.find("Env") != std::string::npos) {
      ScanEnvReads(path, text, s);
    }
    if (text.find("isten") != std::string::npos || text.find("un(") != std::string::npos ||
        text.find("port") != std::string::npos || text.find("PORT") != std::string::npos) {
      ScanPorts(path, text, s);
    }
    if ((text.find("'/") != std::string::npos || text.find("\"/") != std::string::npos ||
         text.find("`/") != std::string::npos)) {
      ScanHealth(path, text, s);
    }
    ScanHowItRuns(path, text, s);
    if (text.find("mapstructure") != std::string::npos ||
        text.find("BaseSettings") != std::string::npos) {
      ScanDeclaredSettings(path, text, s);
    }
  });
  // Connection URLs name their backing service by scheme.
  for (auto& [root, s] : out) {
    for (const auto& [name, var] : s.env_vars) {
      if (!var.default_value || var.evidence.empty()) continue;
      const std::string& v = *var.default_value;
      // Laravel and friends name the driver instead of a URL.
      if (name == "DB_CONNECTION" || name == "DB_DRIVER" || name == "DATABASE_ENGINE") {
        if (v == "pgsql" || v == "postgres" || v == "postgresql")
          s.AddBacking("postgres", var.evidence.front());
        if (v == "mysql" || v == "mariadb") s.AddBacking("mysql", var.evidence.front());
      }
      if (auto b = BackingOfUrl(v)) s.AddBacking(*b, var.evidence.front());
    }
  }
}

}  // namespace ps::stages::audit
