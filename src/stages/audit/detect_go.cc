// Go modules: go.mod (module, go and toolchain versions, requirements) and
// the main packages that make services.
#include <sstream>

#include "stages/audit/audit.h"

namespace ps::stages::audit {

namespace {

struct Rule {
  const char* module;
  const char* value;
};
constexpr Rule kGoFrameworks[] = {
    {"github.com/gin-gonic/gin", "Gin"},   {"github.com/labstack/echo", "Echo"},
    {"github.com/gofiber/fiber", "Fiber"}, {"github.com/go-chi/chi", "Chi"},
    {"github.com/gorilla/mux", "Gorilla"}, {"google.golang.org/grpc", "gRPC"},
};
constexpr Rule kGoBacking[] = {
    {"github.com/jackc/pgx", "postgres"},
    {"github.com/lib/pq", "postgres"},
    {"gorm.io/driver/postgres", "postgres"},
    {"github.com/go-sql-driver/mysql", "mysql"},
    {"gorm.io/driver/mysql", "mysql"},
    {"github.com/redis/go-redis", "redis"},
    {"github.com/go-redis/redis", "redis"},
    {"github.com/gomodule/redigo", "redis"},
    {"go.mongodb.org/mongo-driver", "mongodb"},
    {"github.com/rabbitmq/amqp091-go", "rabbitmq"},
    {"github.com/streadway/amqp", "rabbitmq"},
    {"github.com/segmentio/kafka-go", "kafka"},
    {"github.com/IBM/sarama", "kafka"},
    {"github.com/Shopify/sarama", "kafka"},
    {"github.com/elastic/go-elasticsearch", "elasticsearch"},
    {"github.com/bradfitz/gomemcache", "memcached"},
    {"github.com/aws/aws-sdk-go-v2/service/s3", "s3"},
    {"github.com/minio/minio-go", "s3"},
    {"github.com/nats-io/nats.go", "nats"},
};
constexpr Rule kMigrations[] = {
    {"github.com/pressly/goose", "goose"},
    {"github.com/golang-migrate/migrate", "golang-migrate"},
    {"ariga.io/atlas", "atlas"},
};

}  // namespace

void DetectGo(RepoIndex& idx, Services& out) {
  for (const auto& path : idx.Named("go.mod")) {
    auto text = idx.Read(path);
    if (!text) continue;
    const std::string root = DirOf(path);
    std::string module, go_version, toolchain;
    std::vector<std::pair<std::string, int>> requires_;  // module path, line
    std::istringstream in(*text);
    std::string line;
    int n = 0;
    bool in_require = false;
    while (std::getline(in, line)) {
      ++n;
      auto comment = line.find("//");
      if (comment != std::string::npos) line = line.substr(0, comment);
      std::istringstream words(line);
      std::string w1, w2;
      words >> w1 >> w2;
      if (w1.empty()) continue;
      if (in_require) {
        if (w1 == ")") {
          in_require = false;
        } else {
          requires_.emplace_back(w1, n);
        }
        continue;
      }
      if (w1 == "module") module = w2;
      if (w1 == "go") go_version = w2;
      if (w1 == "toolchain") toolchain = w2;
      if (w1 == "require") {
        if (w2 == "(") {
          in_require = true;
        } else if (!w2.empty()) {
          requires_.emplace_back(w2, n);
        }
      }
    }
    if (module.empty()) {
      idx.Warn(path, "no module line; not a go.mod");
      continue;
    }
    // Main packages under this module.
    std::set<std::string> mains;
    for (const auto& src : idx.Sources()) {
      if (src.size() < 3 || src.substr(src.size() - 3) != ".go") continue;
      if (root != "." && src.rfind(root + "/", 0) != 0) continue;
      if (src.size() > 8 && src.substr(src.size() - 8) == "_test.go") continue;
      auto t = idx.Read(src);
      if (!t) continue;
      auto pos = t->find("package main");
      if (pos != std::string::npos && (pos == 0 || (*t)[pos - 1] == '\n')) mains.insert(DirOf(src));
    }
    // The module's Go files by folder (tests aside), for following imports.
    std::map<std::string, std::vector<std::string>> files_in;
    for (const auto& src : idx.Sources()) {
      if (src.size() < 3 || src.substr(src.size() - 3) != ".go") continue;
      if (root != "." && src.rfind(root + "/", 0) != 0) continue;
      if (src.size() > 8 && src.substr(src.size() - 8) == "_test.go") continue;
      files_in[DirOf(src)].push_back(src);
    }
    if (mains.empty()) {
      Service& lib = ServiceAt(out, root);
      lib.language.Add("Go", 0.95, {path, 1, "module " + module});
      lib.deployable = false;
      lib.package_id = module;  // as other modules of a go.work repository require it
      for (const auto& [mod, line] : requires_)
        lib.uses.emplace_back(mod, Evidence{path, line, mod});
      continue;
    }
    for (const auto& dir : mains) {
      // The module's only command, under cmd/: the module is the service
      // (its code, its Dockerfile and config sit at the module's root).
      const std::string cmd_prefix = root == "." ? "cmd/" : root + "/cmd/";
      const bool sole = mains.size() == 1 && dir.rfind(cmd_prefix, 0) == 0;
      Service& s = ServiceAt(out, sole ? root : dir);
      if (s.name.empty() || s.name == ".") {
        auto slash = module.rfind('/');
        s.name = dir == root || sole ? module.substr(slash == std::string::npos ? 0 : slash + 1)
                                     : dir.substr(dir.rfind('/') + 1);
      }
      s.language.Add("Go", 0.95, {path, 1, "module " + module});
      s.package_manager.Add("go", 0.95, {path, 1, "go modules"});
      if (dir == root || sole) s.package_id = module;
      for (const auto& [mod, line] : requires_) s.uses.emplace_back(mod, Evidence{path, line, mod});
      if (!go_version.empty()) {
        s.runtime_version.Add(Json{{"runtime", "go"}, {"version", go_version}}, 0.85,
                              {path, 0, "go " + go_version});
      }
      if (!toolchain.empty()) {
        s.runtime_version.Add(
            Json{{"runtime", "go"}, {"version", toolchain.substr(toolchain.rfind("go") + 2)}}, 0.9,
            {path, 0, "toolchain " + toolchain});
      }
      std::string pkg = dir == root ? "." : "./" + dir.substr(root == "." ? 0 : root.size() + 1);
      std::string bin = dir == root ? s.name : dir.substr(dir.rfind('/') + 1);
      s.build_command.Add("go build -o bin/" + bin + " " + pkg, 0.8,
                          {path, 0, "main package " + dir});
      s.start_command.Add("./bin/" + bin, 0.6, {path, 0, "built binary"});
      s.test_framework.Add("go test", 0.9, {path, 0, "go"});
      s.test_command.Add("go test ./...", 0.9, {path, 0, "go"});
      // The framework is what the main package imports, itself or through
      // the module's own packages (a thin main.go calling server.Start());
      // the module's other requirements may serve another command.
      std::string imports;
      {
        std::set<std::string> seen;
        std::vector<std::string> todo = {dir};
        const std::string prefix = "\"" + module + "/";
        while (!todo.empty() && seen.size() < 300 && imports.size() < (8u << 20)) {
          const std::string d = todo.back();
          todo.pop_back();
          if (!seen.insert(d).second) continue;
          auto it = files_in.find(d);
          if (it == files_in.end()) continue;
          for (const auto& src : it->second) {
            auto t = idx.Read(src);
            if (!t) continue;
            imports += *t;
            for (std::size_t at = t->find(prefix); at != std::string::npos;
                 at = t->find(prefix, at + prefix.size())) {
              const auto end = t->find('"', at + prefix.size());
              if (end == std::string::npos || end - at > 300) break;
              todo.push_back(
                  JoinPath(root, t->substr(at + prefix.size(), end - at - prefix.size())));
            }
          }
        }
      }
      bool framework = false;
      // gRPC counts as the protocol served only with a server (grpc.NewServer):
      // a client of another service imports the same package.
      const bool grpc_server = imports.find("grpc.NewServer(") != std::string::npos;
      const bool http_server = imports.find("ListenAndServe") != std::string::npos ||
                               imports.find("http.Server{") != std::string::npos;
      for (const auto& [mod, line] : requires_) {
        for (const auto& f : kGoFrameworks) {
          const bool is_grpc = std::string(f.value) == "gRPC";
          if (mod.rfind(f.module, 0) == 0 &&
              imports.find("\"" + std::string(f.module)) != std::string::npos &&
              (!is_grpc || grpc_server)) {
            s.framework.Add(f.value, is_grpc && http_server ? 0.6 : 0.85, {path, line, mod});
            s.kind.Add(is_grpc && !http_server ? "grpc" : "web", is_grpc ? 0.6 : 0.7,
                       {path, line, mod});
            framework = true;
          }
        }
        for (const auto& b : kGoBacking) {
          if (mod.rfind(b.module, 0) == 0) s.AddBacking(b.value, {path, line, mod});
        }
        for (const auto& m : kMigrations) {
          if (mod.rfind(m.module, 0) == 0) {
            s.migrations.Add(Json{{"tool", m.value}, {"dir", idx.MigrationDirUnder(root)}}, 0.7,
                             {path, line, mod});
          }
        }
      }
      if (!framework && imports.find("\"net/http\"") != std::string::npos) {
        s.framework.Add("net/http", 0.6, {path, 0, "standard library"});
      }
      // A server of the standard library (or any that embeds one).
      if (http_server) s.kind.Add("web", 0.65, {path, 0, "an HTTP server (ListenAndServe)"});
      // GORM keeps the schema by AutoMigrate.
      if (imports.find("\"gorm.io/gorm\"") != std::string::npos &&
          imports.find(".AutoMigrate(") != std::string::npos) {
        s.migrations.Add(Json{{"tool", "gorm"}, {"dir", nullptr}, {"command", nullptr}}, 0.75,
                         {path, 0, "gorm AutoMigrate"});
      }
    }
  }
}

}  // namespace ps::stages::audit
