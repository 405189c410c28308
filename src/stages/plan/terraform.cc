// Terraform for AWS: one directory per environment (infra/aws/ENV) with its
// own S3 backend (S3-native locking, versioned and encrypted bucket made by
// infra/aws/bootstrap), the network, an ECS Fargate service per container
// service behind one ALB with a TLS certificate and DNS names, S3 + CloudFront
// per static site, RDS, ElastiCache and an S3 bucket when the audit found
// them, a Secrets Manager secret per secret env var (values set outside
// Terraform, never in state), least-privilege IAM per service, tags on all.
#include <set>

#include "core/fs.h"
#include "stages/plan/blueprint.h"
#include "stages/plan/hcl.h"

namespace ps::stages::plan {

namespace {

using hcl::Name;
using hcl::Str;

std::string FillTf(const std::string& t,
                   const std::vector<std::pair<std::string, std::string>>& values) {
  return Fill(t, "{{", "}}", values);
}

// AWS names with a length limit (ALB and target groups: 32): cut, with a
// short hash so that two long names stay different.
std::string Short(const std::string& name, std::size_t max) {
  if (name.size() <= max) return name;
  return name.substr(0, max - 7) + "-" + Sha256Hex(name).substr(0, 6);
}

bool Secret(const Json& e) { return e.value("secret", false); }

}  // namespace

std::string AwsStateBootstrap(const std::string& project, const std::string& bucket,
                              const std::string& chdir) {
  return hcl::Format(FillTf(
      R"HCL(# The bucket every environment's state lives in. Apply once, with local state:
#   terraform -chdir={{chdir}} init && terraform -chdir={{chdir}} apply
terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
}

provider "aws" {
  default_tags {
    tags = {
      project = "{{project}}"
      managed-by = "prodsprint"
    }
  }
}

resource "aws_s3_bucket" "state" {
  bucket = "{{bucket}}"

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket = aws_s3_bucket.state.id
  block_public_acls = true
  block_public_policy = true
  ignore_public_acls = true
  restrict_public_buckets = true
}
)HCL",
      {{"project", project}, {"bucket", bucket}, {"chdir", chdir}}));
}

std::string AwsDatabase(bool postgres, const std::string& db_class, int storage_gb, bool multi_az,
                        int backup_days, bool prod, const std::string& reached_from) {
  return FillTf(R"HCL(resource "aws_db_subnet_group" "main" {
  name = local.name
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_security_group" "db" {
  name = "${local.name}-db"
  description = "The database, reachable from {{from}} only"
  vpc_id = aws_vpc.main.id
}

# {{engine}}: the major version is a choice made here; AWS applies minor upgrades.
# The master password is generated, stored and rotated by RDS in Secrets
# Manager (master_user_secret): never in Terraform's state.
resource "aws_db_instance" "main" {
  identifier = local.name
  engine = "{{engine}}"
  engine_version = "{{version}}"
  instance_class = "{{class}}"
  allocated_storage = {{storage}}
  max_allocated_storage = 100
  storage_type = "gp3"
  storage_encrypted = true
  db_name = "app"
  username = "app"
  manage_master_user_password = true
  multi_az = {{multi_az}}
  backup_retention_period = {{backup}}
  # On in every environment (the security gate's TF005): set it to false
  # before `terraform destroy` of a staging database.
  deletion_protection = true
  skip_final_snapshot = {{staging}}
  final_snapshot_identifier = "${local.name}-final"
  auto_minor_version_upgrade = true
  publicly_accessible = false
  db_subnet_group_name = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.db.id]
}
)HCL",
                {{"engine", postgres ? "postgres" : "mysql"},
                 {"storage", std::to_string(storage_gb)},
                 {"version", postgres ? "16" : "8.4"},
                 {"class", db_class},
                 {"multi_az", multi_az ? "true" : "false"},
                 {"backup", std::to_string(backup_days)},
                 {"staging", prod ? "false" : "true"},
                 {"from", reached_from}});
}

