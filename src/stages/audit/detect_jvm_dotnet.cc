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
  const bool wrapper = idx.Has(JoinPath(root, gradle ? "gradlew" : "mvnw"));
  const std::string tool =
      gradle ? (wrapper ? "./gradlew" : "gradle") : (wrapper ? "./mvnw" : "mvn");
  if (gradle) {
    s.build_command.Add(tool + " build -x test", 0.8, {path, 0, "gradle"});
    s.test_command.Add(tool + " test", 0.85, {path, 0, "gradle"});
    s.start_command.Add(framework == "Quarkus" ? "java -jar build/quarkus-app/quarkus-run.jar"
                                               : "java -jar build/libs/app.jar",
                        0.5, {path, 0, "built jar"});
  } else {
    s.build_command.Add(tool + " -B package -DskipTests", 0.8, {path, 0, "maven"});
    s.test_command.Add(tool + " -B test", 0.85, {path, 0, "maven"});
    s.start_command.Add(framework == "Quarkus" ? "java -jar target/quarkus-app/quarkus-run.jar"
                                               : "java -jar target/app.jar",
                        0.5, {path, 0, "built jar"});
  }
  s.test_framework.Add("junit", 0.6, {path, 0, "JVM default"});
  for (const auto& [needle, svc] : kJvmBacking) {
    auto pos = text.find(needle);
    if (pos != std::string::npos) s.AddBacking(svc, {path, LineOf(text, pos), needle});
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

// server.port from Spring's application.properties or application.yml.
void SpringPort(RepoIndex& idx, Service& s, const std::string& root) {
  for (const char* name : {"application.properties", "application.yml", "application.yaml"}) {
    for (const auto& p : idx.Under(root, name)) {
      auto t = idx.Read(p);
      if (!t) continue;
      std::size_t pos = t->find("server.port");
      std::size_t after = pos == std::string::npos ? pos : pos + 11;
      if (pos == std::string::npos) {
        auto server = t->find("server:");
        auto port = server == std::string::npos ? server : t->find("port:", server);
        if (port != std::string::npos && port - server < 80) {
          pos = port;
          after = port + 5;
        }
      }
      if (pos == std::string::npos) continue;
      std::size_t i = after;
      while (i < t->size() && ((*t)[i] == ' ' || (*t)[i] == '=' || (*t)[i] == ':')) ++i;
      std::size_t j = i;
      while (j < t->size() && std::isdigit(static_cast<unsigned char>((*t)[j]))) ++j;
      int port = j > i && j - i <= 5 ? std::stoi(t->substr(i, j - i)) : 0;
      if (port > 0 && port < 65536)
        s.port.Add(port, 0.8, {p, LineOf(*t, pos), t->substr(pos, j - pos)});
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
    if (auto a = TagText(*text, "artifactId")) {
      // The project's own artifactId follows the parent block, if any.
      std::size_t parent_end = text->find("</parent>");
      if (auto own =
              TagText(*text, "artifactId", parent_end == std::string::npos ? 0 : parent_end)) {
        s.name = *own;
      } else {
        s.name = *a;
      }
    }
    JvmCommon(idx, s, path, *text, false);
    if (!s.framework.empty()) SpringPort(idx, s, root);
    if (TagText(*text, "packaging").value_or("") == "pom" ||
        text->find("<modules>") != std::string::npos) {
      s.deployable = false;  // an aggregator of modules
    }
    for (const char* prop : {"java.version", "maven.compiler.release", "maven.compiler.source"}) {
      std::size_t at = 0;
      if (auto v = TagText(*text, prop, 0, &at)) {
        s.runtime_version.Add(Json{{"runtime", "java"}, {"version", *v}}, 0.85,
                              {path, LineOf(*text, at), prop});
        break;
      }
    }
    if (s.framework.empty() && !text->empty() && s.deployable)
      s.deployable = text->find("<mainClass>") != std::string::npos;
  }
  for (const char* name : {"build.gradle", "build.gradle.kts"}) {
    for (const auto& path : idx.Named(name)) {
      auto text = idx.Read(path);
      if (!text) continue;
      Service& s = ServiceAt(out, DirOf(path));
      JvmCommon(idx, s, path, *text, true);
      if (!s.framework.empty()) SpringPort(idx, s, DirOf(path));
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
    }
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
    } else {
      s.deployable = false;  // a class library
    }
    for (const auto& [pkg, svc] : std::vector<std::pair<std::string, std::string>>{
             {"Npgsql", "postgres"},
             {"MySqlConnector", "mysql"},
             {"Pomelo.EntityFrameworkCore.MySql", "mysql"},
             {"StackExchange.Redis", "redis"},
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
