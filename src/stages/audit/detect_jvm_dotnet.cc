// Java and Kotlin (Maven, Gradle: Spring Boot, Quarkus, Micronaut) and .NET
// (SDK-style projects: ASP.NET Core, worker services).
#include <algorithm>
#include <cctype>

#include "stages/audit/audit.h"

namespace ps::stages::audit {

namespace {

// Text between <tag> and </tag> after `from`; tolerant of malformed XML.
std::optional<std::string> TagText(const std::string& xml, const std::string& tag,
                                   std::size_t from = 0, std::size_t* at = nullptr) {
  auto open = xml.find("<" + tag + ">", from);
  if (open == std::string::npos) return std::nullopt;
  auto start = open + tag.size() + 2;
  auto close = xml.find("</" + tag + ">", start);
  if (close == std::string::npos || close - start > 500) return std::nullopt;
  if (at) *at = open;
  std::string v = xml.substr(start, close - start);
  v.erase(0, v.find_first_not_of(" \t\r\n"));
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  return v;
}

// A POM with the blocks that hold other projects' coordinates blanked (same
// length, newlines kept), so that TagText finds the project's own elements.
std::string OwnElements(const std::string& pom) {
  std::string out = pom;
  for (const char* block :
       {"parent", "dependencies", "dependencyManagement", "build", "profiles", "reporting",
        "pluginRepositories", "repositories", "distributionManagement"}) {
    const std::string open = std::string("<") + block + ">";
    const std::string close = std::string("</") + block + ">";
    std::size_t from = 0;
    while (true) {
      auto a = out.find(open, from);
      if (a == std::string::npos) break;
      auto b = out.find(close, a);
      if (b == std::string::npos) b = out.size() - close.size();
      for (std::size_t i = a; i < b + close.size(); ++i) {
        if (out[i] != '\n') out[i] = ' ';
      }
      from = b + close.size();
    }
  }
  return out;
}

bool HasSourcesUnder(const RepoIndex& idx, const std::string& dir) {
  for (const auto& p : idx.Sources()) {
    if (p.rfind(dir + "/", 0) == 0) return true;
  }
  return false;
}

struct JvmRule {
  const char* needle;
  const char* framework;
};
constexpr JvmRule kJvmFrameworks[] = {
    {"spring-boot", "Spring Boot"}, {"org.springframework.boot", "Spring Boot"},
    {"io.quarkus", "Quarkus"},      {"quarkus-", "Quarkus"},
    {"io.micronaut", "Micronaut"},  {"micronaut-", "Micronaut"},
};
constexpr std::pair<const char*, const char*> kJvmBacking[] = {
    {"postgresql", "postgres"},
    {"mysql-connector", "mysql"},
    {"mariadb-java-client", "mysql"},
    {"data-redis", "redis"},
    {"jedis", "redis"},
    {"lettuce", "redis"},
    {"data-mongodb", "mongodb"},
    {"mongodb-driver", "mongodb"},
    {"starter-amqp", "rabbitmq"},
    {"amqp-client", "rabbitmq"},
    {"spring-kafka", "kafka"},
    {"kafka-clients", "kafka"},
    {"elasticsearch", "elasticsearch"},
    {"awssdk", "s3"},
    {"aws-java-sdk-s3", "s3"},
};

void JvmCommon(RepoIndex& idx, Service& s, const std::string& path, const std::string& text,
               bool gradle) {
  const std::string root = DirOf(path);
  std::string framework;
  for (const auto& r : kJvmFrameworks) {
    auto pos = text.find(r.needle);
    if (pos != std::string::npos) {
      s.framework.Add(r.framework, 0.9, {path, LineOf(text, pos), r.needle});
      s.kind.Add("web", 0.7, {path, LineOf(text, pos), r.needle});
      s.port.Add(8080, 0.3, {path, LineOf(text, pos), std::string(r.framework) + " default port"});
      framework = r.framework;
      break;
    }
  }
  const bool kotlin = text.find("kotlin") != std::string::npos;
  s.language.Add(kotlin ? "Kotlin" : "Java", kotlin ? 0.8 : 0.85,
                 {path, 0, gradle ? "Gradle build" : "Maven build"});
  s.package_manager.Add(gradle ? "gradle" : "maven", 0.95, {path, 0, gradle ? "Gradle" : "Maven"});
  // The wrapper of a multi-project build sits at its root, above modules:
  // commands run from the service's folder call it there.
  std::string up, wrapper_dir;
  for (std::string d = root;; d = DirOf(d)) {
    if (idx.Has(JoinPath(d, gradle ? "gradlew" : "mvnw"))) {
      wrapper_dir = d;
      break;
    }
    if (d == ".") break;
    up += "../";
  }
  const bool wrapper = !wrapper_dir.empty();
  const std::string tool = gradle ? (wrapper ? (up.empty() ? "./" : up) + "gradlew" : "gradle")
                                  : (wrapper ? (up.empty() ? "./" : up) + "mvnw" : "mvn");
  // A Maven module is built from the aggregator with what it depends on.
  const std::string maven_scope =
      !gradle && wrapper && !up.empty()
          ? " -f " + up + "pom.xml -pl " +
                root.substr(wrapper_dir == "." ? 0 : wrapper_dir.size() + 1) + " -am"
          : "";
  if (gradle) {
    s.build_command.Add(tool + " build -x test", 0.8, {path, 0, "gradle"});
    s.test_command.Add(tool + " test", 0.85, {path, 0, "gradle"});
    s.start_command.Add(framework == "Quarkus" ? "java -jar build/quarkus-app/quarkus-run.jar"
                                               : "java -jar build/libs/app.jar",
                        0.5, {path, 0, "built jar"});
  } else {
    s.build_command.Add(tool + " -B" + maven_scope + " package -DskipTests", 0.8,
                        {path, 0, "maven"});
    s.test_command.Add(tool + " -B" + maven_scope + " test", 0.85, {path, 0, "maven"});
    s.start_command.Add(framework == "Quarkus" ? "java -jar target/quarkus-app/quarkus-run.jar"
                                               : "java -jar target/app.jar",
                        0.5, {path, 0, "built jar"});
  }
  s.test_framework.Add("junit", 0.6, {path, 0, "JVM default"});
  for (const auto& [needle, svc] : kJvmBacking) {
    auto pos = text.find(needle);
    if (pos != std::string::npos) s.AddBacking(svc, {path, LineOf(text, pos), needle});
  }
  for (const auto& [needle, route] : std::vector<std::pair<std::string, std::string>>{
           {"spring-boot-starter-actuator", "/actuator/health"},
           {"micronaut-management", "/health"},
           {"quarkus-smallrye-health", "/q/health"}}) {
    auto pos = text.find(needle);
    if (pos != std::string::npos) s.healthcheck.Add(route, 0.75, {path, LineOf(text, pos), needle});
  }
  for (const auto& [needle, tool_name, dir] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"flyway", "flyway", "src/main/resources/db/migration"},
           {"liquibase", "liquibase", "src/main/resources/db/changelog"}}) {
    auto pos = text.find(needle);
    if (pos != std::string::npos) {
      s.migrations.Add(Json{{"tool", tool_name}, {"dir", JoinPath(root, dir)}}, 0.85,
                       {path, LineOf(text, pos), needle});
    }
  }
}

}  // namespace

