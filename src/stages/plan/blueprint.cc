#include "stages/plan/blueprint.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>
#include <tuple>

#include "core/config.h"
#include "core/fs.h"

namespace ps::stages::plan {

RepoReader ReaderOf(audit::RepoView& view) {
  return [&view](const std::string& p) -> std::optional<std::string> {
    auto r = view.Read(p, 1 << 20);
    if (!r.ok()) return std::nullopt;
    return std::move(r).value();
  };
}

std::string YamlQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string Fill(std::string t, const char* open, const char* close,
                 const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [k, v] : values) {
    const std::string key = open + k + close;
    for (std::size_t at = t.find(key); at != std::string::npos; at = t.find(key, at + v.size())) {
      t.replace(at, key.size(), v);
    }
  }
  return t;
}

bool UsesBacking(const ServiceFacts& s, const std::string& name) {
  return std::find(s.backing.begin(), s.backing.end(), name) != s.backing.end();
}

std::string SiteDir(const ServiceFacts& s) {
  const std::string& fw = s.framework;
  if (fw.find("Vite") != std::string::npos || fw == "Astro") return "dist";
  if (fw == "SvelteKit") return "build";
  if (fw == "Angular") return "dist/" + s.name + "/browser";
  return "";
}

Json Finding::ToJson() const {
  Json j{{"id", id}, {"severity", severity}, {"message", message}, {"fix", fix}};
  j["service"] = service.empty() ? Json(nullptr) : Json(service);
  j["file"] = file.empty() ? Json(nullptr) : Json(file);
  if (line > 0) j["line"] = line;
  return j;
}

namespace {
Json ResourcesOf(const std::map<std::string, std::string>& files);
}  // namespace

Json Blueprint::ToJson() const {
  Json f = Json::array();
  for (const auto& [path, content] : files) {
    f.push_back({{"path", path}, {"bytes", content.size()}, {"sha256", Sha256Hex(content)}});
  }
  Json fs = Json::array();
  for (const auto& x : findings) fs.push_back(x.ToJson());
  return {{"schema", "https://prodsprint.dev/schemas/plan/v1"},
          {"files", f},
          {"resources", ResourcesOf(files)},
          {"findings", fs},
          {"policies", policies},
          {"services", services},
          {"cost", cost.is_object() ? Json{{"currency", cost["currency"]},
                                           {"totalMonthlyCost", cost["totalMonthlyCost"]},
                                           {"priceTable", cost["priceTable"]}}
                                    : Json(nullptr)}};
}

