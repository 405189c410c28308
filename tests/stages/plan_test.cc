// The plan on fixture repositories: every file it writes and its summary are
// compared with tests/fixtures/plan/NAME/ (PS_UPDATE_GOLDEN=1 rewrites them
// after a deliberate change; review the diff). Then the facts each part
// exists for, spelled out: findings instead of made-up values, the review of
// an existing Dockerfile, determinism, and the CLI's writing and diffing.
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>
#include "security/iac.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "core/config.h"
#include "core/fs.h"
#include "stages/audit/audit.h"
#include "stages/plan/blueprint.h"
#include "testing/testing.h"

namespace ps::stages::plan {
namespace {

namespace fs = std::filesystem;
using ps::testing::ReadText;
using ps::testing::WriteText;

const fs::path kAudit = fs::path(PS_SOURCE_DIR) / "tests/fixtures/audit";
const fs::path kPlan = fs::path(PS_SOURCE_DIR) / "tests/fixtures/plan";

// TARGET may name a cloud: "kubernetes:gcp".
Blueprint PlanOf(audit::RepoView& view, const std::string& project,
                 const std::string& target = "local") {
  auto audited = audit::Audit(view, {});
  EXPECT_TRUE(audited.ok());
  PlanOptions o;
  o.project = project;
  o.target = target.substr(0, target.find(':'));
  if (target.find(':') != std::string::npos) o.cloud = target.substr(target.find(':') + 1);
  auto b = MakeBlueprint(*audited, o, ReaderOf(view));
  EXPECT_TRUE(b.ok()) << b.problem().Message();
  return b.ok() ? *b : Blueprint{};
}

Blueprint PlanFixture(const std::string& name) {
  auto view = audit::OpenWorkTree((kAudit / name / "repo").string());
  EXPECT_TRUE(view.ok());
  return PlanOf(**view, name);
}

const Finding* FindingOf(const Blueprint& b, const std::string& id) {
  for (const auto& f : b.findings) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

class PlanGolden : public ::testing::TestWithParam<const char*> {};

// "NAME" or "NAME@TARGET" -> {name, target (default local)}.
std::pair<std::string, std::string> SplitParam(const std::string& p) {
  const auto at = p.find('@');
  if (at == std::string::npos) return {p, "local"};
  return {p.substr(0, at), p.substr(at + 1)};
}

// NAME or NAME@TARGET (golden folder NAME-TARGET).
TEST_P(PlanGolden, WritesWhatItWroteBefore) {
  const auto [name, target] = SplitParam(GetParam());
  auto view = audit::OpenWorkTree((kAudit / name / "repo").string());
  ASSERT_TRUE(view.ok());
  Blueprint b = PlanOf(**view, name, target);
  std::map<std::string, std::string> files = b.files;
  files["plan.json"] = Dump(b.ToJson(), 2) + "\n";
  std::string folder = target;
  std::replace(folder.begin(), folder.end(), ':', '-');
  const fs::path dir = kPlan / (target == "local" ? name : name + "-" + folder);
  if (std::getenv("PS_UPDATE_GOLDEN")) {
    fs::remove_all(dir);
    for (const auto& [path, content] : files) WriteText(dir / path, content);
    return;
  }
  std::set<std::string> expected;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_regular_file()) expected.insert(fs::relative(it->path(), dir).generic_string());
  }
  ASSERT_FALSE(expected.empty()) << "no golden files in " << dir << "; run with PS_UPDATE_GOLDEN=1";
  std::set<std::string> got;
  for (const auto& [path, content] : files) {
    got.insert(path);
    if (expected.count(path)) {
      EXPECT_EQ(content, ReadText(dir / path)) << name << ": " << path;
    }
  }
  EXPECT_EQ(got, expected) << name << ": the set of files changed";
}

// The blueprint ProdSprint writes passes the security gate's own container
// and IaC rules (security/iac.h): generated Dockerfiles, Kubernetes
// manifests and Terraform. Helm templates are not YAML until rendered.
TEST_P(PlanGolden, GeneratedFilesPassTheSecurityGatesRules) {
  const auto [name, target] = SplitParam(GetParam());
  auto view = audit::OpenWorkTree((kAudit / name / "repo").string());
  ASSERT_TRUE(view.ok());
  Blueprint b = PlanOf(**view, name, target);
  int checked = 0;
  for (const auto& [path, content] : b.files) {
    if (path.find("/templates/") != std::string::npos) continue;
    if (security::IacKindOf(path, content).empty()) continue;
    ++checked;
    std::vector<std::string> warnings;
    for (const auto& f : security::CheckIacFile(path, content, &warnings)) {
      ADD_FAILURE() << name << "@" << target << ": " << path << ":" << f.line << ": " << f.rule_id
                    << " " << f.message;
    }
    EXPECT_TRUE(warnings.empty()) << path << ": " << (warnings.empty() ? "" : warnings.front());
  }
  if (target == "aws" || target.rfind("kubernetes", 0) == 0) {
    EXPECT_GT(checked, 0) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, PlanGolden,
    ::testing::Values("node-express", "python-fastapi", "go-services", "turbo-monorepo", "rails",
                      "spring-gradle", "aspnet", "vite-react", "rust-axum", "laravel",
                      "nx-monorepo", "maven-modules", "static-site", "node-express@aws",
                      "turbo-monorepo@aws", "python-fastapi@aws", "rails@aws", "vite-react@aws",
                      "node-express@kubernetes", "go-services@kubernetes", "node-express@render",
                      "rails@render", "vite-react@vercel", "turbo-monorepo@vercel", "vue-vite@aws",
                      "python-grpc@kubernetes", "python-fastapi@kubernetes",
                      "python-fastapi@kubernetes:gcp", "node-express@kubernetes:gcp"),
    [](const auto& info) {
      std::string n = info.param;
      for (auto& c : n) c = (c == '-' || c == '@' || c == ':') ? '_' : c;
      return n;
    });

TEST(Plan, SameInputSameBytes) {
  // Twice from disk, and once from the same files held in memory.
  const fs::path repo = kAudit / "turbo-monorepo" / "repo";
  Blueprint a = PlanFixture("turbo-monorepo");
  Blueprint b = PlanFixture("turbo-monorepo");
  EXPECT_EQ(a.files, b.files);
  EXPECT_EQ(Dump(a.ToJson()), Dump(b.ToJson()));
  std::map<std::string, std::string> mem;
  for (auto it = fs::recursive_directory_iterator(repo); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->is_regular_file() && !it->is_symlink())
      mem[fs::relative(it->path(), repo).generic_string()] = ReadText(it->path());
  }
  auto view = audit::OpenMemory(mem);
  Blueprint c = PlanOf(*view, "turbo-monorepo");
  EXPECT_EQ(a.files, c.files);
}

TEST(Plan, MissingFactsBecomeFindingsNotMadeUpValues) {
  auto view =
      audit::OpenMemory({{"package.json", R"({"name":"bare","dependencies":{"express":"4"}})"},
                         {"index.js", "require('express')().listen(process.env.PORT)\n"}});
  Blueprint b = PlanOf(*view, "bare");
  const std::string df = b.files["Dockerfile"];
  ASSERT_FALSE(df.empty());
  // No Node.js version anywhere: the Dockerfile asks for one.
  EXPECT_NE(df.find("ARG NODE_VERSION\nFROM node:${NODE_VERSION}-bookworm-slim"), std::string::npos)
      << df;
  ASSERT_TRUE(FindingOf(b, "PLAN001"));
  EXPECT_NE(FindingOf(b, "PLAN001")->fix.find("engines.node"), std::string::npos);
  // No start command: the image refuses to start and says why.
  ASSERT_TRUE(FindingOf(b, "PLAN002"));
  EXPECT_EQ(FindingOf(b, "PLAN002")->severity, "error");
  EXPECT_NE(df.find("see finding PLAN002"), std::string::npos);
  // No health route: no health check made up, an explicit NONE, and an info finding.
  EXPECT_NE(df.find("HEALTHCHECK NONE"), std::string::npos);
  EXPECT_EQ(df.find("HEALTHCHECK --"), std::string::npos);
  EXPECT_TRUE(FindingOf(b, "PLAN006"));
  // The workflow reads the version from a repository variable, not a guess (below).
  EXPECT_TRUE(FindingOf(b, "PLAN009"));   // no test command
  EXPECT_FALSE(FindingOf(b, "PLAN011"));  // so no test job that needs the version

  auto tested = audit::OpenMemory(
      {{"package.json",
        R"({"name":"bare","scripts":{"test":"node --test"},"dependencies":{"express":"4"}})"}});
  Blueprint t = PlanOf(*tested, "bare");
  EXPECT_NE(
      t.files[".github/workflows/prodsprint.yml"].find("node-version: ${{ vars.NODE_VERSION }}"),
      std::string::npos);
  EXPECT_TRUE(FindingOf(t, "PLAN011"));
}

TEST(Plan, GeneratedDockerfileIsHardened) {
  Blueprint b = PlanFixture("python-fastapi");
  const std::string df = b.files["Dockerfile"];
  EXPECT_EQ(df.rfind("# syntax=docker/dockerfile:1\n", 0), 0u);
  EXPECT_NE(df.find("FROM python:3.12-slim-bookworm AS build"), std::string::npos);
  EXPECT_NE(df.find("--mount=type=cache"), std::string::npos);  // dependency cache
  EXPECT_NE(df.find("USER 10001"), std::string::npos);          // non-root
  EXPECT_NE(df.find("HEALTHCHECK"), std::string::npos);
  EXPECT_NE(df.find("/health"), std::string::npos);
  EXPECT_TRUE(b.files.count("Dockerfile.dockerignore"));
  EXPECT_NE(b.files["Dockerfile.dockerignore"].find("**/.env"), std::string::npos);
}

TEST(Plan, ReviewsAnExistingDockerfile) {
  auto view = audit::OpenMemory(
      {{"package.json",
        R"({"name":"old","scripts":{"start":"node s.js"},"engines":{"node":"20"},"dependencies":{"express":"4"}})"},
       {"s.js", "require('express')().get('/healthz', (q, r) => r.send('ok')).listen(3000)\n"},
       {"Dockerfile",
        "FROM node:latest\nENV API_TOKEN=abc123secret\nADD https://example.com/x.tgz /x.tgz\n"
        "RUN apt-get update && apt-get install -y curl\nCOPY . .\nCMD [\"node\", \"s.js\"]\n"}});
  Blueprint b = PlanOf(*view, "old");
  EXPECT_FALSE(b.files.count("Dockerfile")) << "an existing Dockerfile is reviewed, not replaced";
  for (const char* id : {"DF001", "DF002", "DF003", "DF004", "DF005", "DF006"}) {
    EXPECT_TRUE(FindingOf(b, id)) << id;
  }
  EXPECT_EQ(FindingOf(b, "DF004")->line, 2);
  EXPECT_EQ(FindingOf(b, "DF004")->message.find("abc123secret"), std::string::npos)
      << "a finding never prints the secret";
  // A pinned image of another version than the project asks for.
  auto v2 = audit::OpenMemory(
      {{"package.json",
        R"({"name":"old","scripts":{"start":"node s.js"},"engines":{"node":"22.1.0"}})"},
       {"Dockerfile", "FROM node:18.20-slim\nUSER node\nCMD [\"node\", \"s.js\"]\n"}});
  Blueprint c = PlanOf(*v2, "old");
  ASSERT_TRUE(FindingOf(c, "DF008"));
  EXPECT_FALSE(FindingOf(c, "DF001"));
  EXPECT_FALSE(FindingOf(c, "DF002"));
}

TEST(Plan, WorkflowIsLeastPrivilegeAndPinned) {
  Blueprint b = PlanFixture("go-services");
  const std::string w = b.files[".github/workflows/prodsprint.yml"];
  EXPECT_NE(w.find("\npermissions: {}\n"), std::string::npos);
  EXPECT_NE(w.find("concurrency:"), std::string::npos);
  // Every `uses:` names a 40-hex commit and its release.
  std::size_t pos = 0, count = 0;
  while ((pos = w.find("uses: ", pos)) != std::string::npos) {
    auto at = w.find('@', pos);
    auto eol = w.find('\n', pos);
    ASSERT_LT(at, eol);
    const std::string sha = w.substr(at + 1, 40);
    EXPECT_EQ(sha.find_first_not_of("0123456789abcdef"), std::string::npos) << sha;
    EXPECT_EQ(w.substr(at + 41, 4), " # v");
    pos = eol;
    ++count;
  }
  EXPECT_GT(count, 5u);
  EXPECT_NE(w.find("id-token: write"), std::string::npos);  // keyless signing
  EXPECT_EQ(w.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  // To AWS: a role assumed with the OIDC token, never an access key.
  auto view = audit::OpenWorkTree((kAudit / "go-services" / "repo").string());
  Blueprint aws = PlanOf(**view, "go-services", "aws");
  const std::string a = aws.files[".github/workflows/prodsprint.yml"];
  EXPECT_NE(a.find("role-to-assume: ${{ vars.AWS_ROLE_ARN }}"), std::string::npos);
  EXPECT_EQ(a.find("aws-access-key-id"), std::string::npos);
  EXPECT_EQ(a.find("packages: write"), std::string::npos);  // ECR, not ghcr.io
  EXPECT_NE(a.find("deploy-production:"), std::string::npos);
  EXPECT_NE(a.find("environment: production"), std::string::npos);
}

TEST(PlanCost, PricesWhatTheTerraformMakesWithExplicitUsage) {
  std::map<std::string, std::string> files = {
      {"package.json",
       R"({"name":"shop","scripts":{"start":"node s.js"},"engines":{"node":"20"},"dependencies":{"express":"4","pg":"8"}})"},
      {"s.js", "require('express')().listen(8080)\n"}};
  auto plan = [&](const std::string& env) {
    auto view = audit::OpenMemory(files);
    auto audited = audit::Audit(*view, {});
    PlanOptions o{"shop", "aws", env, ""};
    auto b = MakeBlueprint(*audited, o, ReaderOf(*view));
    EXPECT_TRUE(b.ok());
    return *b;
  };
  Blueprint b = plan("staging");
  ASSERT_TRUE(b.cost.is_object());
  const Json& res = b.cost["projects"][0]["breakdown"]["resources"];
  double sum = 0;
  for (const auto& r : res) sum += std::stod(r["monthlyCost"].get<std::string>());
  EXPECT_NEAR(sum, std::stod(b.cost["totalMonthlyCost"].get<std::string>()), 0.05);
  // The Fargate task: 0.25 vCPU and 0.5 GB for 730 hours at the table's prices.
  const Json* svc = nullptr;
  for (const auto& r : res) {
    if (r["name"] == "aws_ecs_service.shop") svc = &r;
  }
  ASSERT_TRUE(svc);
  EXPECT_EQ((*svc)["monthlyCost"], "9.01");  // 0.25*0.04048*730 + 0.5*0.004445*730
  EXPECT_EQ(b.cost["usage"]["aws_ecs_service.shop"]["desired_count"]["from"], "default");
  EXPECT_TRUE(b.files.count("infra/aws/staging/cost.json"));
  EXPECT_TRUE(b.files.count("infra/aws/staging/usage.yml"));
  // Production is bigger.
  Blueprint p = plan("production");
  EXPECT_GT(std::stod(p.cost["totalMonthlyCost"].get<std::string>()),
            std::stod(b.cost["totalMonthlyCost"].get<std::string>()));
  // A usage file overrides the assumption it names.
  files["prodsprint-usage.yml"] =
      "version: 0.1\nresource_usage:\n  aws_ecs_service.shop:\n    desired_count: 4\n";
  Blueprint u = plan("staging");
  for (const auto& r : u.cost["projects"][0]["breakdown"]["resources"]) {
    if (r["name"] == "aws_ecs_service.shop") {
      EXPECT_EQ(r["monthlyCost"], "36.04");
    }
  }
  EXPECT_EQ(u.cost["usage"]["aws_ecs_service.shop"]["desired_count"]["from"],
            "prodsprint-usage.yml");
  // A broken usage file: a finding, and the defaults.
  files["prodsprint-usage.yml"] = "resource_usage: [unclosed\n";
  Blueprint x = plan("staging");
  EXPECT_TRUE(FindingOf(x, "PLAN017"));
  EXPECT_EQ(x.cost["totalMonthlyCost"], b.cost["totalMonthlyCost"]);
  // The table says where its prices come from.
  Json t = PriceTable();
  EXPECT_EQ(t["hoursPerMonth"], 730);
  EXPECT_FALSE(t["sources"].empty());
}

TEST(Plan, DraftedPolicyIsAValidConfiguration) {
  Blueprint b = PlanFixture("node-express");  // postgres and redis: data to protect
  ASSERT_TRUE(b.files.count("prodsprint.yaml"));
  auto c = ParseConfig(b.files["prodsprint.yaml"], "prodsprint.yaml");
  ASSERT_TRUE(c.ok()) << c.problem().Message();
  EXPECT_EQ(c->policy.security_max_severity, "medium");
  EXPECT_EQ(c->policy.perf_p95_ms, 300);
  EXPECT_TRUE(c->policy.tests_required);
  EXPECT_EQ(c->policy.tests_coverage_min, 60);
  EXPECT_EQ(c->policy.ToJson(), [&] {
    Json p = b.policies;
    p.erase("why");
    return p;
  }());
  // A repository with its own prodsprint.yaml gets the section beside it.
  auto view =
      audit::OpenMemory({{"index.html", "<html></html>"}, {"prodsprint.yaml", "version: 1\n"}});
  Blueprint own = PlanOf(*view, "site");
  EXPECT_FALSE(own.files.count("prodsprint.yaml"));
  ASSERT_TRUE(own.files.count("prodsprint.policy.yaml"));
  EXPECT_TRUE(FindingOf(own, "PLAN018"));
  auto section = ParseConfig(own.files["prodsprint.policy.yaml"], "p.yaml");
  ASSERT_TRUE(section.ok()) << section.problem().Message();
  EXPECT_EQ(section->policy.security_max_severity, "high");  // no data behind a static site
  // Bad values are refused with the key named.
  auto bad = ParseConfig("version: 1\npolicy:\n  security:\n    max_severity: extreme\n", "x.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.problem().Message().find("policy.security.max_severity"), std::string::npos);
}

// The diff names resources, not only files, and the cost's change.
TEST(PlanDiff, ResourcesAndCostBetweenTwoPlans) {
  std::map<std::string, std::string> files = {
      {"package.json",
       R"({"name":"shop","scripts":{"start":"node s.js"},"engines":{"node":"20"},"dependencies":{"express":"4"}})"},
      {"s.js", "require('express')().listen(8080)\n"}};
  auto plan = [&] {
    auto view = audit::OpenMemory(files);
    return PlanOf(*view, "shop", "aws");
  };
  Blueprint a = plan();
  Json first = Diff(nullptr, a.State());
  EXPECT_TRUE(first["first"].get<bool>());
  EXPECT_FALSE(first["resources"]["added"].empty());
  Json same = Diff(a.State(), plan().State());
  EXPECT_TRUE(same["resources"]["added"].empty());
  EXPECT_TRUE(same["resources"]["changed"].empty());
  EXPECT_EQ(same["cost"]["delta"], "+0.00");
  // The app starts using PostgreSQL: a database appears, the task changes,
  // and the cost goes up.
  files["package.json"] =
      R"({"name":"shop","scripts":{"start":"node s.js"},"engines":{"node":"20"},"dependencies":{"express":"4","pg":"8"}})";
  Blueprint b = plan();
  Json d = Diff(a.State(), b.State());
  auto has = [](const Json& list, const std::string& x) {
    return std::find(list.begin(), list.end(), Json(x)) != list.end();
  };
  EXPECT_TRUE(has(d["resources"]["added"], "infra/aws/staging:aws_db_instance.main")) << d;
  EXPECT_TRUE(has(d["resources"]["changed"], "infra/aws/staging:aws_ecs_task_definition.shop"))
      << d;
  EXPECT_EQ(d["cost"]["delta"].get<std::string>().front(), '+');
  EXPECT_GT(std::stod(d["cost"]["delta"].get<std::string>()), 10.0);
  // And back: removed.
  Json back = Diff(b.State(), a.State());
  EXPECT_TRUE(has(back["resources"]["removed"], "infra/aws/staging:aws_db_instance.main"));
  EXPECT_EQ(back["cost"]["delta"].get<std::string>().front(), '-');
}

// The chart's plain YAML parses, and every .Values path its templates use is
// in values.yaml (a typo there renders as an empty string, silently).
TEST(PlanKubernetes, ChartsAreConsistent) {
  auto view = audit::OpenWorkTree((kAudit / "go-services" / "repo").string());
  ASSERT_TRUE(view.ok());
  Blueprint b = PlanOf(**view, "go-services", "kubernetes");
  int charts = 0;
  for (const auto& [path, content] : b.files) {
    const bool yaml = path.size() > 5 && (path.substr(path.size() - 5) == ".yaml");
    if (yaml && path.find("/templates/") == std::string::npos) {
      EXPECT_NO_THROW(YAML::Load(content)) << path;
    }
    if (path.find("/templates/") == std::string::npos) continue;
    const std::string chart = path.substr(0, path.find("/templates/"));
    YAML::Node values = YAML::Load(b.files[chart + "/values.yaml"]);
    ++charts;
    // Balanced actions.
    std::size_t open = 0, close = 0;
    for (std::size_t at = content.find("{{"); at != std::string::npos;
         at = content.find("{{", at + 2))
      ++open;
    for (std::size_t at = content.find("}}"); at != std::string::npos;
         at = content.find("}}", at + 2))
      ++close;
    EXPECT_EQ(open, close) << path;
    for (std::size_t at = content.find(".Values."); at != std::string::npos;
         at = content.find(".Values.", at + 1)) {
      std::size_t e = at + 8;
      while (e < content.size() && (std::isalnum(static_cast<unsigned char>(content[e])) ||
                                    content[e] == '.' || content[e] == '_'))
        ++e;
      std::string key = content.substr(at + 8, e - at - 8);
      if (key == "nameOverride" || key == "fullnameOverride" || key == "serviceAccount.name")
        continue;
      YAML::Node n = YAML::Clone(values);
      std::size_t from = 0;
      bool found = true;
      while (found) {
        auto dot = key.find('.', from);
        const std::string part =
            key.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
        if (!n.IsMap() || !n[part]) {
          found = false;
          break;
        }
        n = n[part];
        if (dot == std::string::npos) break;
        from = dot + 1;
      }
      EXPECT_TRUE(found) << path << " uses .Values." << key << ", which values.yaml lacks";
    }
  }
  EXPECT_GT(charts, 0);
  // Non-root, read-only, and a Rollout, not a Deployment.
  const std::string rollout = b.files["deploy/helm/api/templates/rollout.yaml"];
  EXPECT_NE(rollout.find("kind: Rollout"), std::string::npos);
  EXPECT_NE(rollout.find("runAsNonRoot: true"), std::string::npos);
  EXPECT_NE(rollout.find("readOnlyRootFilesystem: true"), std::string::npos);
  EXPECT_TRUE(b.files.count("deploy/helm/api/templates/analysistemplate.yaml"));
  EXPECT_TRUE(b.files.count("deploy/argocd/api-production.yaml"));
  EXPECT_TRUE(FindingOf(b, "PLAN020"));  // no repository URL given
}

// A FastAPI backend that needs PostgreSQL (issue 15): the Kubernetes plan
// makes the cluster and the database in Terraform, wires the database into
// the chart through External Secrets (no secret value in Terraform's state or
// in Git), and prices all of it — on EKS and on GKE.
TEST(PlanKubernetes, TheClusterAndItsDatabaseAreInTerraformWiredAndPriced) {
  auto view = audit::OpenWorkTree((kAudit / "python-fastapi" / "repo").string());
  ASSERT_TRUE(view.ok());
  Blueprint aws = PlanOf(**view, "shop", "kubernetes");
  const std::string dir = "infra/kubernetes/aws/staging/";
  for (const char* f : {"versions.tf", "backend.hcl", "main.tf", "network.tf", "eks.tf", "data.tf",
                        "identities.tf", "outputs.tf", "cost.json"}) {
    EXPECT_TRUE(aws.files.count(dir + f)) << f;
  }
  const std::string data = aws.files[dir + "data.tf"];
  EXPECT_NE(data.find("resource \"aws_db_instance\" \"main\""), std::string::npos);
  EXPECT_NE(data.find("manage_master_user_password = true"), std::string::npos);
  EXPECT_EQ(data.find("\n  password "), std::string::npos) << "no password in Terraform";
  EXPECT_EQ(data.find("random_password"), std::string::npos);
  EXPECT_NE(aws.files[dir + "eks.tf"].find("resource \"aws_eks_cluster\" \"main\""),
            std::string::npos);
  // The chart's values come from Terraform's outputs: DATABASE_URL composed by
  // External Secrets from the RDS-managed secret, the endpoint in the env.
  const std::string outputs = aws.files[dir + "outputs.tf"];
  EXPECT_NE(outputs.find("output \"helm_values_inventory\""), std::string::npos) << outputs;
  EXPECT_NE(outputs.find("DATABASE_URL = \"postgresql://{{ .DB_USERNAME }}"), std::string::npos);
  EXPECT_NE(outputs.find("master_user_secret[0].secret_arn"), std::string::npos);
  const std::string chart = "deploy/helm/inventory/";
  EXPECT_NE(aws.files[chart + "templates/externalsecret.yaml"].find("kind: ExternalSecret"),
            std::string::npos);
  EXPECT_TRUE(aws.files.count(chart + "values-staging-infra.yaml"));
  EXPECT_NE(aws.files["deploy/argocd/inventory-staging.yaml"].find("values-staging-infra.yaml"),
            std::string::npos);
  EXPECT_TRUE(aws.files.count("deploy/argocd/external-secrets-staging.yaml"));
  EXPECT_TRUE(aws.files.count("deploy/external-secrets/cluster-secret-store-staging.yaml"));
  EXPECT_NE(aws.files["deploy/infra-values.sh"].find("helm_values_inventory"), std::string::npos);
  // Whoever applies the Terraform can reach the cluster; the External Secrets
  // store's region comes from Terraform (written by infra-values.sh, synced by
  // the operator's Application); a rotated RDS password restarts the pods
  // (Reloader) instead of leaving them with a stale one.
  EXPECT_NE(aws.files[dir + "eks.tf"].find("bootstrap_cluster_creator_admin_permissions = true"),
            std::string::npos);
  EXPECT_NE(outputs.find("output \"cluster_secret_store\""), std::string::npos);
  EXPECT_NE(outputs.find("= var.region", outputs.find("cluster_secret_store")), std::string::npos);
  EXPECT_NE(outputs.find("refreshInterval = \"5m\""), std::string::npos);
  EXPECT_NE(aws.files["deploy/infra-values.sh"].find("cluster-secret-store-$env.yaml"),
            std::string::npos);
  const std::string eso_app = aws.files["deploy/argocd/external-secrets-staging.yaml"];
  EXPECT_NE(eso_app.find("include: cluster-secret-store-staging.yaml"), std::string::npos);
  EXPECT_NE(eso_app.find("$repo/deploy/external-secrets/values-staging-infra.yaml"),
            std::string::npos);
  EXPECT_NE(aws.files["deploy/argocd/reloader-staging.yaml"].find("isArgoRollouts: true"),
            std::string::npos);
  EXPECT_NE(aws.files[chart + "templates/rollout.yaml"].find("secret.reloader.stakater.com/reload"),
            std::string::npos);
  EXPECT_NE(aws.files["deploy/argocd/inventory-staging.yaml"].find("RespectIgnoreDifferences"),
            std::string::npos);
  // The cost prices the cluster, its nodes and the database.
  std::set<std::string> priced;
  for (const auto& r : aws.cost["projects"][0]["breakdown"]["resources"])
    priced.insert(r["name"].get<std::string>());
  for (const char* r : {"aws_eks_cluster.main", "aws_eks_node_group.main", "aws_db_instance.main",
                        "aws_nat_gateway.main"}) {
    EXPECT_TRUE(priced.count(r)) << r << " not priced: " << aws.cost.dump();
  }
  EXPECT_GT(std::stod(aws.cost["totalMonthlyCost"].get<std::string>()), 150.0);

  // GKE: Cloud SQL with IAM authentication through the Auth Proxy (no
  // password at all), Workload Identity for the pods.
  Blueprint gcp = PlanOf(**view, "shop", "kubernetes:gcp");
  const std::string g = "infra/kubernetes/gcp/staging/";
  EXPECT_NE(gcp.files[g + "gke.tf"].find("workload_pool"), std::string::npos);
  EXPECT_NE(gcp.files[g + "data.tf"].find("cloudsql.iam_authentication"), std::string::npos);
  EXPECT_NE(gcp.files[g + "identities.tf"].find("CLOUD_IAM_SERVICE_ACCOUNT"), std::string::npos);
  EXPECT_NE(gcp.files[g + "outputs.tf"].find("cloudSqlProxy"), std::string::npos);
  EXPECT_NE(gcp.files[chart + "templates/rollout.yaml"].find("cloud-sql-proxy"), std::string::npos);
  // The IAM user's name has an '@': escaped in the URL. Its rights on the
  // database are granted once by hand (Terraform cannot reach a private
  // instance): the statements are an output, the finding says how.
  const std::string gout = gcp.files[g + "outputs.tf"];
  EXPECT_NE(gout.find("postgresql://${urlencode(trimsuffix("), std::string::npos) << gout;
  EXPECT_NE(gout.find("output \"database_grants\""), std::string::npos);
  EXPECT_NE(gout.find("projectID = var.project_id"), std::string::npos);
  EXPECT_NE(gout.find("google_service_account.external_secrets.email"), std::string::npos);
  EXPECT_TRUE(FindingOf(gcp, "PLAN028"));
  EXPECT_NE(gcp.files[g + "identities.tf"].find("workload_identity_config[0].workload_pool"),
            std::string::npos);
  EXPECT_NE(gcp.files[g + "data.tf"].find("\"ENTERPRISE\""), std::string::npos);
  std::set<std::string> gpriced;
  for (const auto& r : gcp.cost["projects"][0]["breakdown"]["resources"])
    gpriced.insert(r["name"].get<std::string>());
  EXPECT_TRUE(gpriced.count("google_sql_database_instance.main")) << gcp.cost.dump();
  EXPECT_TRUE(gpriced.count("google_container_cluster.main"));
  EXPECT_EQ(gcp.cost["priceTable"]["region"], "us-central1");
  // An unknown cloud is refused.
  auto audited = audit::Audit(**view, {});
  ASSERT_TRUE(audited.ok());
  PlanOptions bad{"shop", "kubernetes", "staging", ""};
  bad.cloud = "azure";
  EXPECT_TRUE(MakeBlueprint(*audited, bad, {}).problem().Is("invalid-input"));
}

// Cloud names have rules of their own: a project name the plan accepts (up
// to 63 characters, may start with a digit) still gives a GKE cluster name of
// at most 40 starting with a letter, and Google service account ids of 6 to
// 30 characters that do not end with '-' (a service named orders-api once
// gave "...-orders-").
TEST(PlanKubernetes, NamesFitTheCloudsRules) {
  auto view = audit::OpenWorkTree((kAudit / "node-express" / "repo").string());
  ASSERT_TRUE(view.ok());
  const std::string project = "2048-an-extraordinarily-long-project-name-for-the-cloud-limits";
  ASSERT_LE(project.size(), 63u);
  Blueprint b = PlanOf(**view, project, "kubernetes:gcp");
  const std::string dir = "infra/kubernetes/gcp/staging/";
  const std::regex account(R"re(account_id\s*=\s*"([^"]*)")re");
  const std::regex valid("[a-z][-a-z0-9]{4,28}[a-z0-9]");
  int accounts = 0;
  for (const char* f : {"gke.tf", "identities.tf"}) {
    const std::string text = b.files[dir + f];
    for (std::sregex_iterator it(text.begin(), text.end(), account), end; it != end; ++it) {
      ++accounts;
      EXPECT_TRUE(std::regex_match((*it)[1].str(), valid)) << (*it)[1].str();
    }
  }
  EXPECT_GE(accounts, 3);
  std::smatch m;
  const std::string main_tf = b.files[dir + "main.tf"];
  ASSERT_TRUE(std::regex_search(main_tf, m, std::regex(R"re(name\s*=\s*"([^"]*)")re")));
  EXPECT_LE(m[1].str().size(), 40u) << m[1];
  EXPECT_TRUE(std::regex_match(m[1].str(), std::regex("[a-z][-a-z0-9]*[a-z0-9]"))) << m[1];
  // The namespace stays the one Argo CD deploys to.
  EXPECT_NE(main_tf.find("\"" + project + "-staging\""), std::string::npos);
}

TEST(Plan, RefusesBadOptions) {
  auto view = audit::OpenMemory({{"index.html", "<html></html>"}});
  auto audited = audit::Audit(*view, {});
  ASSERT_TRUE(audited.ok());
  for (const auto& [target, env, project] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"mars", "staging", "p"},
           {"local", "qa", "p"},
           {"local", "staging", "Bad Name"},
           {"local", "staging", ""}}) {
    PlanOptions o{project, target, env, ""};
    auto b = MakeBlueprint(*audited, o, {});
    ASSERT_FALSE(b.ok());
    EXPECT_TRUE(b.problem().Is("invalid-input"));
  }
  EXPECT_FALSE(MakeBlueprint(Json::parse("[1,2]"), {"p", "local", "staging", ""}, {}).ok());
  EXPECT_EQ(Slug("My App_2"), "my-app-2");
  EXPECT_EQ(Slug("--"), "app");
}

// The command: files written under --out, a second plan reports no change,
// a file the plan no longer makes is removed unless the user edited it, and
// a symbolic link in the output folder is refused.
TEST(PlanCli, WritesDiffsAndCleansUp) {
  ps::testing::TempDir dir;
  const fs::path repo = dir / "shop";
  fs::copy(kAudit / "go-services" / "repo", repo, fs::copy_options::recursive);
  const fs::path out = dir / "out";
  auto plan = [&](const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{PS_BINARY, "plan",       repo.string(),
                                  "--out",   out.string(), "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return ps::testing::RunCommand(argv, dir.path());
  };
  auto r1 = plan();
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  Json j1 = Json::parse(r1.out);
  EXPECT_TRUE(j1["diff"]["first"].get<bool>());
  EXPECT_TRUE(fs::exists(out / "cmd/worker/Dockerfile"));
  EXPECT_TRUE(fs::exists(out / ".github/workflows/prodsprint.yml"));
  EXPECT_TRUE(fs::exists(out / "plan.json"));
  const std::string first = ReadText(out / "cmd/worker/Dockerfile");

  auto r2 = plan();
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  Json j2 = Json::parse(r2.out);
  EXPECT_FALSE(j2["diff"]["first"].get<bool>());
  EXPECT_TRUE(j2["diff"]["files"]["added"].empty());
  EXPECT_TRUE(j2["diff"]["files"]["changed"].empty());
  EXPECT_EQ(ReadText(out / "cmd/worker/Dockerfile"), first);

  // The worker gets its own Dockerfile: the plan no longer writes one.
  WriteText(repo / "cmd/worker/Dockerfile", "FROM golang:1.22.3\nUSER 1000\nCMD [\"/w\"]\n");
  auto r3 = plan();
  ASSERT_EQ(r3.exit_code, 0) << r3.err;
  Json j3 = Json::parse(r3.out);
  EXPECT_EQ(j3["diff"]["files"]["removed"].size(), 2u) << j3["diff"];
  EXPECT_FALSE(fs::exists(out / "cmd/worker/Dockerfile"));

  // A file the user edited is kept.
  fs::remove(repo / "cmd/worker/Dockerfile");
  ASSERT_EQ(plan().exit_code, 0);
  WriteText(out / "cmd/worker/Dockerfile", "# mine now\n");
  WriteText(repo / "cmd/worker/Dockerfile", "FROM golang:1.22.3\nUSER 1000\nCMD [\"/w\"]\n");
  auto r4 = plan();
  ASSERT_EQ(r4.exit_code, 0) << r4.err;
  EXPECT_TRUE(fs::exists(out / "cmd/worker/Dockerfile"));
  EXPECT_EQ(Json::parse(r4.out)["diff"]["kept_edited"].size(), 1u);

  // A link in the output folder: refused, nothing written through it.
  fs::remove_all(out / ".github");
  fs::create_directories(dir / "elsewhere");
  fs::create_directory_symlink(dir / "elsewhere", out / ".github");
  auto r5 = plan();
  EXPECT_NE(r5.exit_code, 0);
  EXPECT_TRUE(fs::is_empty(dir / "elsewhere"));

  // Bad options: a usage-level error, nothing written.
  auto r6 = ps::testing::RunCommand(
      {PS_BINARY, "plan", repo.string(), "--target", "mars", "--out", (dir / "out2").string()},
      dir.path());
  EXPECT_NE(r6.exit_code, 0);
  EXPECT_NE(r6.err.find("unknown target"), std::string::npos) << r6.err;
  EXPECT_FALSE(fs::exists(dir / "out2"));
}

}  // namespace
}  // namespace ps::stages::plan
