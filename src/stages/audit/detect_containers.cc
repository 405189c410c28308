// Dockerfiles, compose files and Procfiles.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <sstream>

#include "core/config.h"
#include "core/yaml.h"
#include "stages/audit/audit.h"
#include "stages/audit/dockerfile.h"

namespace ps::stages::audit {

namespace {

std::string TrimWs(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r"));
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

std::optional<std::string> BackingOfImage(const std::string& image) {
  std::string name = image.substr(0, image.find(':'));
  auto slash = name.rfind('/');
  const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  static const std::vector<std::pair<std::string, std::string>> kImages = {
      {"postgres", "postgres"},
      {"postgresql", "postgres"},
      {"postgis", "postgres"},
      {"mysql-server", "mysql"},
      {"mongodb", "mongodb"},
      {"redis-stack-server", "redis"},
      {"timescaledb", "postgres"},
      {"mysql", "mysql"},
      {"mariadb", "mysql"},
      {"redis", "redis"},
      {"valkey", "redis"},
      {"redis-stack", "redis"},
      {"mongo", "mongodb"},
      {"rabbitmq", "rabbitmq"},
      {"cp-kafka", "kafka"},
      {"kafka", "kafka"},
      {"redpanda", "kafka"},
      {"elasticsearch", "elasticsearch"},
      {"opensearch", "elasticsearch"},
      {"memcached", "memcached"},
      {"minio", "s3"},
      {"localstack", "s3"},
      {"nats", "nats"},
  };
  for (const auto& [img, svc] : kImages) {
    if (base == img) return svc;
  }
  return std::nullopt;
}

// The health path in a HEALTHCHECK command: "curl -f http://localhost:3000/healthz".
std::optional<std::string> HealthPath(const std::string& cmd) {
  auto pos = cmd.find("://");
  if (pos == std::string::npos) return std::nullopt;
  auto slash = cmd.find('/', pos + 3);
  if (slash == std::string::npos) return "/";
  auto end = cmd.find_first_of(" \"'|&;", slash);
  return cmd.substr(slash, end == std::string::npos ? std::string::npos : end - slash);
}

std::string Normalise(const std::string& base, const std::string& rel) {
  std::filesystem::path p = std::filesystem::path(base == "." ? "" : base) / rel;
  std::string s = p.lexically_normal().generic_string();
  while (!s.empty() && s.back() == '/') s.pop_back();
  if (s.empty() || s == ".") return ".";
  if (s.rfind("..", 0) == 0) return {};  // outside the repository
  return s;
}

}  // namespace

void DetectContainers(RepoIndex& idx, Services& out) {
  // Dockerfiles.
  for (const auto& path : idx.Named("Dockerfile")) {
    auto text = idx.Read(path);
    if (!text) continue;
    auto ins = ParseDockerfile(*text);
    if (ins.empty() ||
        std::none_of(ins.begin(), ins.end(), [](const Instruction& i) { return i.op == "FROM"; })) {
      idx.Warn(path, "no FROM instruction; not a Dockerfile");
      continue;
    }
    Service& s = ServiceAt(out, DirOf(path));
    s.dockerfile.Add(path, 0.95, {path, 0, "Dockerfile"});
    std::string last_from;
    int from_line = 0;
    for (const auto& i : ins) {
      if (i.op == "FROM") {
        std::istringstream w(i.args);
        std::string image;
        w >> image;
        if (image.rfind("--", 0) == 0) w >> image;  // --platform=...
        last_from = image;
        from_line = i.line;
      } else if (i.op == "EXPOSE") {
        std::istringstream w(i.args);
        std::string port;
        while (w >> port) {
          int p = std::atoi(port.c_str());
          if (p > 0 && p < 65536) s.port.Add(p, 0.8, {path, i.line, "EXPOSE " + i.args});
        }
      } else if (i.op == "ENV") {
        // ENV K=V K2=V2, or the legacy ENV K V.
        std::string args = i.args;
        if (args.find('=') == std::string::npos) {
          auto sp = args.find(' ');
          std::string k = args.substr(0, sp);
          std::string v = sp == std::string::npos ? "" : TrimWs(args.substr(sp));
          if (!k.empty()) s.AddEnv(k, false, false, v, {path, i.line, "ENV " + args});
        } else {
          std::istringstream w(args);
          std::string kv;
          while (w >> kv) {
            auto eq = kv.find('=');
            if (eq == std::string::npos || eq == 0) continue;
            std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
            if (v.size() >= 2 && (v.front() == '"' || v.front() == '\''))
              v = v.substr(1, v.size() - 2);
            s.AddEnv(k, false, false, v, {path, i.line, "ENV " + kv});
            if (k == "PORT" && std::atoi(v.c_str()) > 0) {
              s.port.Add(std::atoi(v.c_str()), 0.7, {path, i.line, "ENV " + kv});
            }
          }
        }
      } else if (i.op == "CMD" || i.op == "ENTRYPOINT") {
        std::string cmd = i.args;
        Json arr = Json::parse(cmd, nullptr, false);
        if (!arr.is_discarded() && arr.is_array()) {
          std::string joined;
          for (const auto& a : arr) {
            if (a.is_string()) joined += (joined.empty() ? "" : " ") + a.get<std::string>();
          }
          cmd = joined;
        }
        if (!cmd.empty()) s.start_command.Add(cmd, 0.7, {path, i.line, i.op + " " + i.args});
      } else if (i.op == "HEALTHCHECK") {
        if (auto hp = HealthPath(i.args)) s.healthcheck.Add(*hp, 0.9, {path, i.line, i.args});
      }
    }
    if (auto rt = RuntimeOfImage(last_from)) {
      s.runtime_version.Add(Json{{"runtime", rt->first}, {"version", rt->second}}, 0.75,
                            {path, from_line, "FROM " + last_from});
    }
    if (!s.port.empty()) s.kind.Add("web", 0.6, {path, 0, "EXPOSE"});
  }

  // Compose files.
  for (const char* name :
       {"docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"}) {
    for (const auto& path : idx.Named(name)) {
      auto text = idx.Read(path);
      if (!text) continue;
      YAML::Node doc;
      if (!YamlNestingWithinLimit(*text)) {
        idx.Warn(path, "nested too deeply to be a compose file; skipped");
        continue;
      }
      try {
        doc = YAML::Load(*text);
      } catch (const YAML::Exception& e) {
        idx.Warn(path, "malformed YAML: " + e.msg);
        continue;
      }
      if (!doc.IsMap() || !doc["services"] || !doc["services"].IsMap()) {
        idx.Warn(path, "no services mapping");
        continue;
      }
      const std::string dir = DirOf(path);
      std::map<std::string, std::string> app_roots;  // compose service -> root
      std::map<std::string, std::string> backing;    // compose service -> canonical
      std::map<std::string, std::vector<std::string>> depends;
      try {
        for (auto it = doc["services"].begin(); it != doc["services"].end(); ++it) {
          const std::string svc = it->first.as<std::string>("");
          YAML::Node def = it->second;
          if (!def.IsMap()) continue;
          // YAML merge keys (`<<: *common`), which the parser leaves as a key:
          // the merged mapping's entries, unless the service sets its own.
          if (def["<<"]) {
            YAML::Node merged(YAML::NodeType::Map);
            auto take = [&](const YAML::Node& from) {
              if (!from.IsMap()) return;
              for (auto jt = from.begin(); jt != from.end(); ++jt) {
                const std::string k = jt->first.as<std::string>("");
                if (k != "<<" && !merged[k]) merged[k] = jt->second;
              }
            };
            take(def);
            const YAML::Node m = def["<<"];
            if (m.IsSequence()) {
              for (const auto& x : m) take(x);
            } else {
              take(m);
            }
            def = merged;
          }
          // A service behind a profile starts only when asked for (a seeder,
          // a load generator, an admin tool): not part of the deployment.
          if (def["profiles"]) {
            if (def["build"]) {
              std::string context = ".";
              const YAML::Node b = def["build"];
              if (b.IsScalar()) context = b.as<std::string>(".");
              if (b.IsMap() && b["context"]) context = b["context"].as<std::string>(".");
              const std::string root = Normalise(dir, context);
              if (!root.empty()) idx.optional_roots_.insert(root);
            }
            continue;
          }
          const int line = def.Mark().line + 1;
          if (def["depends_on"]) {
            const YAML::Node d = def["depends_on"];
            if (d.IsSequence()) {
              for (const auto& x : d) depends[svc].push_back(x.as<std::string>(""));
            } else if (d.IsMap()) {
              for (auto jt = d.begin(); jt != d.end(); ++jt)
                depends[svc].push_back(jt->first.as<std::string>(""));
            }
          }
          if (def["image"] && !def["build"]) {
            if (auto b = BackingOfImage(def["image"].as<std::string>(""))) {
              backing[svc] = *b;
              idx.compose_backing_.insert(*b);
            }
            continue;
          }
          if (!def["build"]) continue;
          std::string context = ".";
          const YAML::Node b = def["build"];
          if (b.IsScalar()) context = b.as<std::string>(".");
          if (b.IsMap() && b["context"]) context = b["context"].as<std::string>(".");
          const std::string root = Normalise(dir, context);
          if (root.empty()) {
            idx.Warn(path, "service " + svc + " builds from outside the repository; ignored");
            continue;
          }
          // A one-shot job (migrations, setup) is not a process that runs.
          std::string command;
          if (def["command"]) {
            if (def["command"].IsSequence()) {
              for (const auto& x : def["command"]) command += x.as<std::string>("") + " ";
            } else {
              command = def["command"].as<std::string>("");
            }
          }
          std::string lc = command;
          for (auto& ch : lc) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          const std::string restart = def["restart"] ? def["restart"].as<std::string>("") : "";
          if (lc.find("migrat") != std::string::npos || lc.find("upgrade") != std::string::npos ||
              lc.find("prestart") != std::string::npos || lc.find("seed") != std::string::npos ||
              lc.find("setup") != std::string::npos || lc.find("create_db") != std::string::npos ||
              restart == "no") {
            continue;
          }
          // Another service already builds this root: this one runs the same
          // code with its own command, a process of its own.
          bool shared = false;
          for (const auto& [other, r] : app_roots) shared = shared || r == root;
          // (A Procfile, where there is one, declares the processes; compose
          // is then the development setup.)
          if (shared && !command.empty() && idx.Has(JoinPath(root, "Procfile"))) continue;
          app_roots[svc] = root;
          if (shared && !command.empty()) {
            Service& p = ServiceAt(out, root + "#" + svc);
            p.root = root;
            p.name = svc;
            p.deployable = true;
            const bool ports = def["ports"] && def["ports"].IsSequence() && def["ports"].size() > 0;
            p.kind.Add(ports ? "web" : "worker", 0.75,
                       {path, line, "service " + svc + ": " + command});
            p.start_command.Add(command, 0.7, {path, line, "command: " + command});
            continue;
          }
          Service& s = ServiceAt(out, root);
          if (s.name.empty() || s.name == root) s.name = svc;
          if (def["ports"] && def["ports"].IsSequence()) {
            for (const auto& p : def["ports"]) {
              std::string spec = p.IsScalar() ? p.as<std::string>("") : "";
              if (p.IsMap() && p["target"]) spec = p["target"].as<std::string>("");
              auto colon = spec.rfind(':');
              std::string container = colon == std::string::npos ? spec : spec.substr(colon + 1);
              container = container.substr(0, container.find('/'));
              int port = std::atoi(container.c_str());
              if (port > 0 && port < 65536) {
                s.port.Add(port, 0.75, {path, p.Mark().line + 1, "ports: " + spec});
              }
            }
          }
          const YAML::Node env = def["environment"];
          if (env && env.IsMap()) {
            for (auto jt = env.begin(); jt != env.end(); ++jt) {
              std::string k = jt->first.as<std::string>("");
              std::optional<std::string> v;
              if (jt->second.IsScalar()) v = jt->second.as<std::string>("");
              s.AddEnv(k, false, false, v, {path, jt->first.Mark().line + 1, k});
            }
          } else if (env && env.IsSequence()) {
            for (const auto& e : env) {
              std::string kv = e.as<std::string>("");
              auto eq = kv.find('=');
              std::string k = kv.substr(0, eq);
              std::optional<std::string> v;
              if (eq != std::string::npos) v = kv.substr(eq + 1);
              if (!k.empty()) s.AddEnv(k, false, false, v, {path, e.Mark().line + 1, kv});
            }
          }
          if (def["healthcheck"] && def["healthcheck"]["test"]) {
            std::string test;
            const YAML::Node t = def["healthcheck"]["test"];
            if (t.IsSequence()) {
              for (const auto& x : t) test += x.as<std::string>("") + " ";
            } else {
              test = t.as<std::string>("");
            }
            if (auto hp = HealthPath(test)) s.healthcheck.Add(*hp, 0.85, {path, line, test});
          }
        }
      } catch (const YAML::Exception& e) {
        idx.Warn(path, "unexpected shape: " + e.msg);
      }
      // Backing services: to the apps that depend on them, or to every app.
      for (const auto& [svc, root] : app_roots) {
        const auto& deps = depends[svc];
        for (const auto& [bsvc, canonical] : backing) {
          if (deps.empty() || std::find(deps.begin(), deps.end(), bsvc) != deps.end()) {
            out[root].AddBacking(canonical, {path, 0, "service " + bsvc});
          }
        }
      }
    }
  }

  // Procfiles: "web: cmd" is the start command; other process types are
  // services of their own (workers, release phases are not services).
  for (const auto& path : idx.Named("Procfile")) {
    auto text = idx.Read(path);
    if (!text) continue;
    std::istringstream in(*text);
    std::string line;
    int n = 0;
    const std::string root = DirOf(path);
    while (std::getline(in, line)) {
      ++n;
      auto colon = line.find(':');
      if (line.empty() || line[0] == '#' || colon == std::string::npos) continue;
      std::string type = TrimWs(line.substr(0, colon));
      std::string cmd = TrimWs(line.substr(colon + 1));
      if (type == "release") {
        ServiceAt(out, root).migrations.Add(
            Json{{"tool", "procfile-release"}, {"dir", nullptr}, {"command", cmd}}, 0.6,
            {path, n, line});
        continue;
      }
      Service& s = type == "web" ? ServiceAt(out, root) : ServiceAt(out, root + "#" + type);
      // Heroku's contract: every process type of a Procfile runs, whatever
      // the code looks like (a stdlib server, a script, no framework at all).
      s.deployable = true;
      if (type != "web") {
        s.name = (root == "." ? "app" : root.substr(root.rfind('/') + 1)) + "-" + type;
        s.root = root;
        s.kind.Add("worker", 0.8, {path, n, line});
      } else {
        // Procfile's web process serves on $PORT; the protocol is the
        // framework's (a gRPC server listed as web is still gRPC).
        const bool grpc = !s.framework.empty() && s.framework.value() == "gRPC";
        s.kind.Add(grpc ? "grpc" : "web", 0.8, {path, n, line});
      }
      s.start_command.Add(cmd, 0.85, {path, n, line});
    }
  }

  // Render's blueprint: the managed databases and key-value stores it
  // provisions are backing services of what it deploys.
  for (const auto& path : idx.Named("render.yaml")) {
    auto text = idx.Read(path);
    if (!text || !YamlNestingWithinLimit(*text)) continue;
    YAML::Node doc;
    try {
      doc = YAML::Load(*text);
    } catch (const YAML::Exception& e) {
      idx.Warn(path, "malformed YAML: " + e.msg);
      continue;
    }
    if (!doc.IsMap()) continue;
    std::set<std::string> kinds;
    try {
      if (doc["databases"] && doc["databases"].IsSequence() && doc["databases"].size() > 0)
        kinds.insert("postgres");
      if (doc["services"] && doc["services"].IsSequence()) {
        for (const auto& svc : doc["services"]) {
          if (!svc.IsMap() || !svc["type"]) continue;
          const std::string type = svc["type"].as<std::string>("");
          if (type == "redis" || type == "keyvalue") kinds.insert("redis");
        }
      }
    } catch (const YAML::Exception& e) {
      idx.Warn(path, "unexpected shape: " + e.msg);
      continue;
    }
    for (auto& [root, s] : out) {
      if (!s.deployable) continue;
      for (const auto& k : kinds) s.AddBacking(k, {path, 0, "render.yaml provisions " + k});
    }
  }
}

}  // namespace ps::stages::audit

namespace ps::stages::audit {

// Kubernetes workloads: container ports, env and probes, given to the service
// whose name matches the workload or container (or to the only service).
namespace {

// The service a workload deploys: the one named like it, or the only one.
Service* DeployedAs(Services& out, const std::string& name, const std::string& other_name) {
  Service* target = nullptr;
  int deployable = 0;
  for (auto& [root, s] : out) {
    if (!s.deployable) continue;
    ++deployable;
    if (s.name == name || s.name == other_name) target = &s;
  }
  if (!target && deployable == 1) {
    for (auto& [root, s] : out) {
      if (s.deployable) target = &s;
    }
  }
  return target;
}

// A Helm chart's values file: the port the container listens on, its
// environment and probes, as chart authors commonly name them.
void DetectHelmValues(RepoIndex& idx, Services& out) {
  for (const auto& chart : idx.Named("Chart.yaml")) {
    auto meta = idx.Read(chart);
    if (!meta || !YamlNestingWithinLimit(*meta)) continue;
    std::string name;
    try {
      YAML::Node doc = YAML::Load(*meta);
      if (doc.IsMap() && doc["name"]) name = doc["name"].as<std::string>("");
    } catch (const YAML::Exception& e) {
      idx.Warn(chart, "malformed YAML: " + e.msg);
      continue;
    }
    Service* target = DeployedAs(out, name, name);
    if (!target) continue;
    for (const auto& path : idx.Named("@helm-values")) {
      if (DirOf(path) != DirOf(chart)) continue;
      auto text = idx.Read(path);
      if (!text) continue;
      if (!YamlNestingWithinLimit(*text)) {
        idx.Warn(path, "nested too deeply to be a values file; skipped");
        continue;
      }
      try {
        YAML::Node v = YAML::Load(*text);
        if (!v.IsMap()) continue;
        const std::string where = "chart " + name;
        if (v["service"] && v["service"].IsMap()) {
          YAML::Node svc = v["service"];
          if (svc["targetPort"] && svc["targetPort"].as<int>(0) > 0) {
            target->port.Add(
                svc["targetPort"].as<int>(0), 0.7,
                {path, svc["targetPort"].Mark().line + 1, where + " service.targetPort"});
          } else if (svc["port"] && svc["port"].as<int>(0) > 0) {
            target->port.Add(svc["port"].as<int>(0), 0.45,
                             {path, svc["port"].Mark().line + 1, where + " service.port"});
          }
        }
        if (v["containerPort"] && v["containerPort"].as<int>(0) > 0) {
          target->port.Add(v["containerPort"].as<int>(0), 0.7,
                           {path, v["containerPort"].Mark().line + 1, where + " containerPort"});
        }
        if (v["env"] && v["env"].IsSequence()) {
          for (const auto& e : v["env"]) {
            if (!e.IsMap() || !e["name"]) continue;
            std::optional<std::string> val;
            if (e["value"] && e["value"].IsScalar()) val = e["value"].as<std::string>("");
            const bool from_secret = e["valueFrom"] && e["valueFrom"]["secretKeyRef"];
            target->AddEnv(e["name"].as<std::string>(""), false, from_secret, val,
                           {path, e.Mark().line + 1, where + " env"});
          }
        } else if (v["env"] && v["env"].IsMap()) {
          for (const auto& kv : v["env"]) {
            const std::string k = kv.first.as<std::string>("");
            if (!IsEnvName(k)) continue;
            std::optional<std::string> val;
            if (kv.second.IsScalar()) val = kv.second.as<std::string>("");
            target->AddEnv(k, false, false, val, {path, kv.first.Mark().line + 1, where + " env"});
          }
        }
        for (const char* probe : {"readinessProbe", "livenessProbe", "startupProbe"}) {
          if (v[probe] && v[probe]["httpGet"] && v[probe]["httpGet"]["path"]) {
            target->healthcheck.Add(v[probe]["httpGet"]["path"].as<std::string>(""), 0.8,
                                    {path, v[probe].Mark().line + 1, where + " " + probe});
          }
        }
      } catch (const YAML::Exception& e) {
        idx.Warn(path, "malformed YAML: " + e.msg);
      }
    }
  }
}

}  // namespace

void DetectKubernetes(RepoIndex& idx, Services& out) {
  DetectHelmValues(idx, out);
  for (const auto& path : idx.Named("@k8s")) {
    auto text = idx.Read(path);
    if (!text) continue;
    if (!YamlNestingWithinLimit(*text)) {
      idx.Warn(path, "nested too deeply to be a manifest; skipped");
      continue;
    }
    std::vector<YamlDocument> docs;
    try {
      docs = LoadYamlStream(*text);
    } catch (const YAML::Exception& e) {
      idx.Warn(path, "malformed YAML: " + e.msg);
      continue;
    }
    try {
      for (const auto& [doc, first_line] : docs) {
        if (!doc.IsMap() || !doc["kind"] || !doc["spec"]) continue;
        const std::string kind = doc["kind"].as<std::string>("");
        YAML::Node pod;
        if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "Job" ||
            kind == "ReplicaSet") {
          pod = doc["spec"]["template"]["spec"];
        } else if (kind == "CronJob") {
          pod = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        } else if (kind == "Pod") {
          pod = doc["spec"];
        } else {
          continue;
        }
        if (!pod || !pod.IsMap() || !pod["containers"] || !pod["containers"].IsSequence()) continue;
        const std::string workload = doc["metadata"] && doc["metadata"]["name"]
                                         ? doc["metadata"]["name"].as<std::string>("")
                                         : "";
        for (const auto& c : pod["containers"]) {
          if (!c.IsMap()) continue;
          // A backing server the manifests run (redis-cart, a postgres
          // StatefulSet): part of the deployment, as in a compose file.
          if (c["image"] && c["image"].IsScalar()) {
            if (auto b = BackingOfImage(c["image"].as<std::string>(""))) {
              idx.compose_backing_.insert(*b);
              continue;
            }
          }
          const std::string cname = c["name"] ? c["name"].as<std::string>("") : "";
          Service* target = DeployedAs(out, workload, cname);
          if (!target) continue;
          const std::string where = kind + "/" + workload;
          if (c["ports"] && c["ports"].IsSequence()) {
            for (const auto& p : c["ports"]) {
              if (p.IsMap() && p["containerPort"]) {
                int port = p["containerPort"].as<int>(0);
                if (port > 0 && port < 65536) {
                  target->port.Add(
                      port, 0.75, {path, first_line + p.Mark().line + 1, where + " containerPort"});
                }
              }
            }
          }
          if (c["env"] && c["env"].IsSequence()) {
            for (const auto& e : c["env"]) {
              if (!e.IsMap() || !e["name"]) continue;
              std::optional<std::string> v;
              if (e["value"] && e["value"].IsScalar()) v = e["value"].as<std::string>("");
              const bool from_secret = e["valueFrom"] && e["valueFrom"]["secretKeyRef"];
              target->AddEnv(e["name"].as<std::string>(""), false, from_secret, v,
                             {path, first_line + e.Mark().line + 1, where});
            }
          }
          for (const char* probe : {"readinessProbe", "livenessProbe", "startupProbe"}) {
            if (c[probe] && c[probe]["httpGet"] && c[probe]["httpGet"]["path"]) {
              target->healthcheck.Add(
                  c[probe]["httpGet"]["path"].as<std::string>(""), 0.85,
                  {path, first_line + c[probe].Mark().line + 1, where + " " + probe});
            }
          }
        }
      }
    } catch (const YAML::Exception& e) {
      idx.Warn(path, "unexpected shape: " + e.msg);
    }
  }
}

}  // namespace ps::stages::audit
