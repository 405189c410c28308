// Terraform for the Kubernetes target: the cluster and the managed backing
// services the audit found, per cloud and environment
// (infra/kubernetes/CLOUD/ENV), and what ties them to the charts.
//
//   aws: EKS (managed node group, EKS Pod Identity), RDS (PostgreSQL or
//        MySQL, its master password managed by RDS in Secrets Manager),
//        ElastiCache Redis (TLS), an S3 bucket, a Secrets Manager secret per
//        secret variable (values set outside Terraform).
//   gcp: GKE (private nodes, Workload Identity), Cloud SQL (private IP, IAM
//        database authentication through the Cloud SQL Auth Proxy: no
//        password anywhere), Memorystore Redis, a GCS bucket, a Secret
//        Manager secret per secret variable.
//
// Secrets reach the pods through the External Secrets Operator: a
// ClusterSecretStore on the cloud's secret manager, an ExternalSecret per
// chart that writes the Secret the Rollout reads. Why not Kubernetes Secrets
// made by Terraform: their values would sit in Terraform's state (and a
// password Terraform generates does too); here no secret value is ever in
// state or in Git — RDS generates and rotates its password itself, the
// application's secrets are set once in the secret manager, and ESO reads
// them at run time with the cluster's workload identity. Endpoints and
// secret names are not secrets: `terraform output -raw helm_values_SERVICE`
// gives each chart's values-ENV-infra.yaml, which the deploy job commits
// beside the image (GitOps: Argo CD syncs both).
#include <set>

#include "core/fs.h"
#include "stages/plan/blueprint.h"
#include "stages/plan/hcl.h"

namespace ps::stages::plan {

// (A named namespace, not an anonymous one: the unity build puts this file
// beside terraform.cc, whose helpers have the same names.)
namespace kinfra {

using hcl::Name;

std::string FillTf(const std::string& t,
                   const std::vector<std::pair<std::string, std::string>>& values) {
  return Fill(t, "{{", "}}", values);
}

// Variables the backing services give a service, so the application's own
// secrets do not repeat them.
bool WiredByInfra(const std::string& var) {
  static const std::set<std::string> kWired = {
      "DATABASE_URL",  "DB_HOST",        "DB_PORT",           "DB_NAME",     "DB_USER",
      "DB_USERNAME",   "DB_PASSWORD",    "REDIS_URL",         "REDIS_HOST",  "REDIS_PORT",
      "POSTGRES_HOST", "POSTGRES_USER",  "POSTGRES_PASSWORD", "POSTGRES_DB", "MYSQL_HOST",
      "MYSQL_USER",    "MYSQL_PASSWORD", "MYSQL_DATABASE",    "S3_BUCKET",   "PORT"};
  return kWired.count(var) != 0;
}

// The application secrets of a service: secret variables the
// infrastructure does not give.
std::vector<std::string> AppSecrets(const ServiceFacts& s) {
  std::vector<std::string> out;
  for (const auto& e : s.env_vars) {
    const std::string n = e.value("name", "");
    if (n.empty() || !e.value("secret", false) || WiredByInfra(n)) continue;
    out.push_back(n);
  }
  return out;
}

// A Terraform list of strings.
std::string TfList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

// What External Secrets needs from this Terraform, as outputs the deploy job
// writes beside it (deploy/infra-values.sh): the Helm values of its chart
// (the controller's identity) and the ClusterSecretStore it reads from (the
// region or project). `provider` and `values` are HCL object bodies.
std::string ExternalSecretsOutputs(const std::string& store, const std::string& provider,
                                   const std::string& values, const std::string& env) {
  return FillTf(R"HCL(
# deploy/external-secrets/values-{{env}}-infra.yaml: the operator's chart values.
output "external_secrets_values" {
  value = yamlencode({{values}})
}

# deploy/external-secrets/cluster-secret-store-{{env}}.yaml: where the charts'
# ExternalSecrets read (applied after the operator: sync wave 1).
output "cluster_secret_store" {
  value = yamlencode({
    apiVersion = "external-secrets.io/v1beta1"
    kind = "ClusterSecretStore"
    metadata = {
      name = "{{store}}"
      annotations = { "argocd.argoproj.io/sync-wave" = "1" }
    }
    spec = {
      provider = {{provider}}
    }
  })
}
)HCL",
                {{"env", env}, {"store", store}, {"provider", provider}, {"values", values}});
}

// The name of the cluster and its data services: PROJECT-ENV, starting with a
// letter and at most 40 characters (the limit of GKE, Memorystore and
// ElastiCache names); a longer project is cut and given 4 hex digits of its
// hash.
std::string CloudName(const std::string& project, const std::string& env) {
  std::string p = project;
  if (p.empty() || p[0] < 'a' || p[0] > 'z') p = "p" + p;
  const std::size_t room = 40 - 1 - env.size();
  if (p.size() > room) {
    p = p.substr(0, room - 5);
    while (!p.empty() && p.back() == '-') p.pop_back();
    p += "-" + Sha256Hex(project).substr(0, 4);
  }
  return p + "-" + env;
}

// A Google service account id: 6 to 30 of [a-z0-9-], starting with a letter,
// not ending with '-', unique in the Google Cloud project (which may hold
// both environments and other projects): PROJECT-stg|prd-SUFFIX. A suffix
// longer than 12 or a project longer than the room left is cut and given 4
// hex digits of its hash, so two long names never share an id.
std::string GcpAccountId(const std::string& project, const std::string& env,
                         const std::string& suffix) {
  auto trim = [](std::string v) {
    while (!v.empty() && v.back() == '-') v.pop_back();
    return v;
  };
  auto cut = [&](const std::string& v, std::size_t room) {
    return v.size() <= room ? trim(v)
                            : trim(v.substr(0, room - 5)) + "-" + Sha256Hex(v).substr(0, 4);
  };
  const std::string tail = cut(suffix, 12);
  std::string p = project;
  if (p.empty() || p[0] < 'a' || p[0] > 'z') p = "p" + p;
  const std::string mid = env == "production" ? "prd" : "stg";
  return cut(p, 30 - 2 - mid.size() - tail.size()) + "-" + mid + "-" + tail;
}

KubernetesSizing Sizing(const std::string& env) {
  KubernetesSizing z;
  if (env == "production") {
    z.nodes = 3;
    z.max_nodes = 6;
    z.db_class = "db.t4g.small";
    z.db_multi_az = true;
    z.cache_node = "cache.t4g.small";
    z.cache_nodes = 2;
    z.nat_gateways = 2;
    z.sql_tier = "db-custom-2-7680";
    z.sql_ha = true;
    z.redis_tier = "STANDARD_HA";
    z.backup_days = 30;
  }
  return z;
}

// The services that run in the cluster (static sites are not given charts).
std::vector<const ServiceFacts*> Workloads(const std::vector<ServiceFacts>& services) {
  std::vector<const ServiceFacts*> out;
  for (const auto& s : services) {
    if (s.kind != "static") out.push_back(&s);
  }
  return out;
}

void PlanEks(const std::vector<ServiceFacts>& services, const PlanOptions& o, Blueprint& out) {
  const KubernetesSizing z = Sizing(o.env);
  const bool prod = o.env == "production";
  const std::string dir = "infra/kubernetes/aws/" + o.env + "/";
  const std::string name = CloudName(o.project, o.env);
  const auto workloads = Workloads(services);
  std::set<std::string> backing;
  for (const auto* s : workloads)
    for (const auto& b : s->backing) backing.insert(b);
  const bool pg = backing.count("postgres"), my = backing.count("mysql");
  const bool redis = backing.count("redis"), s3 = backing.count("s3");

  out.files["infra/kubernetes/aws/bootstrap/main.tf"] = AwsStateBootstrap(
      o.project, o.project + "-k8s-terraform-state", "infra/kubernetes/aws/bootstrap");

  out.files[dir + "backend.hcl"] = hcl::Format(FillTf(
      R"HCL(bucket = "{{project}}-k8s-terraform-state"
key = "{{env}}/terraform.tfstate"
use_lockfile = true
encrypt = true
)HCL",
      {{"project", o.project}, {"env", o.env}}));