namespace {

// What a Spring Boot, Micronaut or Quarkus service's configuration files say:
// server.port (or micronaut.server.port, quarkus.http.port), and the
// environment it reads through ${NAME:default} placeholders.
void JvmConfig(RepoIndex& idx, Service& s, const std::string& root) {
  for (const char* name : {"application.properties", "application.yml", "application.yaml"}) {
    for (const auto& p : idx.Under(root, name)) {
      if (p.find("/test/") != std::string::npos) continue;  // test configuration
      auto t = idx.Read(p);
      if (!t) continue;
      std::size_t pos = std::string::npos, after = 0;
      for (const char* key : {"server.port", "quarkus.http.port"}) {
        pos = t->find(key);
        if (pos != std::string::npos) {
          after = pos + std::string(key).size();
          break;
        }
      }
      if (pos == std::string::npos) {
        auto server = t->find("server:");
        auto port = server == std::string::npos ? server : t->find("port:", server);
        if (port != std::string::npos && port - server < 80) {
          pos = port;
          after = port + 5;
        }
      }
      if (pos != std::string::npos) {
        std::size_t i = after;
        while (i < t->size() && ((*t)[i] == ' ' || (*t)[i] == '=' || (*t)[i] == ':')) ++i;
        // server.port=${PORT:8080}: the default is the port.
        if (t->compare(i, 2, "${") == 0) {
          auto colon = t->find(':', i);
          auto close = t->find('}', i);
          if (colon != std::string::npos && colon < close) i = colon + 1;
        }
        std::size_t j = i;
        while (j < t->size() && std::isdigit(static_cast<unsigned char>((*t)[j]))) ++j;
        int port = j > i && j - i <= 5 ? std::stoi(t->substr(i, j - i)) : 0;
        if (port > 0 && port < 65536)
          s.port.Add(port, 0.8, {p, LineOf(*t, pos), t->substr(pos, j - pos)});
      }
      // ${NAME} and ${NAME:default}: environment variables by convention
      // when the name is upper case (lower-case names are other properties).
      for (std::size_t at = t->find("${"); at != std::string::npos; at = t->find("${", at + 2)) {
        auto close = t->find('}', at);
        if (close == std::string::npos || close - at > 300) continue;
        std::string inner = t->substr(at + 2, close - at - 2);
        auto colon = inner.find(':');
        std::string var = inner.substr(0, colon);
        if (!IsEnvName(var)) continue;
        std::optional<std::string> def;
        if (colon != std::string::npos) {
          std::string d = inner.substr(colon + 1);
          if (d.size() >= 2 && (d.front() == '`' || d.front() == '"' || d.front() == '\'') &&
              d.back() == d.front())
            d = d.substr(1, d.size() - 2);
          if (!d.empty()) def = d;
        }
        const int line = LineOf(*t, at);
        s.AddEnv(var, colon == std::string::npos, false, def,
                 {p, line, IsSecretName(var) ? var : LineTextAt(*t, at)});
      }
    }
  }
}

}  // namespace

