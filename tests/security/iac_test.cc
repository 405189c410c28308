// Container and IaC rules: each rule on a file that breaks it and on its
// corrected form, malformed input, and ProdSprint's own generated blueprint
// (which must pass every rule).
#include "security/iac.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/fs.h"

namespace ps::security {
namespace {

namespace fs = std::filesystem;

std::multiset<std::string> Rules(const std::vector<IacFinding>& fs) {
  std::multiset<std::string> out;
  for (const auto& f : fs) out.insert(f.rule_id);
  return out;
}

TEST(Iac, EveryRuleHasDocs) {
  std::set<std::string> ids;
  for (const auto& r : BuiltinIacRules()) {
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
    EXPECT_GT(std::string(r.remediation).size(), 20u) << r.id;
    EXPECT_NE(std::string("critical high medium low").find(r.severity), std::string::npos);
  }
}

TEST(Iac, Dockerfile) {
  const std::string bad =
      "FROM node:latest AS build\n"
      "RUN curl -fsSL https://get.example.com/install.sh | sh\n"
      "FROM python\n"
      "ENV API_TOKEN=s3cr3tvalue123 \\\n    OTHER=1\n"
      "ARG DB_PASSWORD=${PASSWORD}\n"
      "ADD https://example.com/tool.tgz /opt/\n"
      "RUN apt-get update && apt-get install -y curl\n"
      "RUN apk add git\n"
      "USER root\n";
  auto f = CheckDockerfile("Dockerfile", bad);
  EXPECT_EQ(Rules(f), (std::multiset<std::string>{"DF001", "DF001", "DF002", "DF003", "DF004",
                                                  "DF005", "DF006", "DF006", "DF007"}));
  for (const auto& x : f) {
    EXPECT_EQ(x.message.find("s3cr3tvalue123"), std::string::npos)
        << "a finding never holds the secret";
    if (x.rule_id == "DF004") {
      EXPECT_EQ(x.line, 4);
    }
    if (x.rule_id == "DF002") {
      EXPECT_EQ(x.line, 10);
    }
  }
  const std::string good =
      "# syntax=docker/dockerfile:1\n"
      "FROM node:20.11-bookworm-slim AS build\n"
      "RUN apt-get update && apt-get install -y --no-install-recommends curl \\\n"
      "    && rm -rf /var/lib/apt/lists/*\n"
      "FROM gcr.io/distroless/nodejs20@sha256:0123456789abcdef\n"
      "ARG API_TOKEN\n"
      "COPY --from=build /app /app\n"
      "USER 10001:10001\n"
      "HEALTHCHECK CMD [\"/nodejs/bin/node\", \"/app/health.js\"]\n";
  EXPECT_TRUE(CheckDockerfile("Dockerfile", good).empty());
  EXPECT_TRUE(CheckDockerfile("Dockerfile", "").empty());
  // "FROM --flag" with nothing after it (found by iac_fuzz: it looped forever).
  EXPECT_EQ(CheckDockerfile("Dockerfile", "FROM --\nFROM --platform=x\nUSER 1\nHEALTHCHECK NONE\n")
                .size(),
            0u);
  EXPECT_TRUE(CheckDockerfile("Dockerfile", std::string(100000, '\\')).empty());
}

TEST(Iac, Kubernetes) {
  const std::string bad = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      hostNetwork: true
      volumes:
        - name: docker
          hostPath: {path: /var/run/docker.sock}
      containers:
        - name: app
          image: nginx
          securityContext:
            privileged: true
            capabilities: {add: [SYS_ADMIN]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          securityContext: {runAsUser: 0}
          containers:
            - name: job
              image: busybox:latest
)";
  auto f = CheckKubernetes("k8s/web.yaml", bad);
  const auto rules = Rules(f);
  for (const char* id :
       {"K8S001", "K8S002", "K8S003", "K8S004", "K8S005", "K8S006", "K8S007", "K8S008"}) {
    EXPECT_TRUE(rules.count(id)) << id;
  }
  EXPECT_EQ(rules.count("K8S005"), 2u);
  EXPECT_TRUE(std::any_of(f.begin(), f.end(),
                          [](const IacFinding& x) { return x.resource == "CronJob/nightly"; }));
  // Lines point into the file, also in its second document (busybox:latest is line 29).
  EXPECT_TRUE(std::any_of(f.begin(), f.end(), [](const IacFinding& x) {
    return x.rule_id == "K8S005" && x.resource == "CronJob/nightly" && x.line == 29;
  }));
  // A stray "," after the manifest: yaml-cpp's LoadAll would never return.
  std::vector<std::string> stray;
  EXPECT_EQ(CheckKubernetes("k8s/web.yaml", bad + "---\n,\n", &stray).size(), f.size());
  const std::string good = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      containers:
        - name: app
          image: ghcr.io/acme/web:1.4.2
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
          resources: {limits: {cpu: 500m, memory: 256Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
)";
  EXPECT_TRUE(CheckKubernetes("k8s/web.yaml", good).empty());
  std::vector<std::string> warnings;
  EXPECT_TRUE(CheckKubernetes("bad.yaml", "apiVersion: v1\nkind: [\n", &warnings).empty());
  EXPECT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(
      CheckKubernetes("deep.yaml", "kind: x\napiVersion: " + std::string(500, '['), &warnings)
          .empty());
  // Odd shapes are not crashes.
  EXPECT_TRUE(CheckKubernetes("odd.yaml",
                              "apiVersion: v1\nkind: Pod\nspec: {containers: 5, volumes: {a: 1}}\n")
                  .empty());
}

TEST(Iac, Terraform) {
  const std::string bad = R"(# comment
resource "aws_s3_bucket_acl" "assets" {
  bucket = aws_s3_bucket.assets.id
  acl    = "public-read"
}

resource "aws_security_group" "db" {
  name = "db-${var.env}"
  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8", "0.0.0.0/0"]
  }
  ingress { from_port = 443
    to_port = 443
    protocol = "tcp"
    cidr_blocks = ["0.0.0.0/0"] }
}

resource "aws_db_instance" "main" {
  engine              = "postgres"
  publicly_accessible = true
  tags = {
    Name = "main" // inline comment
  }
}

resource "aws_iam_policy" "admin" {
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }]
  })
}