  out.files[dir + "versions.tf"] = hcl::Format(FillTf(R"HCL(terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      version = "~> 5.80"
    }
  }

  # terraform init -backend-config=backend.hcl
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project = "{{project}}"
      environment = "{{env}}"
      managed-by = "prodsprint"
    }
  }
}
)HCL",
                                                      {{"project", o.project}, {"env", o.env}}));

  out.files[dir + "main.tf"] =
      hcl::Format(FillTf(R"HCL(variable "region" {
  description = "The AWS region of the cluster and its data"
  type = string
  default = "us-east-1"
}

variable "kubernetes_version" {
  description = "The EKS control plane's Kubernetes version"
  type = string
  default = "1.33"
}

locals {
  name = "{{name}}"
  # The namespace Argo CD deploys the charts to (deploy/argocd).
  namespace = "{{namespace}}"
}

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_caller_identity" "current" {}
)HCL",
                         {{"name", name}, {"namespace", o.project + "-" + o.env}}));

  out.files[dir + "network.tf"] = hcl::Format(FillTf(
      R"HCL(resource "aws_vpc" "main" {
  cidr_block = "10.20.0.0/16"
  enable_dns_support = true
  enable_dns_hostnames = true

  tags = {
    Name = local.name
  }
}

# Load balancers the ingress controller makes go to the public subnets;
# nodes, databases and caches live in the private ones.
resource "aws_subnet" "public" {
  count = 2
  vpc_id = aws_vpc.main.id
  cidr_block = cidrsubnet(aws_vpc.main.cidr_block, 4, count.index)
  availability_zone = data.aws_availability_zones.available.names[count.index]

  tags = {
    Name = "${local.name}-public-${count.index}"
    "kubernetes.io/role/elb" = "1"
  }
}

resource "aws_subnet" "private" {
  count = 2
  vpc_id = aws_vpc.main.id
  cidr_block = cidrsubnet(aws_vpc.main.cidr_block, 4, count.index + 8)
  availability_zone = data.aws_availability_zones.available.names[count.index]

  tags = {
    Name = "${local.name}-private-${count.index}"
    "kubernetes.io/role/internal-elb" = "1"
  }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
}

resource "aws_eip" "nat" {
  count = {{nat}}
  domain = "vpc"
}

resource "aws_nat_gateway" "main" {
  count = {{nat}}
  allocation_id = aws_eip.nat[count.index].id
  subnet_id = aws_subnet.public[count.index].id
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }
}

resource "aws_route_table_association" "public" {
  count = 2
  subnet_id = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  count = 2
  vpc_id = aws_vpc.main.id

  route {
    cidr_block = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.main[count.index % {{nat}}].id
  }
}

resource "aws_route_table_association" "private" {
  count = 2
  subnet_id = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}
)HCL",
      {{"nat", std::to_string(z.nat_gateways)}}));

  out.files[dir + "eks.tf"] = hcl::Format(FillTf(
      R"HCL(resource "aws_iam_role" "cluster" {
  name = "${local.name}-eks-cluster"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow"
      Principal = { Service = "eks.amazonaws.com" }
      Action = ["sts:AssumeRole", "sts:TagSession"]
    }]
  })
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role = aws_iam_role.cluster.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
}

resource "aws_eks_cluster" "main" {
  name = local.name
  version = var.kubernetes_version
  role_arn = aws_iam_role.cluster.arn
  enabled_cluster_log_types = ["api", "audit", "authenticator"]

  vpc_config {
    subnet_ids = concat(aws_subnet.private[*].id, aws_subnet.public[*].id)
    endpoint_private_access = true
    endpoint_public_access = true
  }

  access_config {
    authentication_mode = "API"
    # Whoever applies this can reach the cluster (an access entry, revocable).
    bootstrap_cluster_creator_admin_permissions = true
  }

  encryption_config {
    resources = ["secrets"]

    provider {
      key_arn = aws_kms_key.cluster.arn
    }
  }

  depends_on = [aws_iam_role_policy_attachment.cluster]
}