void DetectJvm(RepoIndex& idx, Services& out) {
  for (const auto& path : idx.Named("pom.xml")) {
    auto text = idx.Read(path);
    if (!text) continue;
    if (text->find("<project") == std::string::npos) {
      idx.Warn(path, "no <project> element; not a Maven POM");
      continue;
    }
    const std::string root = DirOf(path);
    Service& s = ServiceAt(out, root);
    // The project's own elements: nested blocks (parent, dependencies,
    // build...) blanked out, offsets kept for line numbers.
    const std::string own = OwnElements(*text);
    if (auto a = TagText(own, "artifactId")) {
      s.name = *a;
      s.package_id = *a;
    }
    // Dependencies by artifactId: a sibling module's is an edge of the graph.
    for (std::size_t at = text->find("<dependency>"); at != std::string::npos;
         at = text->find("<dependency>", at + 1)) {
      std::size_t a_at = 0;
      if (auto a = TagText(*text, "artifactId", at, &a_at)) {
        s.uses.emplace_back(
            *a, Evidence{path, LineOf(*text, a_at), "<artifactId>" + *a + "</artifactId>"});
      }
    }
    JvmCommon(idx, s, path, *text, false);
    if (!s.framework.empty()) JvmConfig(idx, s, root);
    if (TagText(own, "packaging").value_or("") == "pom" ||
        text->find("<modules>") != std::string::npos) {
      s.deployable = false;  // an aggregator of modules
    }
    // The Java version: this POM's properties, else an aggregator's above it
    // (a module inherits its parent's properties).
    for (std::string d = root, pom = path;;) {
      auto t = pom == path ? text : idx.Read(pom);
      bool found = false;
      for (const char* prop : {"java.version", "maven.compiler.release", "release.version",
                               "jdk.version", "maven.compiler.source", "maven.compiler.target"}) {
        std::size_t at = 0;
        if (auto v = t ? TagText(*t, prop, 0, &at) : std::nullopt) {
          s.runtime_version.Add(Json{{"runtime", "java"}, {"version", *v}},
                                pom == path ? 0.85 : 0.75, {pom, LineOf(*t, at), prop});
          found = true;
          break;
        }
      }
      if (found || d == ".") break;
      d = DirOf(d);
      pom = JoinPath(d, "pom.xml");
      if (!idx.Has(pom)) break;
    }
    if (s.framework.empty() && !text->empty() && s.deployable)
      s.deployable = text->find("<mainClass>") != std::string::npos;
  }
  for (const char* name : {"build.gradle", "build.gradle.kts"}) {
    for (const auto& path : idx.Named(name)) {
      auto text = idx.Read(path);
      if (!text) continue;
      const std::string root = DirOf(path);
      Service& s = ServiceAt(out, root);
      // Gradle's project path (":api", ":services:billing") from the
      // nearest settings file at or above the project, and its name.
      std::string settings_dir;
      std::optional<std::string> settings;
      for (std::string d = root;; d = DirOf(d)) {
        for (const char* f : {"settings.gradle.kts", "settings.gradle"}) {
          if (!settings && idx.Has(JoinPath(d, f))) {
            settings = idx.Read(JoinPath(d, f));
            settings_dir = d;
          }
        }
        if (settings || d == ".") break;
      }
      if (settings) {
        std::string rel = root == settings_dir  ? ""
                          : settings_dir == "." ? root
                                                : root.substr(settings_dir.size() + 1);
        std::replace(rel.begin(), rel.end(), '/', ':');
        s.package_id = ":" + rel;
        auto rp = settings->find("rootProject.name");
        if (root == settings_dir && rp != std::string::npos) {
          auto q = settings->find_first_of("'\"", rp);
          auto e = q == std::string::npos ? q : settings->find((*settings)[q], q + 1);
          if (e != std::string::npos && e - q < 100) s.name = settings->substr(q + 1, e - q - 1);
        }
        // The root of a multi-project build only configures its subprojects.
        if (root == settings_dir && settings->find("include") != std::string::npos &&
            !HasSourcesUnder(idx, JoinPath(root, "src/main"))) {
          s.deployable = false;
        }
      }
      for (std::size_t at = text->find("project("); at != std::string::npos;
           at = text->find("project(", at + 1)) {
        auto q = text->find_first_of("'\"", at);
        if (q == std::string::npos || q > at + 10) continue;
        auto e = text->find((*text)[q], q + 1);
        if (e == std::string::npos || e - q > 200) continue;
        const std::string ref = text->substr(q + 1, e - q - 1);
        if (!ref.empty() && ref[0] == ':')
          s.uses.emplace_back(ref, Evidence{path, LineOf(*text, at), LineTextAt(*text, at)});
      }
      JvmCommon(idx, s, path, *text, true);
      if (!s.framework.empty()) JvmConfig(idx, s, root);
      // The Java version: a toolchain or sourceCompatibility, digits soon after.
      for (const char* key : {"JavaLanguageVersion.of(", "jvmToolchain(", "sourceCompatibility"}) {
        auto pos = text->find(key);
        if (pos == std::string::npos) continue;
        std::size_t i = pos + std::string(key).size();
        const std::size_t limit = std::min(text->size(), i + 40);
        while (i < limit && !std::isdigit(static_cast<unsigned char>((*text)[i]))) ++i;
        std::size_t j = i;
        while (j < limit &&
               (std::isdigit(static_cast<unsigned char>((*text)[j])) || (*text)[j] == '_'))
          ++j;
        if (j == i) continue;
        std::string v = text->substr(i, j - i);
        if (v.rfind("1_", 0) == 0) v = v.substr(2);  // JavaVersion.VERSION_1_8
        std::replace(v.begin(), v.end(), '_', '.');
        s.runtime_version.Add(Json{{"runtime", "java"}, {"version", v}}, 0.85,
                              {path, LineOf(*text, pos), key});
        break;
      }
      if (s.framework.empty() && text->find("application") == std::string::npos)
        s.deployable = false;
      // A program with a main class and no server framework: a worker.
      auto main_class = text->find("mainClass");
      if (s.framework.empty() && s.deployable && main_class != std::string::npos)
        s.kind.Add("worker", 0.5, {path, LineOf(*text, main_class), LineTextAt(*text, main_class)});
    }
  }
}

