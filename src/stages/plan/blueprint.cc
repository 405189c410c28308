#include "stages/plan/blueprint.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include "core/config.h"
#include "core/fs.h"

namespace ps::stages::plan {

Json Finding::ToJson() const {
  Json j{{"id", id}, {"severity", severity}, {"message", message}, {"fix", fix}};
  j["service"] = service.empty() ? Json(nullptr) : Json(service);
  j["file"] = file.empty() ? Json(nullptr) : Json(file);
  if (line > 0) j["line"] = line;
  return j;
}

Json Blueprint::ToJson() const {
  Json f = Json::array();
  for (const auto& [path, content] : files) {
    f.push_back({{"path", path}, {"bytes", content.size()}, {"sha256", Sha256Hex(content)}});
  }
  Json fs = Json::array();
  for (const auto& x : findings) fs.push_back(x.ToJson());
  return {{"schema", "https://prodsprint.dev/schemas/plan/v1"},
          {"files", f},
          {"findings", fs},
          {"policies", policies},
          {"services", services},
          {"cost", cost.is_object() ? Json{{"currency", cost["currency"]},
                                           {"totalMonthlyCost", cost["totalMonthlyCost"]},
                                           {"priceTable", cost["priceTable"]}}
                                    : Json(nullptr)}};
}

Json Blueprint::Manifest() const {
  Json m = Json::object();
  for (const auto& [path, content] : files) m[path] = Sha256Hex(content);
  return m;
}

Json DiffManifests(const Json& previous, const Json& current) {
  Json added = Json::array(), changed = Json::array(), removed = Json::array();
  const Json prev = previous.is_object() ? previous : Json::object();
  for (const auto& [path, sha] : current.items()) {
    if (!prev.contains(path)) {
      added.push_back(path);
    } else if (prev[path] != sha) {
      changed.push_back(path);
    }
  }
  for (const auto& [path, sha] : prev.items()) {
    if (!current.contains(path)) removed.push_back(path);
  }
  return {{"first", !previous.is_object()},
          {"files", {{"added", added}, {"changed", changed}, {"removed", removed}}}};
}

std::string Slug(const std::string& name) {
  std::string out;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out += static_cast<char>(std::tolower(u));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "app" : out;
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
  if (e.contains("line") && e["line"].is_number_integer()) s += ":" + std::to_string(e["line"].get<int>());
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
    for (const auto& [key, dest] : std::vector<std::pair<const char*, std::string*>>{
             {"kind", &s.kind},
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
      for (const auto& b : j["backing_services"]) s.backing.push_back(b.value("name", ""));
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
  if (o.project.empty() || o.project.size() > 63 ||
      !std::all_of(o.project.begin(), o.project.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      }) ||
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
  if (data) j["why"].push_back("backing services hold data: vulnerabilities of medium severity and above block");
  if (web) j["why"].push_back("web services: latency budgets (p95 300 ms, p99 800 ms) apply to the smoke routes");
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
    for (const auto& [k, v] : p[section].items()) y += "    " + k + ": " + num(v) + "\n";
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
  std::vector<ServiceFacts> imaged;
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
    } else {
      PlanContainer(s, o, read, b);
      decided["dockerfile"] = s.dockerfile.empty() ? JoinRoot(s.root, "Dockerfile") : s.dockerfile;
      decided["generated_dockerfile"] = s.dockerfile.empty() && b.files.count(JoinRoot(s.root, "Dockerfile"));
      imaged.push_back(s);
    }
    b.services.push_back(decided);
  }
  PlanWorkflow(imaged, o, b);
  if (o.target == "aws") {
    PlanTerraform(imaged, o, b);
    PlanCost(imaged, o, read, b);
  } else if (o.target == "kubernetes") {
    PlanKubernetes(imaged, o, b);
    PlanCost(imaged, o, read, b);
  } else if (o.target == "render") {
    PlanRender(imaged, o, b);
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
    b.findings.push_back({"PLAN018", "info", "", "the repository has a prodsprint.yaml: the drafted policy is "
                          "written beside it, not into it",
                          "merge prodsprint.policy.yaml's policy section into prodsprint.yaml",
                          "prodsprint.yaml", 0});
  } else {
    b.files["prodsprint.yaml"] = "# Drafted by `prodsprint plan` (docs/CONFIG.md).\nversion: 1\n" +
                                 PolicyYaml(b.policies);
  }
  // Findings in a stable order: by service, then id, then file and line.
  std::stable_sort(b.findings.begin(), b.findings.end(), [](const Finding& a, const Finding& c) {
    return std::tie(a.service, a.id, a.file, a.line) < std::tie(c.service, c.id, c.file, c.line);
  });
  return b;
}

}  // namespace ps::stages::plan