resource "aws_kms_key" "cluster" {
  description = "Envelope encryption of ${local.name}'s Kubernetes Secrets"
  enable_key_rotation = true
}

resource "aws_iam_role" "nodes" {
  name = "${local.name}-eks-nodes"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "nodes" {
  for_each = toset([
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  ])
  role = aws_iam_role.nodes.name
  policy_arn = each.value
}

# Nodes in the private subnets; the pods' requests (deploy/helm) fit {{nodes}} of them.
resource "aws_eks_node_group" "main" {
  cluster_name = aws_eks_cluster.main.name
  node_group_name = "main"
  node_role_arn = aws_iam_role.nodes.arn
  subnet_ids = aws_subnet.private[*].id
  instance_types = ["{{instance}}"]
  capacity_type = "ON_DEMAND"

  scaling_config {
    desired_size = {{nodes}}
    min_size = {{nodes}}
    max_size = {{max_nodes}}
  }

  update_config {
    max_unavailable = 1
  }

  depends_on = [aws_iam_role_policy_attachment.nodes]
}

# EKS Pod Identity: a service account's pods get an IAM role by association.
resource "aws_eks_addon" "main" {
  for_each = toset(["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent"])
  cluster_name = aws_eks_cluster.main.name
  addon_name = each.value
  resolve_conflicts_on_create = "OVERWRITE"
  depends_on = [aws_eks_node_group.main]
}
)HCL",
      {{"instance", z.instance},
       {"nodes", std::to_string(z.nodes)},
       {"max_nodes", std::to_string(z.max_nodes)}}));

  // --- data ---------------------------------------------------------------------
  std::string data;
  if (pg || my) {
    data +=
        AwsDatabase(pg, z.db_class, 20, z.db_multi_az, z.backup_days, prod, "the cluster's pods");
    data += FillTf(R"HCL(
resource "aws_vpc_security_group_ingress_rule" "db_from_cluster" {
  security_group_id = aws_security_group.db.id
  referenced_security_group_id = aws_eks_cluster.main.vpc_config[0].cluster_security_group_id
  ip_protocol = "tcp"
  from_port = {{port}}
  to_port = {{port}}
}
)HCL",
                   {{"port", pg ? "5432" : "3306"}});
    if (pg && my) {
      out.findings.push_back({"PLAN013", "warning", "",
                              "the audit found both PostgreSQL and MySQL; the Terraform makes one "
                              "database (PostgreSQL)",
                              "add the second database by hand, or settle on one engine",
                              dir + "data.tf", 0});
    }
  }
  if (redis) {
    data += AwsRedis("local.name", z.cache_node, z.cache_nodes, "the cluster's pods");
    data += R"HCL(
resource "aws_vpc_security_group_ingress_rule" "cache_from_cluster" {
  security_group_id = aws_security_group.cache.id
  referenced_security_group_id = aws_eks_cluster.main.vpc_config[0].cluster_security_group_id
  ip_protocol = "tcp"
  from_port = 6379
  to_port = 6379
}
)HCL";
  }
  if (s3) data += AwsDataBucket();
  if (!data.empty()) out.files[dir + "data.tf"] = hcl::Format(data);

  // --- identities and secrets ------------------------------------------------------
  std::string ids =
      R"HCL(# External Secrets' controller reads the project's secrets (and the database's
# RDS-managed one) with its own role, by EKS Pod Identity.
resource "aws_iam_role" "external_secrets" {
  name = "${local.name}-external-secrets"
  assume_role_policy = data.aws_iam_policy_document.pod_identity.json
}

data "aws_iam_policy_document" "pod_identity" {
  statement {
    effect = "Allow"
    actions = ["sts:AssumeRole", "sts:TagSession"]

    principals {
      type = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "external_secrets" {
  statement {
    effect = "Allow"
    actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = concat(
      ["arn:aws:secretsmanager:${var.region}:${data.aws_caller_identity.current.account_id}:secret:${local.name}/*"],
)HCL";
  ids += (pg || my) ? "      [aws_db_instance.main.master_user_secret[0].secret_arn],\n"
                    : "      [],\n";
  ids += R"HCL(    )
  }
}

resource "aws_iam_role_policy" "external_secrets" {
  role = aws_iam_role.external_secrets.id
  policy = data.aws_iam_policy_document.external_secrets.json
}

resource "aws_eks_pod_identity_association" "external_secrets" {
  cluster_name = aws_eks_cluster.main.name
  namespace = "external-secrets"
  service_account = "external-secrets"
  role_arn = aws_iam_role.external_secrets.arn
}
)HCL";
  int secrets = 0;
  for (const auto* s : workloads) {
    const std::string n = Name(s->name);
    const std::string svc = Slug(s->name);
    for (const auto& var : AppSecrets(*s)) {
      ++secrets;
      ids += FillTf(R"HCL(
# Set its value once (never in Terraform):
#   aws secretsmanager put-secret-value --secret-id {{name}}/{{svc}}/{{var}} --secret-string ...
resource "aws_secretsmanager_secret" "{{n}}_{{vn}}" {
  name = "${local.name}/{{svc}}/{{var}}"
  recovery_window_in_days = 7
}
)HCL",
                    {{"name", name}, {"svc", svc}, {"var", var}, {"n", n}, {"vn", Name(var)}});
    }
    if (s3 && UsesBacking(*s, "s3")) {
      ids += FillTf(R"HCL(
# {{svc}}'s pods use the bucket with their own role (service account {{svc}}-{{env}}).
resource "aws_iam_role" "{{n}}" {
  name = "${local.name}-{{svc}}"
  assume_role_policy = data.aws_iam_policy_document.pod_identity.json
}

resource "aws_iam_role_policy" "{{n}}" {
  role = aws_iam_role.{{n}}.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow"
      Action = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]
      Resource = [aws_s3_bucket.data.arn, "${aws_s3_bucket.data.arn}/*"]
    }]
  })
}