std::string AwsRedis(const std::string& id, const std::string& node, int nodes,
                     const std::string& reached_from) {
  return FillTf(R"HCL(
resource "aws_elasticache_subnet_group" "main" {
  name = local.name
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_security_group" "cache" {
  name = "${local.name}-cache"
  description = "Redis, reachable from {{from}} only"
  vpc_id = aws_vpc.main.id
}

resource "aws_elasticache_replication_group" "main" {
  replication_group_id = {{id}}
  description = "Redis for ${local.name}"
  engine = "redis"
  engine_version = "7.1"
  node_type = "{{node}}"
  num_cache_clusters = {{nodes}}
  automatic_failover_enabled = {{failover}}
  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  port = 6379
  subnet_group_name = aws_elasticache_subnet_group.main.name
  security_group_ids = [aws_security_group.cache.id]
}
)HCL",
                {{"id", id},
                 {"node", node},
                 {"nodes", std::to_string(nodes)},
                 {"failover", nodes > 1 ? "true" : "false"},
                 {"from", reached_from}});
}

std::string AwsDataBucket() {
  return R"HCL(
resource "aws_s3_bucket" "data" {
  bucket_prefix = "${local.name}-data-"
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket = aws_s3_bucket.data.id
  block_public_acls = true
  block_public_policy = true
  ignore_public_acls = true
  restrict_public_buckets = true
}
)HCL";
}

AwsSizing SizingFor(const std::string& env) {
  AwsSizing z;
  if (env == "production") {
    z.nat_gateways = 2;
    z.desired_count = 2;
    z.cpu = 512;
    z.memory = 1024;
    z.db_class = "db.t4g.small";
    z.db_multi_az = true;
    z.cache_node = "cache.t4g.small";
    z.cache_nodes = 2;
    z.log_retention_days = 90;
    z.backup_days = 30;
  }
  return z;
}

void PlanTerraform(const std::vector<ServiceFacts>& services, const PlanOptions& o,
                   Blueprint& out) {
  const AwsSizing z = SizingFor(o.env);
  const bool prod = o.env == "production";
  const std::string dir = "infra/aws/" + o.env + "/";
  const std::string name = o.project + "-" + o.env;
  std::vector<const ServiceFacts*> containers, sites;
  std::set<std::string> backing;
  for (const auto& s : services) {
    if (s.kind == "static") {
      sites.push_back(&s);
    } else {
      containers.push_back(&s);
    }
    for (const auto& b : s.backing) backing.insert(b);
  }
  bool web = false;
  for (const auto* s : containers)
    web = web || ((s->kind == "web" || s->kind == "grpc") && s->port);
  const bool vpc = !containers.empty() || backing.count("postgres") || backing.count("mysql") ||
                   backing.count("redis");
  // DNS names: <service>.<env>.<domain> in staging, <service>.<domain> in production.
  auto host = [&](const ServiceFacts& s) {
    return "\"" + Slug(s.name) + (prod ? "" : "." + o.env) + ".${var.domain}\"";
  };

  // --- state backend, once per account ---------------------------------------
  out.files["infra/aws/bootstrap/main.tf"] =
      AwsStateBootstrap(o.project, o.project + "-terraform-state", "infra/aws/bootstrap");

  // --- the environment --------------------------------------------------------
  out.files[dir + "backend.hcl"] = hcl::Format(
      FillTf(R"HCL(# terraform init -backend-config=backend.hcl (the region comes from AWS_REGION)
bucket = "{{project}}-terraform-state"
key = "{{env}}/terraform.tfstate"
use_lockfile = true
encrypt = true
)HCL",
             {{"project", o.project}, {"env", o.env}}));

  std::string versions = R"HCL(terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      version = "~> 5.80"
    }
  }

  # S3 state with S3-native locking: bucket and key in backend.hcl.
  backend "s3" {}
}