namespace {

// The resources a set of files describes, each with a hash of its text.
Json ResourcesOf(const std::map<std::string, std::string>& files) {
  Json r = Json::object();
  std::map<std::string, std::string> charts;  // chart -> all its files' text
  for (const auto& entry : files) {
    const std::string& path = entry.first;  // not a structured binding: the lambda captures it
    const std::string& content = entry.second;
    auto ends = [&](const std::string& suffix) {
      return path.size() >= suffix.size() &&
             path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    const std::string dir =
        path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
    if (ends(".tf")) {
      // resource "TYPE" "NAME" { ... } with its closing brace at column 0.
      std::size_t at = 0;
      while ((at = content.find("resource \"", at)) != std::string::npos) {
        if (at > 0 && content[at - 1] != '\n') {
          ++at;
          continue;
        }
        auto t1 = content.find('"', at + 10);
        auto t2 = content.find('"', t1 + 1);
        auto t3 = content.find('"', t2 + 1);
        if (t1 == std::string::npos || t2 == std::string::npos || t3 == std::string::npos) break;
        const std::string address =
            content.substr(at + 10, t1 - at - 10) + "." + content.substr(t2 + 1, t3 - t2 - 1);
        auto end = content.find("\n}", at);
        end = end == std::string::npos ? content.size() : end + 2;
        r[dir + ":" + address] = Sha256Hex(content.substr(at, end - at));
        at = end;
      }
    } else if (path == "render.yaml") {
      // One entry per "  - type:" block (services), "  - name:" (databases).
      std::size_t at = 0;
      while ((at = content.find("\n  - ", at)) != std::string::npos) {
        auto next = content.find("\n  - ", at + 1);
        auto top = content.find("\ndatabases:", at + 1);
        if (top != std::string::npos && (next == std::string::npos || top < next)) next = top;
        const std::string block =
            content.substr(at, next == std::string::npos ? std::string::npos : next - at);
        auto n = block.find("name: ");
        const std::string name =
            n == std::string::npos ? "?" : block.substr(n + 6, block.find('\n', n) - n - 6);
        r["render:" + name] = Sha256Hex(block);
        at = next == std::string::npos ? content.size() : next;
      }
    } else if (path.rfind("deploy/helm/", 0) == 0) {
      const std::string chart = path.substr(12, path.find('/', 12) - 12);
      charts[chart] += path + "\n" + content;
    } else if (path.rfind("deploy/argocd/", 0) == 0) {
      r["argocd:" + path.substr(14)] = Sha256Hex(content);
    } else if (ends("vercel.json")) {
      r["vercel:" + dir] = Sha256Hex(content);
    } else if (ends("/Dockerfile") || path == "Dockerfile") {
      r["image:" + dir] = Sha256Hex(content);
    } else if (path.rfind(".github/workflows/", 0) == 0) {
      r["workflow:" + path.substr(18)] = Sha256Hex(content);
    }
  }
  for (const auto& [chart, text] : charts) r["helm:" + chart] = Sha256Hex(text);
  return r;
}

Json Changes(const Json& prev_map, const Json& cur) {
  Json added = Json::array(), changed = Json::array(), removed = Json::array();
  const Json prev = prev_map.is_object() ? prev_map : Json::object();
  for (const auto& [k, sha] : cur.items()) {
    if (!prev.contains(k)) {
      added.push_back(k);
    } else if (prev[k] != sha) {
      changed.push_back(k);
    }
  }
  for (const auto& [k, sha] : prev.items()) {
    if (!cur.contains(k)) removed.push_back(k);
  }
  return {{"added", added}, {"changed", changed}, {"removed", removed}};
}

}  // namespace

Json Blueprint::State() const {
  Json f = Json::object();
  for (const auto& [path, content] : files) f[path] = Sha256Hex(content);
  return {{"files", f},
          {"resources", ResourcesOf(files)},
          {"monthly_cost", cost.is_object() ? cost["totalMonthlyCost"] : Json(nullptr)}};
}

Json Diff(const Json& previous, const Json& current) {
  const bool first = !previous.is_object();
  const Json prev = first ? Json::object() : previous;
  Json cost = nullptr;
  const Json& now = current["monthly_cost"];
  const Json before = prev.contains("monthly_cost") ? prev["monthly_cost"] : Json(nullptr);
  if (now.is_string() || before.is_string()) {
    const double a = before.is_string() ? std::stod(before.get<std::string>()) : 0;
    const double b = now.is_string() ? std::stod(now.get<std::string>()) : 0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.2f", b - a);
    cost = {{"previous", before}, {"current", now}, {"delta", buf}};
  }
  return {
      {"first", first},
      {"files", Changes(prev.contains("files") ? prev["files"] : Json(nullptr), current["files"])},
      {"resources", Changes(prev.contains("resources") ? prev["resources"] : Json(nullptr),
                            current["resources"])},
      {"cost", cost}};
}

namespace {

std::string ValueString(const Json& field) {
  if (!field.is_object() || !field.contains("value")) return "";
  const Json& v = field["value"];
  return v.is_string() ? v.get<std::string>() : "";
}

std::string SourceOf(const Json& field) {
  if (!field.is_object() || !field.contains("evidence") || !field["evidence"].is_array() ||
      field["evidence"].empty()) {
    return "";
  }
  const Json& e = field["evidence"][0];
  std::string s = e.value("file", "");
  if (e.contains("line") && e["line"].is_number_integer())
    s += ":" + std::to_string(e["line"].get<int>());
  return s;
}

}  // namespace

std::vector<ServiceFacts> ServicesOf(const Json& audit) {
  std::vector<ServiceFacts> out;
  if (!audit.contains("services") || !audit["services"].is_array()) return out;
  for (const auto& j : audit["services"]) {
    if (!j.is_object()) continue;
    ServiceFacts s;
    s.name = j.value("name", "");
    s.root = j.value("root", ".");
    for (const auto& [key, dest] :
         std::vector<std::pair<const char*, std::string*>>{{"kind", &s.kind},
                                                           {"language", &s.language},
                                                           {"framework", &s.framework},
                                                           {"package_manager", &s.package_manager},
                                                           {"build_command", &s.build_command},
                                                           {"start_command", &s.start_command},
                                                           {"test_command", &s.test_command},
                                                           {"test_framework", &s.test_framework},
                                                           {"healthcheck", &s.healthcheck},
                                                           {"dockerfile", &s.dockerfile}}) {
      if (!j.contains(key)) continue;
      *dest = ValueString(j[key]);
      if (!dest->empty()) s.source_of[key] = SourceOf(j[key]);
    }
    if (j.contains("runtime_version") && j["runtime_version"].is_object()) {
      const Json& v = j["runtime_version"]["value"];
      if (v.is_object()) {
        s.runtime = v.value("runtime", "");
        s.runtime_version = v.value("version", "");
        s.source_of["runtime_version"] = SourceOf(j["runtime_version"]);
      }
    }
    if (j.contains("port") && j["port"].is_object() && j["port"]["value"].is_number_integer()) {
      s.port = j["port"]["value"].get<int>();
      s.source_of["port"] = SourceOf(j["port"]);
    }
    if (j.contains("backing_services") && j["backing_services"].is_array()) {
      // What it needs: an optional one (a client library the code may use)
      // is not provisioned.
      for (const auto& b : j["backing_services"]) {
        if (!b.value("optional", false)) s.backing.push_back(b.value("name", ""));
      }
    }
    if (j.contains("env_vars") && j["env_vars"].is_array()) {
      for (const auto& e : j["env_vars"]) s.env_vars.push_back(e);
    }
    if (j.contains("migrations") && j["migrations"].is_object()) {
      s.migrations = j["migrations"]["value"];
    }
    out.push_back(std::move(s));
  }
  return out;
}

Status CheckOptions(const PlanOptions& o) {
  static const std::set<std::string> kTargets = {"local", "kubernetes", "aws", "render", "vercel"};
  static const std::set<std::string> kEnvs = {"staging", "production"};
  if (!kTargets.count(o.target)) {
    return problems::InvalidInput("unknown target '" + o.target +
                                  "': one of local, kubernetes, aws, render, vercel");
  }
  if (!kEnvs.count(o.env)) {
    return problems::InvalidInput("unknown environment '" + o.env + "': staging or production");
  }
  if (o.cloud != "aws" && o.cloud != "gcp") {
    return problems::InvalidInput("unknown cloud '" + o.cloud +
                                  "': aws (EKS) or gcp (GKE), for --target kubernetes");
  }
  if (o.project.empty() || o.project.size() > 63 ||
      !std::all_of(
          o.project.begin(), o.project.end(),
          [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }) ||
      o.project.front() == '-' || o.project.back() == '-') {
    return problems::InvalidInput("project name '" + o.project +
                                  "' is not usable in image and resource names: 1 to 63 of "
                                  "a-z, 0-9 and '-', not starting or ending with '-'");
  }
  return Ok();
}

Json DraftPolicies(const std::vector<ServiceFacts>& services, const Json& audit) {
  // Stricter where there is something to protect: a database means data, a
  // web service means users waiting on latency. Keys as prodsprint.yaml's
  // policy section has them (core/config.h PolicyConfig).
  bool data = false, web = false, tests = false;
  for (const auto& s : services) {
    data = data || !s.backing.empty();
    web = web || s.kind == "web" || s.kind == "grpc";
    tests = tests || !s.test_command.empty();
  }
  PolicyConfig p;
  p.tests_required = tests;
  p.tests_max_failures = 0;
  p.tests_coverage_min = tests ? 60 : 0;
  p.security_max_severity = data ? "medium" : "high";
  p.security_secrets = "block";
  p.perf_p95_ms = web ? 300 : 0;
  p.perf_p99_ms = web ? 800 : 0;
  Json j = p.ToJson();
  j["why"] = Json::array();
  if (data)
    j["why"].push_back(
        "backing services hold data: vulnerabilities of medium severity and above block");
  if (web)
    j["why"].push_back(
        "web services: latency budgets (p95 300 ms, p99 800 ms) apply to the smoke routes");
  if (!tests) j["why"].push_back("no test command found: the test gate cannot require tests yet");
  (void)audit;
  return j;
}

std::string PolicyYaml(const Json& p) {
  auto num = [](const Json& v) {
    if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    std::string s = v.dump();
    return s;
  };
  std::string y = "policy:\n";
  for (const auto& line : p["why"]) y += "  # " + line.get<std::string>() + "\n";
  for (const char* section : {"tests", "security", "performance", "release"}) {
    y += std::string("  ") + section + ":\n";
    for (const auto& [k, v] : p[section].items()) {
      if (v.is_array() && v.empty()) continue;  // an empty list is the default
      if (v.is_object()) {
        std::string nested;
        for (const auto& [k2, v2] : v.items()) {
          if (!(v2.is_array() && v2.empty())) nested += "      " + k2 + ": " + num(v2) + "\n";
        }
        if (!nested.empty()) y += "    " + k + ":\n" + nested;
        continue;
      }
      y += "    " + k + ": " + num(v) + "\n";
    }
  }
  return y;
}

Result<Blueprint> MakeBlueprint(const Json& audit, const PlanOptions& o, const RepoReader& read) {
  PS_TRY(CheckOptions(o));
  if (!audit.is_object() || !audit.contains("services") || !audit["services"].is_array()) {
    return problems::InvalidInput("not an audit result: no services list");
  }
  Blueprint b;
  const auto services = ServicesOf(audit);
  if (services.empty()) {
    b.findings.push_back({"PLAN000", "error", "", "the audit found no deployable service",
                          "add a manifest (package.json, pyproject.toml, go.mod...) or a "
                          "Dockerfile, then run the plan again",
                          "", 0});
  }
  // A process of another service (a Procfile worker beside its web
  // process): the same image, started with its own command.
  std::vector<ServiceFacts> imaged, deployed;  // images to build; everything to run
  for (const auto& s : services) {
    const ServiceFacts* owner = nullptr;
    if (s.language.empty() && s.dockerfile.empty()) {
      for (const auto& other : services) {
        if (&other != &s && other.root == s.root && !other.language.empty()) {
          owner = &other;
          break;
        }
      }
    }
    Json decided{{"name", s.name}, {"root", s.root}, {"kind", s.kind}};
    decided["port"] = s.port ? Json(*s.port) : Json(nullptr);
    if (owner) {
      decided["image_of"] = owner->name;
      decided["command"] = s.start_command;
      decided["dockerfile"] =
          owner->dockerfile.empty() ? JoinRoot(owner->root, "Dockerfile") : owner->dockerfile;
      decided["generated_dockerfile"] = false;
      ServiceFacts p = s;
      p.image_of = owner->name;
      p.image_dockerfile = decided["dockerfile"].get<std::string>();
      p.language = owner->language;
      // The same code: the same environment and backing services.
      for (const auto& e : owner->env_vars) {
        bool have = false;
        for (const auto& mine : p.env_vars)
          have = have || mine.value("name", "") == e.value("name", "");
        if (!have) p.env_vars.push_back(e);
      }
      for (const auto& bk : owner->backing) {
        if (std::find(p.backing.begin(), p.backing.end(), bk) == p.backing.end())
          p.backing.push_back(bk);
      }
      deployed.push_back(p);
    } else {
      PlanContainer(s, o, read, b);
      decided["dockerfile"] = s.dockerfile.empty() ? JoinRoot(s.root, "Dockerfile") : s.dockerfile;
      decided["generated_dockerfile"] =
          s.dockerfile.empty() && b.files.count(JoinRoot(s.root, "Dockerfile"));
      imaged.push_back(s);
      deployed.push_back(s);
    }
    b.services.push_back(decided);
  }
  // Processes after the services whose image they use.
  std::stable_partition(deployed.begin(), deployed.end(),
                        [](const ServiceFacts& x) { return x.image_of.empty(); });
  PlanWorkflow(imaged, deployed, o, b);
  if (o.target == "aws") {
    PlanTerraform(deployed, o, b);
    PlanCost(deployed, o, read, b);
  } else if (o.target == "kubernetes") {
    PlanKubernetes(deployed, o, b);
    PlanKubernetesInfra(deployed, o, b);
    PlanCost(deployed, o, read, b);
  } else if (o.target == "render") {
    PlanRender(deployed, o, b);
  } else if (o.target == "vercel") {
    PlanVercel(imaged, o, b);
  }
  b.policies = DraftPolicies(services, audit);
  // The policy as prodsprint.yaml takes it: the whole file when the
  // repository has none, else the section to merge.
  const bool has_config = read && read("prodsprint.yaml").has_value();
  if (has_config) {
    b.files["prodsprint.policy.yaml"] =
        "# The policy section drafted by `prodsprint plan`: merge it into prodsprint.yaml.\n" +
        PolicyYaml(b.policies);
    b.findings.push_back({"PLAN018", "info", "",
                          "the repository has a prodsprint.yaml: the drafted policy is "
                          "written beside it, not into it",
                          "merge prodsprint.policy.yaml's policy section into prodsprint.yaml",
                          "prodsprint.yaml", 0});
  } else {
    b.files["prodsprint.yaml"] =
        "# Drafted by `prodsprint plan` (docs/CONFIG.md).\nversion: 1\n" + PolicyYaml(b.policies);
  }
  // Findings in a stable order: by service, then id, then file and line.
  std::stable_sort(b.findings.begin(), b.findings.end(), [](const Finding& a, const Finding& c) {
    return std::tie(a.service, a.id, a.file, a.line) < std::tie(c.service, c.id, c.file, c.line);
  });
  return b;
}

}  // namespace ps::stages::plan