resource "aws_eks_pod_identity_association" "{{n}}" {
  cluster_name = aws_eks_cluster.main.name
  namespace = local.namespace
  service_account = "{{svc}}-{{env}}"
  role_arn = aws_iam_role.{{n}}.arn
}
)HCL",
                    {{"svc", svc}, {"n", n}, {"env", o.env}});
    }
  }
  out.files[dir + "identities.tf"] = hcl::Format(ids);
  if (secrets > 0) {
    out.findings.push_back(
        {"PLAN014", "info", "",
         std::to_string(secrets) +
             " application secret(s) live in Secrets Manager; their values are "
             "never in Terraform state or in Git",
         "set each value once: aws secretsmanager put-secret-value --secret-id " + name +
             "/SERVICE/NAME --secret-string ...",
         dir + "identities.tf", 0});
  }

  // --- what the charts need: values-ENV-infra.yaml, as outputs ---------------------
  std::string outputs = R"HCL(output "cluster_name" {
  value = aws_eks_cluster.main.name
}

output "cluster_endpoint" {
  value = aws_eks_cluster.main.endpoint
}
)HCL";
  for (const auto* s : workloads) {
    const std::string svc = Slug(s->name);
    std::vector<std::string> items, templates, env;
    const bool db = (pg && UsesBacking(*s, "postgres")) || (my && UsesBacking(*s, "mysql"));
    if (db) {
      items.push_back(
          "{ key = \"DB_USERNAME\", remoteKey = "
          "aws_db_instance.main.master_user_secret[0].secret_arn, "
          "property = \"username\" }");
      items.push_back(
          "{ key = \"DB_PASSWORD\", remoteKey = "
          "aws_db_instance.main.master_user_secret[0].secret_arn, "
          "property = \"password\" }");
      const std::string scheme = pg ? "postgresql" : "mysql";
      templates.push_back("DATABASE_URL = \"" + scheme +
                          "://{{ .DB_USERNAME }}:{{ .DB_PASSWORD | urlquery "
                          "}}@${aws_db_instance.main.address}:${aws_db_instance.main.port}/"
                          "${aws_db_instance.main.db_name}" +
                          (pg ? "?sslmode=require" : "") + "\"");
      env.push_back("DB_HOST = aws_db_instance.main.address");
      env.push_back("DB_PORT = tostring(aws_db_instance.main.port)");
      env.push_back("DB_NAME = aws_db_instance.main.db_name");
    }
    if (redis && UsesBacking(*s, "redis")) {
      env.push_back(
          "REDIS_URL = "
          "\"rediss://${aws_elasticache_replication_group.main.primary_endpoint_address}:6379\"");
    }
    if (s3 && UsesBacking(*s, "s3")) env.push_back("S3_BUCKET = aws_s3_bucket.data.bucket");
    for (const auto& var : AppSecrets(*s)) {
      items.push_back("{ key = \"" + var + "\", remoteKey = \"${local.name}/" + svc + "/" + var +
                      "\" }");
    }
    std::vector<std::string> keys;
    for (const auto& it : items) {
      const auto a = it.find("key = \"") + 7;
      keys.push_back("\"" + it.substr(a, it.find('"', a) - a) + "\"");
    }
    for (const auto& t : templates) keys.push_back("\"" + t.substr(0, t.find(' ')) + "\"");
    std::string body = "  value = yamlencode({\n";
    body += "    secretKeys = " + TfList(keys) + "\n";
    body += "    externalSecrets = {\n";
    body += "      enabled = " + std::string(items.empty() ? "false" : "true") + "\n";
    body += "      storeRef = \"aws-secrets-manager\"\n";
    // RDS rotates its password (every 7 days): the Secret follows within
    // minutes, and the Rollout restarts on the change (Reloader).
    if (db) body += "      refreshInterval = \"5m\"\n";
    body += "      data = " + TfList(items) + "\n";
    body += "      templates = {" + std::string(templates.empty() ? "" : "\n");
    for (const auto& t : templates) body += "        " + t + "\n";
    body += std::string(templates.empty() ? "" : "      ") + "}\n";
    body += "    }\n";
    body += "    env = {" + std::string(env.empty() ? "" : "\n");
    for (const auto& e : env) body += "      " + e + "\n";
    body += std::string(env.empty() ? "" : "    ") + "}\n";
    body += "  })\n";
    outputs += "\n# deploy/helm/" + svc + "/values-" + o.env +
               "-infra.yaml (the deploy job writes it; no secret in it)\noutput \"helm_values_" +
               Name(s->name) + "\" {\n" + body + "}\n";
  }
  // EKS Pod Identity ties the controller's role to its service account: no
  // annotation, so the operator's values are empty.
  outputs += ExternalSecretsOutputs("aws-secrets-manager",
                                    "{\n        aws = {\n          service = \"SecretsManager\"\n  "
                                    "        region = var.region\n        }\n      }",
                                    "{}", o.env);
  out.files[dir + "outputs.tf"] = hcl::Format(outputs);
  out.findings.push_back(
      {"PLAN027", "info", "",
       "the cluster (EKS) and its backing services are in infra/kubernetes/aws/" + o.env +
           "; secrets reach the pods through the External Secrets Operator",
       "create the state bucket once (infra/kubernetes/aws/bootstrap), then terraform init "
       "-backend-config=backend.hcl && terraform apply; run deploy/infra-values.sh " +
           o.env + " aws and commit what it writes; apply deploy/argocd/external-secrets-" + o.env +
           ".yaml and reloader-" + o.env + ".yaml before the services",
       dir + "main.tf", 0});
}