namespace {

// "A:B" leaves of a JSON document, with their values as text.
void Leaves(const Json& j, const std::string& prefix, std::map<std::string, std::string>& out,
            int depth = 0) {
  if (depth > 16) return;
  if (j.is_object()) {
    for (const auto& [k, v] : j.items())
      Leaves(v, prefix.empty() ? k : prefix + "__" + k, out, depth + 1);
  } else if (!j.is_array() && !prefix.empty()) {
    out[prefix] = j.is_string() ? j.get<std::string>() : j.dump();
  }
}

}  // namespace

void DotnetSettings(RepoIndex& idx, const std::string& dir, Service& s) {
  std::map<std::string, std::string> base, dev;
  const std::string main = JoinPath(dir, "appsettings.json");
  if (auto j = idx.ReadJson(main)) Leaves(*j, "", base);
  for (const auto& p : idx.Named("@appsettings")) {
    if (DirOf(p) != dir || p == main) continue;
    const std::string b = p.substr(p.rfind('/') == std::string::npos ? 0 : p.rfind('/') + 1);
    if (b.find("Development") == std::string::npos && b.find("Testing") == std::string::npos &&
        b.find("Local") == std::string::npos && b.find("Test") == std::string::npos)
      continue;
    if (auto j = idx.ReadJson(p)) {
      std::map<std::string, std::string> leaves;
      Leaves(*j, "", leaves);
      for (auto& [k, v] : leaves) dev.emplace(k, p);
    }
  }
  for (const auto& [key, file] : dev) {
    auto it = base.find(key);
    if (it != base.end() && !it->second.empty()) continue;
    if (key.rfind("Logging__", 0) == 0 || key == "AllowedHosts") continue;
    s.AddEnv(key, true, false, std::nullopt, {file, 0, key + " is set only outside production"});
  }
  // A key left empty in appsettings.json is one the deployment must fill.
  for (const auto& [key, value] : base) {
    if (!value.empty() || value == "null" || key.rfind("Logging__", 0) == 0) continue;
    s.AddEnv(key, true, false, std::nullopt, {main, 0, key + " is empty in appsettings.json"});
  }
}