data "aws_iam_policy_document" "all" {
  statement {
    actions   = ["*"]
    resources = ["*"]
  }
}

resource "google_compute_firewall" "ssh" {
  source_ranges = ["0.0.0.0/0"]
  allow {
    protocol = "tcp"
    ports    = ["22", "8000-8080"]
  }
}

resource "aws_iam_role_policy" "heredoc" {
  policy = <<EOF
{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
EOF
}
)";
  std::vector<std::string> warnings;
  auto f = CheckTerraform("infra/main.tf", bad, &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  const auto rules = Rules(f);
  EXPECT_EQ(rules.count("TF001"), 1u);
  EXPECT_EQ(rules.count("TF002"), 2u);  // PostgreSQL to the world, SSH on GCP; 443 is fine
  EXPECT_EQ(rules.count("TF003"), 1u);
  EXPECT_EQ(rules.count("TF004"), 3u);
  EXPECT_EQ(rules.count("TF005"), 1u);
  EXPECT_EQ(rules.count("TF006"), 1u);
  for (const auto& x : f) {
    if (x.rule_id == "TF006") {
      EXPECT_EQ(x.resource, "aws_db_instance.main");
      EXPECT_EQ(x.line, 23);
    }
  }
  const std::string good = R"(
resource "aws_db_instance" "main" {
  engine              = "postgres"
  storage_encrypted   = true
  deletion_protection = true
  publicly_accessible = false
}
resource "aws_security_group" "web" {
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
)";
  EXPECT_TRUE(CheckTerraform("main.tf", good).empty());
  for (const char* broken :
       {"resource \"x\" \"y\" {", "resource \"x\" \"y\" { a = \"unterminated }", "}", "a = (1 + 2",
        "= 5", "resource \"a\" \"b\" { c = <<EOF\nno end\n}"}) {
    warnings.clear();
    EXPECT_TRUE(CheckTerraform("bad.tf", broken, &warnings).empty()) << broken;
    EXPECT_EQ(warnings.size(), 1u) << broken;
  }
  std::string deep;
  for (int i = 0; i < 500; ++i) deep += "b {\n";
  warnings.clear();
  EXPECT_TRUE(CheckTerraform("deep.tf", deep, &warnings).empty());
  EXPECT_EQ(warnings.size(), 1u);
}

TEST(Iac, KindOfFiles) {
  EXPECT_EQ(IacKindOf("svc/Dockerfile", ""), "dockerfile");
  EXPECT_EQ(IacKindOf("Dockerfile.prod", ""), "dockerfile");
  EXPECT_EQ(IacKindOf("infra/main.tf", ""), "terraform");
  EXPECT_EQ(IacKindOf("k8s/a.yaml", "apiVersion: v1\nkind: Pod\n"), "kubernetes");
  EXPECT_EQ(IacKindOf(".github/workflows/ci.yml", "on: push\n"), "");
}

}  // namespace
}  // namespace ps::security