void PlanGke(const std::vector<ServiceFacts>& services, const PlanOptions& o, Blueprint& out) {
  const KubernetesSizing z = Sizing(o.env);
  const bool prod = o.env == "production";
  const std::string dir = "infra/kubernetes/gcp/" + o.env + "/";
  const std::string name = CloudName(o.project, o.env);
  const auto workloads = Workloads(services);
  std::set<std::string> backing;
  for (const auto* s : workloads)
    for (const auto& b : s->backing) backing.insert(b);
  const bool pg = backing.count("postgres"), my = backing.count("mysql");
  const bool redis = backing.count("redis"), bucket = backing.count("s3");

  out.files["infra/kubernetes/gcp/bootstrap/main.tf"] = hcl::Format(FillTf(
      R"HCL(# The bucket every environment's state lives in. Apply once, with local state:
#   terraform -chdir=infra/kubernetes/gcp/bootstrap init && terraform -chdir=infra/kubernetes/gcp/bootstrap apply -var project_id=...
terraform {
  required_version = ">= 1.10.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      version = "~> 6.10"
    }
  }
}

variable "project_id" {
  type = string
}

provider "google" {
  project = var.project_id
}

# The APIs the environments use, enabled once for the project (kept enabled
# when this is destroyed: other things may use them).
resource "google_project_service" "apis" {
  for_each = toset([
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    "iam.googleapis.com",
    "redis.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
  ])
  service = each.value
  disable_on_destroy = false
}

resource "google_storage_bucket" "state" {
  name = "${var.project_id}-{{project}}-tfstate"
  location = "US"
  uniform_bucket_level_access = true
  public_access_prevention = "enforced"

  versioning {
    enabled = true
  }

  lifecycle {
    prevent_destroy = true
  }
}
)HCL",
      {{"project", o.project}}));

  out.files[dir + "backend.hcl"] =
      hcl::Format(FillTf(R"HCL(# bucket = "PROJECT_ID-{{project}}-tfstate"
prefix = "{{env}}"
)HCL",
                         {{"project", o.project}, {"env", o.env}}));

  out.files[dir + "versions.tf"] = hcl::Format(FillTf(R"HCL(terraform {
  required_version = ">= 1.10.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      version = "~> 6.10"
    }
  }

  # terraform init -backend-config=backend.hcl -backend-config="bucket=PROJECT_ID-{{project}}-tfstate"
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region = var.region

  default_labels = {
    project = "{{project}}"
    environment = "{{env}}"
    managed-by = "prodsprint"
  }
}
)HCL",
                                                      {{"project", o.project}, {"env", o.env}}));

  out.files[dir + "main.tf"] =
      hcl::Format(FillTf(R"HCL(variable "project_id" {
  description = "The Google Cloud project"
  type = string
}

variable "region" {
  description = "The region of the cluster and its data"
  type = string
  default = "us-central1"
}

locals {
  name = "{{name}}"
  # The namespace Argo CD deploys the charts to (deploy/argocd).
  namespace = "{{namespace}}"
}
)HCL",
                         {{"name", name}, {"namespace", o.project + "-" + o.env}}));

  out.files[dir + "network.tf"] = hcl::Format(R"HCL(resource "google_compute_network" "main" {
  name = local.name
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "main" {
  name = local.name
  network = google_compute_network.main.id
  region = var.region
  ip_cidr_range = "10.20.0.0/20"
  private_ip_google_access = true

  secondary_ip_range {
    range_name = "pods"
    ip_cidr_range = "10.24.0.0/14"
  }

  secondary_ip_range {
    range_name = "services"
    ip_cidr_range = "10.28.0.0/20"
  }
}

# Private nodes reach the internet (image pulls) through Cloud NAT.
resource "google_compute_router" "main" {
  name = local.name
  network = google_compute_network.main.id
  region = var.region
}

resource "google_compute_router_nat" "main" {
  name = local.name
  router = google_compute_router.main.name
  region = var.region
  nat_ip_allocate_option = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"
}

# Cloud SQL and Memorystore on private addresses in this network.
resource "google_compute_global_address" "services" {
  name = "${local.name}-services"
  purpose = "VPC_PEERING"
  address_type = "INTERNAL"
  prefix_length = 20
  network = google_compute_network.main.id
}

resource "google_service_networking_connection" "main" {
  network = google_compute_network.main.id
  service = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.services.name]
  # Cloud SQL keeps the peering a while after its instances go: deleting it
  # fails, so `terraform destroy` leaves it (removed with the network).
  deletion_policy = "ABANDON"
}
)HCL");

  out.files[dir + "gke.tf"] = hcl::Format(FillTf(
      R"HCL(resource "google_service_account" "nodes" {
  account_id = "{{nodes_account}}"
  display_name = "GKE nodes of ${local.name}"
}

resource "google_project_iam_member" "nodes" {
  for_each = toset([
    "roles/container.defaultNodeServiceAccount",
    "roles/artifactregistry.reader",
  ])
  project = var.project_id
  role = each.value
  member = "serviceAccount:${google_service_account.nodes.email}"
}

resource "google_container_cluster" "main" {
  name = local.name
  location = {{location}}
  network = google_compute_network.main.id
  subnetwork = google_compute_subnetwork.main.id
  remove_default_node_pool = true
  initial_node_count = 1
  deletion_protection = {{prod}}

  release_channel {
    channel = "REGULAR"
  }

  # Pods act as Google service accounts (Workload Identity): no key files.
  workload_identity_config {
    workload_pool = "${var.project_id}.svc.id.goog"
  }

  ip_allocation_policy {
    cluster_secondary_range_name = "pods"
    services_secondary_range_name = "services"
  }

  private_cluster_config {
    enable_private_nodes = true
    enable_private_endpoint = false
    master_ipv4_cidr_block = "172.16.0.0/28"
  }
}

resource "google_container_node_pool" "main" {
  name = "main"
  cluster = google_container_cluster.main.id
  initial_node_count = {{nodes}}

  autoscaling {
    min_node_count = {{nodes}}
    max_node_count = {{max_nodes}}
  }

  node_config {
    machine_type = "{{machine}}"
    service_account = google_service_account.nodes.email
    oauth_scopes = ["https://www.googleapis.com/auth/cloud-platform"]

    workload_metadata_config {
      mode = "GKE_METADATA"
    }

    shielded_instance_config {
      enable_secure_boot = true
    }
  }
}
)HCL",
      // Production is regional (node counts are per zone: three zones), staging zonal.
      {{"location", prod ? "var.region" : "\"${var.region}-a\""},
       {"prod", prod ? "true" : "false"},
       {"nodes", std::to_string(prod ? 1 : z.nodes)},
       {"max_nodes", std::to_string(prod ? 2 : z.max_nodes)},
       {"machine", z.machine},
       {"nodes_account", GcpAccountId(o.project, o.env, "nodes")}}));

  std::string data;
  if (pg || my) {
    data += FillTf(R"HCL(# IAM database authentication: each service's Google service account is a
# database user, and the Cloud SQL Auth Proxy beside it logs in with its
# token. No password exists, so none can leak.
resource "google_sql_database_instance" "main" {
  name = local.name
  database_version = "{{version}}"
  region = var.region
  deletion_protection = true

  settings {
    edition = "ENTERPRISE"
    tier = "{{tier}}"
    availability_type = "{{availability}}"
    disk_autoresize = true

    ip_configuration {
      ipv4_enabled = false
      private_network = google_compute_network.main.id
      ssl_mode = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled = true
      point_in_time_recovery_enabled = {{pitr}}

      backup_retention_settings {
        retained_backups = {{backup}}
      }
    }

    database_flags {
      name = "{{flag}}"
      value = "on"
    }
  }

  depends_on = [google_service_networking_connection.main]
}

resource "google_sql_database" "app" {
  name = "app"
  instance = google_sql_database_instance.main.name
}
)HCL",
                   {{"version", pg ? "POSTGRES_16" : "MYSQL_8_0"},
                    {"tier", z.sql_tier},
                    {"availability", z.sql_ha ? "REGIONAL" : "ZONAL"},
                    {"pitr", pg ? "true" : "false"},
                    {"backup", std::to_string(z.backup_days)},
                    {"flag", pg ? "cloudsql.iam_authentication" : "cloudsql_iam_authentication"}});
    if (pg && my) {
      out.findings.push_back({"PLAN013", "warning", "",
                              "the audit found both PostgreSQL and MySQL; the Terraform makes one "
                              "database (PostgreSQL)",
                              "add the second database by hand, or settle on one engine",
                              dir + "data.tf", 0});
    }
  }
  if (redis) {
    data += FillTf(R"HCL(
resource "google_redis_instance" "main" {
  name = local.name
  tier = "{{tier}}"
  memory_size_gb = 1
  region = var.region
  redis_version = "REDIS_7_2"
  authorized_network = google_compute_network.main.id
  connect_mode = "PRIVATE_SERVICE_ACCESS"
  transit_encryption_mode = "DISABLED"

  depends_on = [google_service_networking_connection.main]
}
)HCL",
                   {{"tier", z.redis_tier}});
  }
  if (bucket) {
    data += R"HCL(
resource "google_storage_bucket" "data" {
  name = "${var.project_id}-${local.name}-data"
  location = var.region
  uniform_bucket_level_access = true
  public_access_prevention = "enforced"

  versioning {
    enabled = true
  }
}
)HCL";
  }
  if (!data.empty()) out.files[dir + "data.tf"] = hcl::Format(data);

  std::string ids =
      FillTf(R"HCL(# External Secrets' controller reads Secret Manager as its own Google service
# account, by Workload Identity.
resource "google_service_account" "external_secrets" {
  account_id = "{{account}}"
  display_name = "External Secrets of ${local.name}"
}

resource "google_service_account_iam_member" "external_secrets" {
  service_account_id = google_service_account.external_secrets.name
  role = "roles/iam.workloadIdentityUser"
  member = "serviceAccount:${google_container_cluster.main.workload_identity_config[0].workload_pool}[external-secrets/external-secrets]"
}
)HCL",
             {{"account", GcpAccountId(o.project, o.env, "ext-secrets")}});
  int secrets = 0;
  for (const auto* s : workloads) {
    const std::string n = Name(s->name);
    const std::string svc = Slug(s->name);
    const bool db = (pg && UsesBacking(*s, "postgres")) || (my && UsesBacking(*s, "mysql"));
    const bool uses_bucket = bucket && UsesBacking(*s, "s3");
    if (db || uses_bucket) {
      ids += FillTf(R"HCL(
# {{svc}}'s pods act as this account (Kubernetes service account {{svc}}-{{env}}).
resource "google_service_account" "{{n}}" {
  account_id = "{{account}}"
  display_name = "{{svc}} in ${local.name}"
}

resource "google_service_account_iam_member" "{{n}}" {
  service_account_id = google_service_account.{{n}}.name
  role = "roles/iam.workloadIdentityUser"
  member = "serviceAccount:${google_container_cluster.main.workload_identity_config[0].workload_pool}[${local.namespace}/{{svc}}-{{env}}]"
}
)HCL",
                    {{"svc", svc},
                     {"n", n},
                     {"env", o.env},
                     {"account", GcpAccountId(o.project, o.env, svc)}});
    }
    if (db) {
      ids += FillTf(R"HCL(
resource "google_project_iam_member" "{{n}}_sql" {
  for_each = toset(["roles/cloudsql.client", "roles/cloudsql.instanceUser"])
  project = var.project_id
  role = each.value
  member = "serviceAccount:${google_service_account.{{n}}.email}"
}

resource "google_sql_user" "{{n}}" {
  instance = google_sql_database_instance.main.name
  name = {{user}}
  type = "CLOUD_IAM_SERVICE_ACCOUNT"
}
)HCL",
                    {{"n", n},
                     {"user", pg ? "trimsuffix(google_service_account." + n +
                                       ".email, \".gserviceaccount.com\")"
                                 : "google_service_account." + n + ".account_id"}});
    }
    if (uses_bucket) {
      ids += FillTf(R"HCL(
resource "google_storage_bucket_iam_member" "{{n}}" {
  bucket = google_storage_bucket.data.name
  role = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.{{n}}.email}"
}
)HCL",
                    {{"n", n}});
    }
    for (const auto& var : AppSecrets(*s)) {
      ++secrets;
      ids += FillTf(R"HCL(
# Set its value once (never in Terraform):
#   printf %s VALUE | gcloud secrets versions add {{name}}-{{svc}}-{{var}} --data-file=-
resource "google_secret_manager_secret" "{{n}}_{{vn}}" {
  secret_id = "${local.name}-{{svc}}-{{var}}"

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_iam_member" "{{n}}_{{vn}}" {
  secret_id = google_secret_manager_secret.{{n}}_{{vn}}.id
  role = "roles/secretmanager.secretAccessor"
  member = "serviceAccount:${google_service_account.external_secrets.email}"
}
)HCL",
                    {{"name", name}, {"svc", svc}, {"var", var}, {"n", n}, {"vn", Name(var)}});
    }
  }
  out.files[dir + "identities.tf"] = hcl::Format(ids);
  if (secrets > 0) {
    out.findings.push_back(
        {"PLAN014", "info", "",
         std::to_string(secrets) +
             " application secret(s) live in Secret Manager; their values are "
             "never in Terraform state or in Git",
         "set each value once: gcloud secrets versions add " + name + "-SERVICE-NAME --data-file=-",
         dir + "identities.tf", 0});
  }

  std::string outputs = R"HCL(output "cluster_name" {
  value = google_container_cluster.main.name
}