provider "aws" {
  default_tags {
    tags = local.tags
  }
}
)HCL";
  if (!sites.empty()) {
    versions += R"HCL(
# CloudFront's certificates live in us-east-1.
provider "aws" {
  alias = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}
)HCL";
  }
  out.files[dir + "versions.tf"] = hcl::Format(versions);

  std::string vars = FillTf(R"HCL(locals {
  project = "{{project}}"
  environment = "{{env}}"
  name = "{{name}}"

  tags = {
    project = local.project
    environment = local.environment
    managed-by = "prodsprint"
  }
}

variable "domain" {
  description = "The DNS zone, hosted in Route 53, that the services are published under"
  type = string
}

variable "image_tag" {
  description = "The image tag to run (the CI workflow pushes one per commit)"
  type = string
}

data "aws_region" "current" {}

data "aws_route53_zone" "main" {
  name = var.domain
}
)HCL",
                            {{"project", o.project}, {"env", o.env}, {"name", name}});
  for (const auto* s : containers) {
    vars += FillTf(R"HCL(
variable "{{n}}_environment" {
  description = "Environment of {{svc}} that is not secret and has no value the audit could trust in {{env}}"
  type = map(string)
  default = {}
}
)HCL",
                   {{"n", Name(s->name)}, {"svc", s->name}, {"env", o.env}});
  }
  out.files[dir + "main.tf"] = hcl::Format(vars);

  if (vpc) {
    out.files[dir + "network.tf"] =
        hcl::Format(FillTf(R"HCL(data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  azs = slice(data.aws_availability_zones.available.names, 0, 2)
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
  enable_dns_hostnames = true
  enable_dns_support = true

  tags = {
    Name = local.name
  }
}

resource "aws_subnet" "public" {
  count = 2
  vpc_id = aws_vpc.main.id
  cidr_block = cidrsubnet(aws_vpc.main.cidr_block, 8, count.index)
  availability_zone = local.azs[count.index]

  tags = {
    Name = "${local.name}-public-${count.index}"
  }
}

resource "aws_subnet" "private" {
  count = 2
  vpc_id = aws_vpc.main.id
  cidr_block = cidrsubnet(aws_vpc.main.cidr_block, 8, count.index + 10)
  availability_zone = local.azs[count.index]

  tags = {
    Name = "${local.name}-private-${count.index}"
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
    nat_gateway_id = aws_nat_gateway.main[min(count.index, {{nat}} - 1)].id
  }
}

resource "aws_route_table_association" "private" {
  count = 2
  subnet_id = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}
)HCL",
                           {{"nat", std::to_string(z.nat_gateways)}}));
  }

  std::string ingress;
  if (web) {
    std::string names;
    for (const auto* s : containers) {
      if ((s->kind == "web" || s->kind == "grpc") && s->port) names += "    " + host(*s) + ",\n";
    }
    ingress =
        FillTf(R"HCL(resource "aws_security_group" "alb" {
  name = "${local.name}-alb"
  description = "HTTPS from the internet to the load balancer"
  vpc_id = aws_vpc.main.id

  ingress {
    description = "HTTPS"
    from_port = 443
    to_port = 443
    protocol = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "HTTP, redirected to HTTPS"
    from_port = 80
    to_port = 80
    protocol = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "To the services in the VPC"
    from_port = 0
    to_port = 0
    protocol = "-1"
    cidr_blocks = [aws_vpc.main.cidr_block]
  }
}

resource "aws_lb" "main" {
  name = "{{lb}}"
  load_balancer_type = "application"
  subnets = aws_subnet.public[*].id
  security_groups = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = {{prod}}
}

locals {
  hostnames = [
{{names}}  ]
}

resource "aws_acm_certificate" "main" {
  domain_name = local.hostnames[0]
  subject_alternative_names = slice(local.hostnames, 1, length(local.hostnames))
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "validation" {
  for_each = {
    for o in aws_acm_certificate.main.domain_validation_options : o.domain_name => o
  }

  zone_id = data.aws_route53_zone.main.zone_id
  name = each.value.resource_record_name
  type = each.value.resource_record_type
  records = [each.value.resource_record_value]
  ttl = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "main" {
  certificate_arn = aws_acm_certificate.main.arn
  validation_record_fqdns = [for r in aws_route53_record.validation : r.fqdn]
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port = 443
  protocol = "HTTPS"
  ssl_policy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn = aws_acm_certificate_validation.main.certificate_arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "not found"
      status_code = "404"
    }
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.main.arn
  port = 80
  protocol = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port = "443"
      protocol = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}
)HCL",
               {{"lb", Short(name, 32)}, {"prod", prod ? "true" : "false"}, {"names", names}});
  }
  if (!containers.empty()) {
    out.files[dir + "cluster.tf"] = hcl::Format(R"HCL(resource "aws_ecs_cluster" "main" {
  name = local.name

  setting {
    name = "containerInsights"
    value = "enabled"
  }
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}
)HCL" + (ingress.empty() ? std::string() : "\n" + ingress));
  }

  // --- data services -----------------------------------------------------------
  std::string data;
  const bool pg = backing.count("postgres"), my = backing.count("mysql");
  if (pg || my) {
    data += AwsDatabase(pg, z.db_class, z.db_storage_gb, z.db_multi_az, z.backup_days, prod,
                        "the services");
    if (pg && my) {
      out.findings.push_back({"PLAN013", "warning", "",
                              "the audit found both PostgreSQL and MySQL; the Terraform makes one "
                              "database (PostgreSQL)",
                              "add the second database by hand, or settle on one engine",
                              dir + "data.tf", 0});
    }
  }
  if (backing.count("redis")) {
    data += AwsRedis("\"" + Short(name, 40) + "\"", z.cache_node, z.cache_nodes, "the services");
  }
  if (backing.count("s3")) data += AwsDataBucket();
  for (const auto& b : backing) {
    if (b != "postgres" && b != "mysql" && b != "redis" && b != "s3") {
      out.findings.push_back({"PLAN012", "warning", "",
                              "no managed " + b +
                                  " in the Terraform; the services that need it "
                                  "get its address from their environment",
                              "provision " + b +
                                  " (Amazon MQ, MSK, OpenSearch...) and set its "
                                  "address in the service's *_environment variable",
                              dir + "data.tf", 0});
    }
  }
  if (!data.empty()) out.files[dir + "data.tf"] = hcl::Format(data);

  // --- one file per container service ---------------------------------------
  for (const auto* sp : containers) {
    const ServiceFacts& s = *sp;
    const std::string n = Name(s.name), svc = Slug(s.name);
    const bool serves = (s.kind == "web" || s.kind == "grpc") && s.port.has_value();
    // A process of another service runs that service's image.
    const std::string repo = s.image_of.empty() ? n : Name(s.image_of);
    std::string t = s.image_of.empty() ? FillTf(R"HCL(resource "aws_ecr_repository" "{{n}}" {
  name = "${local.project}/{{svc}}"
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
  }
}

)HCL",
                                                {{"n", n}, {"svc", svc}})
                                       : std::string();
    t += FillTf(R"HCL(resource "aws_cloudwatch_log_group" "{{n}}" {
  name = "/ecs/${local.name}/{{svc}}"
  retention_in_days = {{retention}}
}
)HCL",
                {{"n", n}, {"svc", svc}, {"retention", std::to_string(z.log_retention_days)}});
    // Secrets: one per secret env var, value set outside Terraform.
    std::vector<std::pair<std::string, std::string>> secrets;  // name -> arn expression
    std::vector<std::pair<std::string, std::string>> env;      // name -> HCL value
    if (s.port) env.push_back({"PORT", Str(std::to_string(*s.port))});
    const bool redis_url = UsesBacking(s, "redis");
    for (const auto& e : s.env_vars) {
      const std::string var = e.value("name", "");
      if (var.empty() || var == "PORT") continue;
      if (var == "REDIS_URL" && redis_url) {
        env.push_back(
            {var,
             "\"rediss://"
             "${aws_elasticache_replication_group.main.primary_endpoint_address}:6379\""});
        continue;
      }
      if (!Secret(e)) {
        if (e.value("required", false) && (e.value("default", Json()).is_null())) {
          out.findings.push_back(
              {"PLAN016", "warning", s.name, var + " is required and has no value for " + o.env,
               "set it in var." + n + "_environment (" + dir + "terraform.tfvars)",
               dir + svc + ".tf", 0});
        }
        continue;
      }
      {
        const std::string sn = n + "_" + Name(var);
        t += FillTf(R"HCL(
resource "aws_secretsmanager_secret" "{{sn}}" {
  name = "${local.name}/{{svc}}/{{var}}"
  recovery_window_in_days = {{window}}
}
)HCL",
                    {{"sn", sn}, {"svc", svc}, {"var", var}, {"window", prod ? "30" : "0"}});
        secrets.push_back({var, "aws_secretsmanager_secret." + sn + ".arn"});
      }
    }
    if (UsesBacking(s, "postgres") || UsesBacking(s, "mysql")) {
      env.push_back({"DB_HOST", "aws_db_instance.main.address"});
      env.push_back({"DB_PORT", "tostring(aws_db_instance.main.port)"});
      env.push_back({"DB_NAME", "aws_db_instance.main.db_name"});
      env.push_back({"DB_USER", "aws_db_instance.main.username"});
      secrets.push_back(
          {"DB_PASSWORD",
           "\"${aws_db_instance.main.master_user_secret[0].secret_arn}:password::\""});
    }
    if (UsesBacking(s, "s3")) env.push_back({"S3_BUCKET", "aws_s3_bucket.data.id"});
    // Redis' address under its conventional name when the audit saw none.
    if (redis_url && std::none_of(env.begin(), env.end(),
                                  [](const auto& kv) { return kv.first == "REDIS_URL"; })) {
      env.push_back(
          {"REDIS_URL",
           "\"rediss://${aws_elasticache_replication_group.main.primary_endpoint_address}:6379\""});
    }
    if (!secrets.empty()) {
      out.findings.push_back(
          {"PLAN014", "info", s.name,
           std::to_string(secrets.size()) + " secret(s) are read from Secrets Manager; "
                                            "their values are never in Terraform state",
           "set each value once: aws secretsmanager put-secret-value --secret-id " + name + "/" +
               svc + "/NAME --secret-string ...",
           dir + svc + ".tf", 0});
    }
    // IAM: the execution role pulls this image, writes this log group and
    // reads these secrets; the task role reaches this service's data only.
    std::string secret_arns;
    for (const auto& [k, arn] : secrets) {
      secret_arns +=
          (secret_arns.empty() ? "" : ", ") +
          (k == "DB_PASSWORD" ? std::string("aws_db_instance.main.master_user_secret[0].secret_arn")
                              : arn);
    }
    t += FillTf(R"HCL(
resource "aws_iam_role" "{{n}}_execution" {
  name = "${local.name}-{{svc}}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "{{n}}_execution" {
  statement {
    actions = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    actions = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [aws_ecr_repository.{{repo}}.arn]
  }

  statement {
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.{{n}}.arn}:*"]
  }
)HCL",
                {{"n", n}, {"svc", svc}, {"repo", repo}});
    if (!secret_arns.empty()) {
      t += FillTf(R"HCL(
  statement {
    actions = ["secretsmanager:GetSecretValue"]
    resources = [{{arns}}]
  }
)HCL",
                  {{"arns", secret_arns}});
    }
    t += FillTf(R"HCL(}

resource "aws_iam_role_policy" "{{n}}_execution" {
  role = aws_iam_role.{{n}}_execution.id
  policy = data.aws_iam_policy_document.{{n}}_execution.json
}

resource "aws_iam_role" "{{n}}_task" {
  name = "${local.name}-{{svc}}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}
)HCL",
                {{"n", n}, {"svc", svc}});
    if (UsesBacking(s, "s3")) {
      t += FillTf(R"HCL(
data "aws_iam_policy_document" "{{n}}_task" {
  statement {
    actions = ["s3:ListBucket"]
    resources = [aws_s3_bucket.data.arn]
  }

  statement {
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.data.arn}/*"]
  }
}

resource "aws_iam_role_policy" "{{n}}_task" {
  role = aws_iam_role.{{n}}_task.id
  policy = data.aws_iam_policy_document.{{n}}_task.json
}
)HCL",
                  {{"n", n}});
    }
    // Network: the service accepts its port from the load balancer only.
    t += FillTf(R"HCL(
resource "aws_security_group" "{{n}}" {
  name = "${local.name}-{{svc}}"
  description = "{{svc}}"
  vpc_id = aws_vpc.main.id

  egress {
    description = "Out to its dependencies and the internet, through NAT"
    from_port = 0
    to_port = 0
    protocol = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
)HCL",
                {{"n", n}, {"svc", svc}});
    if (serves) {
      t += FillTf(R"HCL(
resource "aws_vpc_security_group_ingress_rule" "{{n}}_from_alb" {
  security_group_id = aws_security_group.{{n}}.id
  referenced_security_group_id = aws_security_group.alb.id
  from_port = {{port}}
  to_port = {{port}}
  ip_protocol = "tcp"
}
)HCL",
                  {{"n", n}, {"port", std::to_string(*s.port)}});
    }
    for (const auto& [b, sg, port] : std::vector<std::tuple<std::string, std::string, int>>{
             {"postgres", "db", 5432}, {"mysql", "db", 3306}, {"redis", "cache", 6379}}) {
      if (!UsesBacking(s, b) || (b == "mysql" && UsesBacking(s, "postgres"))) continue;
      t += FillTf(R"HCL(
resource "aws_vpc_security_group_ingress_rule" "{{sg}}_from_{{n}}" {
  security_group_id = aws_security_group.{{sg}}.id
  referenced_security_group_id = aws_security_group.{{n}}.id
  from_port = {{port}}
  to_port = {{port}}
  ip_protocol = "tcp"
}
)HCL",
                  {{"n", n}, {"sg", sg}, {"port", std::to_string(port)}});
    }
    // The task.
    std::string env_list, secret_list;
    for (const auto& [k, v] : env)
      env_list += "        { name = " + Str(k) + ", value = " + v + " },\n";
    for (const auto& [k, v] : secrets)
      secret_list += "        { name = " + Str(k) + ", valueFrom = " + v + " },\n";
    std::string health;
    if (serves && !s.healthcheck.empty()) {
      health = "\n  health_check {\n    path = " + Str(s.healthcheck) +
               "\n    matcher = \"200-399\"\n    interval = 15\n    healthy_threshold = 2\n    "
               "unhealthy_threshold = 3\n  }\n";
    }
    t += FillTf(
        R"HCL(
resource "aws_ecs_task_definition" "{{n}}" {
  family = "${local.name}-{{svc}}"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = {{cpu}}
  memory = {{memory}}
  execution_role_arn = aws_iam_role.{{n}}_execution.arn
  task_role_arn = aws_iam_role.{{n}}_task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name = "{{svc}}"
      image = "${aws_ecr_repository.{{repo}}.repository_url}:${var.image_tag}"
      essential = true{{command}}
      portMappings = [{{ports}}]
      environment = concat([
{{env}}      ], [for k, v in var.{{n}}_environment : { name = k, value = v }])
      secrets = [
{{secrets}}      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.{{n}}.name
          awslogs-region = data.aws_region.current.name
          awslogs-stream-prefix = "{{svc}}"
        }
      }
    }
  ])
}
)HCL",
        {{"n", n},
         {"svc", svc},
         {"cpu", std::to_string(z.cpu)},
         {"memory", std::to_string(z.memory)},
         {"ports",
          s.port ? "{ containerPort = " + std::to_string(*s.port) + ", protocol = \"tcp\" }" : ""},
         {"env", env_list},
         {"secrets", secret_list},
         {"repo", repo},
         {"command",
          s.image_of.empty() || s.start_command.empty()
              ? std::string()
              : "\n      command = [\"sh\", \"-c\", " + Str("exec " + s.start_command) + "]"}});
    if (serves) {
      t += FillTf(R"HCL(
resource "aws_lb_target_group" "{{n}}" {
  name = "{{tg}}"
  port = {{port}}
  protocol = "HTTP"
  target_type = "ip"
  vpc_id = aws_vpc.main.id
  deregistration_delay = 30
{{health}}}

resource "aws_lb_listener_rule" "{{n}}" {
  listener_arn = aws_lb_listener.https.arn

  action {
    type = "forward"
    target_group_arn = aws_lb_target_group.{{n}}.arn
  }

  condition {
    host_header {
      values = [{{host}}]
    }
  }
}

resource "aws_route53_record" "{{n}}" {
  zone_id = data.aws_route53_zone.main.zone_id
  name = {{host}}
  type = "A"

  alias {
    name = aws_lb.main.dns_name
    zone_id = aws_lb.main.zone_id
    evaluate_target_health = true
  }
}
)HCL",
                  {{"n", n},
                   {"tg", Short(o.project + "-" + o.env + "-" + svc, 32)},
                   {"port", std::to_string(*s.port)},
                   {"health", health},
                   {"host", host(s)}});
    }
    t += FillTf(R"HCL(
resource "aws_ecs_service" "{{n}}" {
  name = "{{svc}}"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.{{n}}.arn
  desired_count = {{count}}
  launch_type = "FARGATE"
  propagate_tags = "SERVICE"

  network_configuration {
    subnets = aws_subnet.private[*].id
    security_groups = [aws_security_group.{{n}}.id]
    assign_public_ip = false
  }

  deployment_circuit_breaker {
    enable = true
    rollback = true
  }
)HCL",
                {{"n", n}, {"svc", svc}, {"count", std::to_string(z.desired_count)}});
    if (serves) {
      t += FillTf(R"HCL(
  load_balancer {
    target_group_arn = aws_lb_target_group.{{n}}.arn
    container_name = "{{svc}}"
    container_port = {{port}}
  }

  depends_on = [aws_lb_listener_rule.{{n}}]
)HCL",
                  {{"n", n}, {"svc", svc}, {"port", std::to_string(*s.port)}});
    }
    t += "}\n";
    out.files[dir + svc + ".tf"] = hcl::Format(t);
  }

  // --- static sites: S3 behind CloudFront ---------------------------------------
  for (const auto* sp : sites) {
    const ServiceFacts& s = *sp;
    const std::string n = Name(s.name), svc = Slug(s.name);
    out.files[dir + svc + ".tf"] = hcl::Format(FillTf(R"HCL(resource "aws_s3_bucket" "{{n}}" {
  bucket_prefix = "${local.name}-{{svc}}-"
}

resource "aws_s3_bucket_public_access_block" "{{n}}" {
  bucket = aws_s3_bucket.{{n}}.id
  block_public_acls = true
  block_public_policy = true
  ignore_public_acls = true
  restrict_public_buckets = true
}

resource "aws_cloudfront_origin_access_control" "{{n}}" {
  name = "${local.name}-{{svc}}"
  origin_access_control_origin_type = "s3"
  signing_behavior = "always"
  signing_protocol = "sigv4"
}

resource "aws_acm_certificate" "{{n}}" {
  provider = aws.us_east_1
  domain_name = {{host}}
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "{{n}}_validation" {
  for_each = {
    for o in aws_acm_certificate.{{n}}.domain_validation_options : o.domain_name => o
  }

  zone_id = data.aws_route53_zone.main.zone_id
  name = each.value.resource_record_name
  type = each.value.resource_record_type
  records = [each.value.resource_record_value]
  ttl = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "{{n}}" {
  provider = aws.us_east_1
  certificate_arn = aws_acm_certificate.{{n}}.arn
  validation_record_fqdns = [for r in aws_route53_record.{{n}}_validation : r.fqdn]
}

resource "aws_cloudfront_distribution" "{{n}}" {
  enabled = true
  default_root_object = "index.html"
  aliases = [{{host}}]
  price_class = "PriceClass_100"
  http_version = "http2and3"

  origin {
    domain_name = aws_s3_bucket.{{n}}.bucket_regional_domain_name
    origin_id = "s3"
    origin_access_control_id = aws_cloudfront_origin_access_control.{{n}}.id
  }

  default_cache_behavior {
    target_origin_id = "s3"
    viewer_protocol_policy = "redirect-to-https"
    allowed_methods = ["GET", "HEAD"]
    cached_methods = ["GET", "HEAD"]
    compress = true
    cache_policy_id = "658327ea-f89d-4fab-a63d-7e88639e58f6" # Managed-CachingOptimized
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn = aws_acm_certificate_validation.{{n}}.certificate_arn
    ssl_support_method = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }
}

data "aws_iam_policy_document" "{{n}}_site" {
  statement {
    actions = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.{{n}}.arn}/*"]

    principals {
      type = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test = "StringEquals"
      variable = "AWS:SourceArn"
      values = [aws_cloudfront_distribution.{{n}}.arn]
    }
  }
}

resource "aws_s3_bucket_policy" "{{n}}" {
  bucket = aws_s3_bucket.{{n}}.id
  policy = data.aws_iam_policy_document.{{n}}_site.json
}

resource "aws_route53_record" "{{n}}" {
  zone_id = data.aws_route53_zone.main.zone_id
  name = {{host}}
  type = "A"

  alias {
    name = aws_cloudfront_distribution.{{n}}.domain_name
    zone_id = aws_cloudfront_distribution.{{n}}.hosted_zone_id
    evaluate_target_health = false
  }
}
)HCL",
                                                      {{"n", n}, {"svc", svc}, {"host", host(s)}}));
  }

  // --- outputs -------------------------------------------------------------------
  std::string outs;
  for (const auto* s : containers) {
    const std::string n = Name(s->name);
    if (s->image_of.empty())
      outs += FillTf(R"HCL(output "{{n}}_repository" {
  description = "Where CI pushes {{svc}}'s image"
  value = aws_ecr_repository.{{n}}.repository_url
}

)HCL",
                     {{"n", n}, {"svc", s->name}});
    if ((s->kind == "web" || s->kind == "grpc") && s->port) {
      outs += FillTf(
          "output \"{{n}}_url\" {\n  value = \"https://${aws_route53_record.{{n}}.fqdn}\"\n}\n\n",
          {{"n", n}});
    }
  }
  for (const auto* s : sites) {
    outs += FillTf(
        "output \"{{n}}_url\" {\n  value = \"https://${aws_route53_record.{{n}}.fqdn}\"\n}\n\n"
        "output \"{{n}}_bucket\" {\n  description = \"Where CI uploads the site\"\n  value = "
        "aws_s3_bucket.{{n}}.id\n}\n\n"
        "output \"{{n}}_distribution\" {\n  description = \"The CloudFront distribution CI "
        "invalidates after an upload\"\n  value = aws_cloudfront_distribution.{{n}}.id\n}\n\n",
        {{"n", Name(s->name)}});
  }
  if (pg || my) {
    outs +=
        "output \"database_endpoint\" {\n  value = aws_db_instance.main.endpoint\n}\n\n"
        "output \"database_master_secret\" {\n  description = \"Secrets Manager secret with the "
        "master user's password\"\n"
        "  value = aws_db_instance.main.master_user_secret[0].secret_arn\n}\n\n";
  }
  if (!outs.empty()) out.files[dir + "outputs.tf"] = hcl::Format(outs);
  out.findings.push_back({"PLAN015", "info", "",
                          "Terraform needs two values: var.domain (a Route 53 hosted zone) and "
                          "var.image_tag",
                          "write them in " + dir +
                              "terraform.tfvars, or pass -var; create the "
                              "state bucket once with infra/aws/bootstrap",
                          dir + "main.tf", 0});
}

}  // namespace ps::stages::plan