void DetectDotnet(RepoIndex& idx, Services& out) {
  for (const auto& path : idx.Named("@dotnet-project")) {
    auto text = idx.Read(path);
    if (!text) continue;
    if (text->find("<Project") == std::string::npos) {
      idx.Warn(path, "no <Project> element; not an SDK-style project");
      continue;
    }
    std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    const std::string project = base.substr(0, base.rfind('.'));
    const bool tests = text->find("Microsoft.NET.Test.Sdk") != std::string::npos;
    if (tests) {
      // Tests of another project: the service keeps its own root; note the
      // command on every .NET service of the repository.
      for (auto& [root, s] : out) {
        if (s.package_manager.value() == "dotnet") {
          s.test_command.Add("dotnet test", 0.85, {path, 0, "test project"});
          for (const char* fw : {"xunit", "nunit", "MSTest"}) {
            if (text->find(fw) != std::string::npos) s.test_framework.Add(fw, 0.9, {path, 0, fw});
          }
        }
      }
      continue;
    }
    Service& s = ServiceAt(out, DirOf(path));
    s.name = project;
    s.language.Add(base.size() > 7 && base.substr(base.size() - 7) == ".fsproj" ? "F#" : "C#", 0.9,
                   {path, 0, base});
    // An Aspire AppHost runs the others on a developer's machine; a MAUI app
    // is installed on devices: neither is deployed as a service.
    const bool apphost = text->find("Aspire.AppHost.Sdk") != std::string::npos ||
                         text->find("<IsAspireHost>true") != std::string::npos;
    const bool maui = text->find("<UseMaui>true") != std::string::npos;
    s.package_manager.Add("dotnet", 0.95, {path, 0, base});
    s.build_command.Add("dotnet publish -c Release -o out", 0.8, {path, 0, base});
    s.start_command.Add("dotnet out/" + project + ".dll", 0.6, {path, 0, base});
    std::size_t at = 0;
    if (auto tf = TagText(*text, "TargetFramework", 0, &at)) {
      std::string v = *tf;
      if (v.rfind("net", 0) == 0) v = v.substr(3);
      s.runtime_version.Add(Json{{"runtime", "dotnet"}, {"version", v}}, 0.9,
                            {path, LineOf(*text, at), *tf});
    }
    if (text->find("Microsoft.NET.Sdk.Web") != std::string::npos) {
      s.framework.Add("ASP.NET Core", 0.95, {path, 1, "Microsoft.NET.Sdk.Web"});
      s.kind.Add("web", 0.9, {path, 1, "Microsoft.NET.Sdk.Web"});
      s.port.Add(8080, 0.3, {path, 1, "ASP.NET Core container default port"});
    } else if (text->find("Microsoft.NET.Sdk.Worker") != std::string::npos) {
      s.framework.Add(".NET Worker Service", 0.95, {path, 1, "Microsoft.NET.Sdk.Worker"});
      s.kind.Add("worker", 0.9, {path, 1, "Microsoft.NET.Sdk.Worker"});
    } else if (text->find("Grpc.AspNetCore") != std::string::npos) {
      s.framework.Add("gRPC", 0.9, {path, 0, "Grpc.AspNetCore"});
      s.kind.Add("grpc", 0.9, {path, 0, "Grpc.AspNetCore"});
    } else if (auto out_type = TagText(*text, "OutputType", 0, &at);
               out_type && (*out_type == "Exe" || *out_type == "WinExe")) {
      // A console program: a worker when it runs on (a Dockerfile, compose
      // and friends say it is deployed; otherwise a tool).
      s.kind.Add("worker", 0.6, {path, LineOf(*text, at), "OutputType Exe"});
    } else {
      s.deployable = false;  // a class library
    }
    // The repository's projects it references: the monorepo graph (their
    // packages and settings are its own too).
    s.package_id = project;
    for (std::size_t pr = text->find("<ProjectReference"); pr != std::string::npos;
         pr = text->find("<ProjectReference", pr + 1)) {
      const auto inc = text->find("Include=\"", pr);
      const auto close = text->find('>', pr);
      if (inc == std::string::npos || inc > close) continue;
      const auto end = text->find('"', inc + 9);
      if (end == std::string::npos) break;
      std::string ref = text->substr(inc + 9, end - inc - 9);
      std::replace(ref.begin(), ref.end(), '\\', '/');
      std::string name = ref.substr(ref.rfind('/') == std::string::npos ? 0 : ref.rfind('/') + 1);
      name = name.substr(0, name.rfind('.'));
      s.uses.emplace_back(name, Evidence{path, LineOf(*text, pr), ref});
    }
    if (apphost || maui) s.deployable = false;
    // Settings the environment must give: keys set in appsettings.Development
    // (or Testing, Local) but absent or empty in appsettings.json come from
    // variables named Section__Key in production.
    DotnetSettings(idx, DirOf(path), s);
    for (const auto& [pkg, svc] : std::vector<std::pair<std::string, std::string>>{
             {"Npgsql", "postgres"},
             {"MySqlConnector", "mysql"},
             {"Pomelo.EntityFrameworkCore.MySql", "mysql"},
             {"StackExchange.Redis", "redis"},
             {"Microsoft.Extensions.Caching.StackExchangeRedis", "redis"},
             {"Aspire.StackExchange.Redis", "redis"},
             {"Aspire.Npgsql", "postgres"},
             {"Aspire.RabbitMQ.Client", "rabbitmq"},
             {"MongoDB.Driver", "mongodb"},
             {"RabbitMQ.Client", "rabbitmq"},
             {"MassTransit.RabbitMQ", "rabbitmq"},
             {"Confluent.Kafka", "kafka"},
             {"AWSSDK.S3", "s3"},
             {"Elastic.Clients.Elasticsearch", "elasticsearch"}}) {
      auto pos = text->find("\"" + pkg);
      if (pos != std::string::npos) s.AddBacking(svc, {path, LineOf(*text, pos), pkg});
    }
    auto ef = text->find("Microsoft.EntityFrameworkCore");
    if (ef != std::string::npos) {
      s.migrations.Add(Json{{"tool", "ef-core"},
                            {"dir", JoinPath(DirOf(path), "Migrations")},
                            {"command", "dotnet ef database update"}},
                       0.8, {path, LineOf(*text, ef), "Microsoft.EntityFrameworkCore"});
    }
  }
  for (const auto& path : idx.Named("global.json")) {
    auto text = idx.Read(path);
    if (!text) continue;
    Json doc = Json::parse(*text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("sdk") || !doc["sdk"].is_object())
      continue;
    std::string v = doc["sdk"].value("version", "");
    if (v.empty()) continue;
    for (auto& [root, s] : out) {
      if (s.package_manager.value() == "dotnet" &&
          (DirOf(path) == "." || root.rfind(DirOf(path), 0) == 0)) {
        s.runtime_version.Add(Json{{"runtime", "dotnet"}, {"version", v}}, 0.6,
                              {path, 0, "sdk.version"});
      }
    }
  }
}

}  // namespace ps::stages::audit