output "cluster_location" {
  value = google_container_cluster.main.location
}
)HCL";
  std::vector<std::string> db_users;  // HCL expressions
  for (const auto* s : workloads) {
    const std::string svc = Slug(s->name);
    const std::string n = Name(s->name);
    const bool db = (pg && UsesBacking(*s, "postgres")) || (my && UsesBacking(*s, "mysql"));
    const bool uses_bucket = bucket && UsesBacking(*s, "s3");
    std::vector<std::string> items, env;
    for (const auto& var : AppSecrets(*s)) {
      items.push_back("{ key = \"" + var + "\", remoteKey = google_secret_manager_secret." + n +
                      "_" + Name(var) + ".secret_id }");
    }
    if (db) {
      db_users.push_back(pg ? "trimsuffix(google_service_account." + n +
                                  ".email, \".gserviceaccount.com\")"
                            : "google_service_account." + n + ".account_id");
      // The user name has an '@' (SERVICE@PROJECT.iam): escaped in the URL.
      env.push_back(
          pg ? "DATABASE_URL = \"postgresql://${urlencode(trimsuffix(google_service_account." + n +
                   ".email, \".gserviceaccount.com\"))}@127.0.0.1:5432/app\""
             : "DATABASE_URL = \"mysql://${google_service_account." + n +
                   ".account_id}@127.0.0.1:3306/app\"");
    }
    if (redis && UsesBacking(*s, "redis")) {
      env.push_back(
          "REDIS_URL = "
          "\"redis://${google_redis_instance.main.host}:${google_redis_instance.main.port}\"");
    }
    if (uses_bucket) env.push_back("GCS_BUCKET = google_storage_bucket.data.name");
    std::vector<std::string> keys;
    for (const auto& var : AppSecrets(*s)) keys.push_back("\"" + var + "\"");
    std::string body = "  value = yamlencode({\n";
    body += "    secretKeys = " + TfList(keys) + "\n";
    if (db || uses_bucket) {
      body +=
          "    serviceAccount = {\n      annotations = {\n        "
          "\"iam.gke.io/gcp-service-account\" = google_service_account." +
          n + ".email\n      }\n    }\n";
    }
    if (db) {
      body +=
          "    cloudSqlProxy = {\n      enabled = true\n      instance = "
          "google_sql_database_instance.main.connection_name\n      port = " +
          std::string(pg ? "5432" : "3306") + "\n    }\n";
    }
    body += "    externalSecrets = {\n";
    body += "      enabled = " + std::string(items.empty() ? "false" : "true") + "\n";
    body += "      storeRef = \"gcp-secret-manager\"\n";
    body += "      data = " + TfList(items) + "\n";
    body += "      templates = {}\n";
    body += "    }\n";
    body += "    env = {" + std::string(env.empty() ? "" : "\n");
    for (const auto& e : env) body += "      " + e + "\n";
    body += std::string(env.empty() ? "" : "    ") + "}\n";
    body += "  })\n";
    outputs += "\n# deploy/helm/" + svc + "/values-" + o.env +
               "-infra.yaml (the deploy job writes it; no secret in it)\noutput \"helm_values_" +
               n + "\" {\n" + body + "}\n";
  }
  outputs += ExternalSecretsOutputs(
      "gcp-secret-manager",
      "{\n        gcpsm = {\n          projectID = var.project_id\n        }\n      }",
      "{\n    serviceAccount = {\n      annotations = {\n        "
      "\"iam.gke.io/gcp-service-account\" = "
      "google_service_account.external_secrets.email\n      }\n    }\n  }",
      o.env);
  if (!db_users.empty()) {
    // IAM database users start with no rights on the database: the grants,
    // for whoever runs them once as the built-in user (see PLAN028).
    std::vector<std::string> grants;
    for (const auto& u : db_users) {
      if (pg) {
        grants.push_back("\"GRANT ALL PRIVILEGES ON DATABASE app TO \\\"${" + u + "}\\\";\"");
        grants.push_back("\"GRANT ALL ON SCHEMA public TO \\\"${" + u + "}\\\";\"");
      } else {
        grants.push_back("\"GRANT ALL PRIVILEGES ON app.* TO '${" + u + "}'@'%';\"");
      }
    }
    outputs +=
        "\n# The database rights of the services' IAM users (run once, see PLAN028).\n"
        "output \"database_grants\" {\n  value = join(\"\\n\", " +
        TfList(grants) + ")\n}\n";
    out.findings.push_back(
        {"PLAN028", "warning", "",
         "the services' IAM database users have no rights on database app until they are "
         "granted once (Terraform cannot reach the instance's private address)",
         "set the built-in user's password (gcloud sql users set-password " +
             std::string(pg ? "postgres" : "root") + " --instance=" + name +
             " --prompt-for-password), then from a pod in the cluster run the statements of "
             "`terraform output -raw database_grants` with " +
             (pg ? "psql" : "mysql") + " as that user",
         dir + "outputs.tf", 0});
  }
  out.files[dir + "outputs.tf"] = hcl::Format(outputs);
  out.findings.push_back(
      {"PLAN027", "info", "",
       "the cluster (GKE) and its backing services are in infra/kubernetes/gcp/" + o.env +
           "; secrets reach the pods through the External Secrets Operator, the database "
           "through the Cloud SQL Auth Proxy with IAM authentication (no password)",
       "create the state bucket once (infra/kubernetes/gcp/bootstrap), then terraform init "
       "-backend-config=backend.hcl -backend-config=bucket=... && terraform apply -var "
       "project_id=...; run deploy/infra-values.sh " +
           o.env + " gcp and commit what it writes; apply deploy/argocd/external-secrets-" + o.env +
           ".yaml and reloader-" + o.env + ".yaml before the services",
       dir + "main.tf", 0});
}

}  // namespace kinfra

KubernetesSizing KubernetesSizingFor(const std::string& env) { return kinfra::Sizing(env); }

void PlanKubernetesInfra(const std::vector<ServiceFacts>& services, const PlanOptions& o,
                         Blueprint& out) {
  if (kinfra::Workloads(services).empty()) return;
  if (o.cloud == "gcp") {
    kinfra::PlanGke(services, o, out);
  } else {
    kinfra::PlanEks(services, o, out);
  }
  // The cluster's own operators, as Argo CD Applications per environment
  // (each environment is its own cluster):
  //  - External Secrets: its chart with the values Terraform gives (the
  //    controller's identity), and the ClusterSecretStore from this
  //    repository (written by deploy/infra-values.sh from Terraform);
  //  - Reloader: restarts a Rollout when its Secret changes (RDS rotates its
  //    password; an application secret is updated), by a pod-template
  //    annotation the services' Applications ignore as drift.
  const std::vector<std::pair<std::string, std::string>> vars = {
      {"cloud", o.cloud},
      {"env", o.env},
      {"repo", YamlQuote(o.repo_url)},
      {"rev", o.env == "production" ? "main" : "HEAD"}};
  out.files["deploy/argocd/external-secrets-" + o.env + ".yaml"] = Fill(
      R"YAML(# The External Secrets Operator and its ClusterSecretStore, installed before
# the services. Its service account (external-secrets/external-secrets) has
# the cloud identity infra/kubernetes/[[cloud]]/[[env]]/identities.tf gives it;
# deploy/infra-values.sh [[env]] writes the two files this reads from Git.
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: external-secrets-[[env]]
  namespace: argocd
spec:
  project: default
  sources:
    - repoURL: https://charts.external-secrets.io
      chart: external-secrets
      targetRevision: 0.10.7
      helm:
        valueFiles:
          - $repo/deploy/external-secrets/values-[[env]]-infra.yaml
        values: |
          installCRDs: true
          serviceAccount:
            name: external-secrets
    - repoURL: [[repo]]
      targetRevision: [[rev]]
      ref: repo
    - repoURL: [[repo]]
      targetRevision: [[rev]]
      path: deploy/external-secrets
      directory:
        include: cluster-secret-store-[[env]].yaml
  destination:
    server: https://kubernetes.default.svc
    namespace: external-secrets
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
      - CreateNamespace=true
      # The store's kind exists once the chart's CRDs do (same sync).
      - SkipDryRunOnMissingResource=true
    retry:
      limit: 5
      backoff:
        duration: 10s
        factor: 2
)YAML",
      "[[", "]]", vars);
  out.files["deploy/argocd/reloader-" + o.env + ".yaml"] = Fill(
      R"YAML(# Stakater Reloader: a Rollout annotated secret.reloader.stakater.com/reload
# restarts (through its canary steps) when that Secret's data changes.
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: reloader-[[env]]
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://stakater.github.io/stakater-charts
    chart: reloader
    targetRevision: 2.2.12
    helm:
      values: |
        reloader:
          isArgoRollouts: true
          reloadStrategy: annotations
  destination:
    server: https://kubernetes.default.svc
    namespace: reloader
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
      - CreateNamespace=true
)YAML",
      "[[", "]]", vars);
  const std::string from =
      "infra/kubernetes/" + o.cloud + "/" + o.env + " (after terraform apply there)";
  out.files["deploy/external-secrets/values-" + o.env + "-infra.yaml"] =
      "# Written by deploy/infra-values.sh " + o.env + " from " + from +
      ": terraform output -raw external_secrets_values. No secret in it.\n{}\n";
  out.files["deploy/external-secrets/cluster-secret-store-" + o.env + ".yaml"] =
      "# Written by deploy/infra-values.sh " + o.env + " from " + from +
      ": terraform output -raw cluster_secret_store (the " +
      (o.cloud == "gcp" ? std::string("gcp-secret-manager store: Secret Manager of the project")
                        : std::string("aws-secrets-manager store: Secrets Manager of the region")) +
      "). Until then there is no store and the charts' ExternalSecrets wait.\n";
}

}  // namespace ps::stages::plan
