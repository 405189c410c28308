// The monthly cost of the AWS and Kubernetes plans, per resource and in total, from a price
// table bundled here (versioned, with its date and sources) and usage
// assumptions that are explicit and overridable (prodsprint-usage.yml). The
// JSON has Infracost's shape: projects, breakdown, resources,
// costComponents, amounts as decimal strings; 730 hours a month.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "core/config.h"
#include "core/yaml.h"
#include "stages/plan/blueprint.h"
#include "stages/plan/hcl.h"

namespace ps::stages::plan {

namespace {

constexpr double kHoursPerMonth = 730;

// On-demand prices, us-east-1, Linux, USD. Bump kPriceVersion with any change.
constexpr const char* kPriceVersion = "aws-us-east-1-2026.12";
constexpr const char* kPriceDate = "2026-12-01";
// Google Cloud's, us-central1 (target kubernetes --cloud gcp).
constexpr const char* kGcpPriceVersion = "gcp-us-central1-2026.12";
struct Price {
  const char* key;
  const char* usd;  // decimal string, per unit
  const char* unit;
  const char* source;
};
constexpr Price kPrices[] = {
    {"fargate.vcpu_hour", "0.04048", "vCPU-hours", "https://aws.amazon.com/fargate/pricing/"},
    {"fargate.gb_hour", "0.004445", "GB-hours", "https://aws.amazon.com/fargate/pricing/"},
    {"alb.hour", "0.0225", "hours", "https://aws.amazon.com/elasticloadbalancing/pricing/"},
    {"alb.lcu_hour", "0.008", "LCU-hours", "https://aws.amazon.com/elasticloadbalancing/pricing/"},
    {"nat.hour", "0.045", "hours", "https://aws.amazon.com/vpc/pricing/"},
    {"nat.gb", "0.045", "GB", "https://aws.amazon.com/vpc/pricing/"},
    {"ipv4.hour", "0.005", "hours", "https://aws.amazon.com/vpc/pricing/"},
    {"transfer_out.gb", "0.09", "GB", "https://aws.amazon.com/ec2/pricing/on-demand/"},
    {"rds.db.t4g.micro", "0.016", "hours", "https://aws.amazon.com/rds/postgresql/pricing/"},
    {"rds.db.t4g.small", "0.032", "hours", "https://aws.amazon.com/rds/postgresql/pricing/"},
    {"rds.gp3.gb_month", "0.115", "GB-months", "https://aws.amazon.com/rds/postgresql/pricing/"},
    {"cache.cache.t4g.micro", "0.016", "hours", "https://aws.amazon.com/elasticache/pricing/"},
    {"cache.cache.t4g.small", "0.032", "hours", "https://aws.amazon.com/elasticache/pricing/"},
    {"logs.ingest_gb", "0.50", "GB", "https://aws.amazon.com/cloudwatch/pricing/"},
    {"logs.storage_gb_month", "0.03", "GB-months", "https://aws.amazon.com/cloudwatch/pricing/"},
    {"ecr.gb_month", "0.10", "GB-months", "https://aws.amazon.com/ecr/pricing/"},
    {"secrets.secret_month", "0.40", "months", "https://aws.amazon.com/secrets-manager/pricing/"},
    {"secrets.10k_calls", "0.05", "10k requests",
     "https://aws.amazon.com/secrets-manager/pricing/"},
    {"s3.gb_month", "0.023", "GB-months", "https://aws.amazon.com/s3/pricing/"},
    {"s3.1k_writes", "0.005", "1k requests", "https://aws.amazon.com/s3/pricing/"},
    {"s3.1k_reads", "0.0004", "1k requests", "https://aws.amazon.com/s3/pricing/"},
    {"cloudfront.gb", "0.085", "GB", "https://aws.amazon.com/cloudfront/pricing/"},
    {"cloudfront.10k_https", "0.01", "10k requests", "https://aws.amazon.com/cloudfront/pricing/"},
    {"eks.cluster_hour", "0.10", "hours", "https://aws.amazon.com/eks/pricing/"},
    {"ec2.t3.large", "0.0832", "hours", "https://aws.amazon.com/ec2/pricing/on-demand/"},
    {"ebs.gp3.gb_month", "0.08", "GB-months", "https://aws.amazon.com/ebs/pricing/"},
    {"nlb.hour", "0.0225", "hours", "https://aws.amazon.com/elasticloadbalancing/pricing/"},
    {"nlb.lcu_hour", "0.006", "LCU-hours", "https://aws.amazon.com/elasticloadbalancing/pricing/"},
    {"gke.cluster_hour", "0.10", "hours", "https://cloud.google.com/kubernetes-engine/pricing"},
    {"gce.e2-standard-2", "0.067", "hours", "https://cloud.google.com/compute/vm-instance-pricing"},
    {"gce.pd_balanced.gb_month", "0.10", "GB-months",
     "https://cloud.google.com/compute/disks-image-pricing"},
    {"gce.lb_rule_hour", "0.025", "hours", "https://cloud.google.com/vpc/network-pricing"},
    {"gce.nat_vm_hour", "0.0014", "VM-hours", "https://cloud.google.com/nat/pricing"},
    {"gce.nat.gb", "0.045", "GB", "https://cloud.google.com/nat/pricing"},
    {"cloudsql.vcpu_hour", "0.0413", "vCPU-hours", "https://cloud.google.com/sql/pricing"},
    {"cloudsql.gb_hour", "0.007", "GB-hours", "https://cloud.google.com/sql/pricing"},
    {"cloudsql.ssd.gb_month", "0.17", "GB-months", "https://cloud.google.com/sql/pricing"},
    {"memorystore.basic.gb_hour", "0.049", "GB-hours",
     "https://cloud.google.com/memorystore/docs/redis/pricing"},
    {"memorystore.standard.gb_hour", "0.064", "GB-hours",
     "https://cloud.google.com/memorystore/docs/redis/pricing"},
    {"gcs.gb_month", "0.020", "GB-months", "https://cloud.google.com/storage/pricing"},
    {"secretmanager.version_month", "0.06", "versions",
     "https://cloud.google.com/secret-manager/pricing"},
    {"secretmanager.10k_calls", "0.03", "10k requests",
     "https://cloud.google.com/secret-manager/pricing"},
};

const Price* PriceOf(const std::string& key) {
  for (const auto& p : kPrices) {
    if (key == p.key) return &p;
  }
  return nullptr;
}

std::string Dec(double v, int places) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", places, v + 0.0);  // +0.0: never "-0"
  std::string s = buf;
  // Decimal strings as Infracost writes them: no trailing zeros.
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// The usage a cost depends on: the file's value, or the default, recorded
// either way so the estimate says what it assumed.
class Usage {
 public:
  explicit Usage(const YAML::Node& file) : file_(file) {}
  double Get(const std::string& resource, const std::string& key, double fallback) {
    double v = fallback;
    std::string from = "default";
    try {
      if (file_ && file_["resource_usage"] && file_["resource_usage"][resource] &&
          file_["resource_usage"][resource][key]) {
        v = file_["resource_usage"][resource][key].as<double>();
        from = "prodsprint-usage.yml";
      }
    } catch (const YAML::Exception&) {
      from = "default (the file's value is not a number)";
    }
    used_[resource][key] = {{"value", v}, {"from", from}};
    return v;
  }
  const Json& used() const { return used_; }

 private:
  YAML::Node file_;
  Json used_ = Json::object();
};

struct Resource {
  std::string name, type;
  Json components = Json::array();
  double monthly = 0, hourly = 0;

  // A component priced per hour (quantity per hour).
  void Hourly(const std::string& label, double per_hour, const std::string& price_key) {
    const Price* p = PriceOf(price_key);
    const double price = std::stod(p->usd);
    const double h = per_hour * price;
    components.push_back({{"name", label},
                          {"unit", p->unit},
                          {"hourlyQuantity", Dec(per_hour, 6)},
                          {"monthlyQuantity", Dec(per_hour * kHoursPerMonth, 4)},
                          {"price", p->usd},
                          {"hourlyCost", Dec(h, 6)},
                          {"monthlyCost", Dec(h * kHoursPerMonth, 4)}});
    hourly += h;
    monthly += h * kHoursPerMonth;
  }
  // A component priced per month (quantity per month, from usage).
  void Monthly(const std::string& label, double per_month, const std::string& price_key,
               double unit_divisor = 1) {
    const Price* p = PriceOf(price_key);
    const double price = std::stod(p->usd);
    const double m = per_month / unit_divisor * price;
    components.push_back({{"name", label},
                          {"unit", p->unit},
                          {"hourlyQuantity", Dec(per_month / unit_divisor / kHoursPerMonth, 6)},
                          {"monthlyQuantity", Dec(per_month / unit_divisor, 4)},
                          {"price", p->usd},
                          {"hourlyCost", Dec(m / kHoursPerMonth, 6)},
                          {"monthlyCost", Dec(m, 4)}});
    hourly += m / kHoursPerMonth;
    monthly += m;
  }
  Json ToJson() const {
    return {{"name", name},
            {"resourceType", type},
            {"hourlyCost", Dec(hourly, 6)},
            {"monthlyCost", Dec(monthly, 2)},
            {"costComponents", components},
            {"subresources", Json::array()}};
  }
};

}  // namespace

Json PriceTable() {
  Json prices = Json::object();
  Json sources = Json::array();
  for (const auto& p : kPrices) {
    prices[p.key] = {{"usd", p.usd}, {"unit", p.unit}};
    if (std::find(sources.begin(), sources.end(), p.source) == sources.end())
      sources.push_back(p.source);
  }
  return {{"version", kPriceVersion},
          {"date", kPriceDate},
          {"region", "us-east-1"},
          {"currency", "USD"},
          {"hoursPerMonth", kHoursPerMonth},
          {"sources", sources},
          {"prices", prices}};
}

void PlanCost(const std::vector<ServiceFacts>& services, const PlanOptions& o,
              const RepoReader& read, Blueprint& out) {
  YAML::Node file;
  if (read) {
    if (auto text = read("prodsprint-usage.yml")) {
      if (!YamlNestingWithinLimit(*text)) {
        out.findings.push_back(
            {"PLAN017", "warning", "", "prodsprint-usage.yml is nested too deeply; defaults used",
             "fix the file's structure (see docs/PLAN.md)", "prodsprint-usage.yml", 0});
      } else {
        try {
          file = YAML::Load(*text);
        } catch (const YAML::Exception& e) {
          out.findings.push_back(
              {"PLAN017", "warning", "",
               "prodsprint-usage.yml is not valid YAML (" + e.msg + "); defaults used",
               "fix the file (see docs/PLAN.md)", "prodsprint-usage.yml", e.mark.line + 1});
        }
      }
    }
  }
  Usage usage(file);
  const AwsSizing z = SizingFor(o.env);
  const bool prod = o.env == "production";
  std::vector<Resource> rs;
  std::set<std::string> backing;
  bool web = false, containers = false;
  int secrets = 0;
  for (const auto& s : services) {
    for (const auto& b : s.backing) backing.insert(b);
    if (s.kind == "static") continue;
    containers = true;
    web = web || ((s.kind == "web" || s.kind == "grpc") && s.port);
  }
  const bool k8s = o.target == "kubernetes";
  const bool gcp = k8s && o.cloud == "gcp";
  if (k8s && containers) {
    // The cluster the Terraform makes (infra/kubernetes/CLOUD/ENV): its
    // control plane, the nodes the pods' requests need (deploy/helm:
    // 0.25 vCPU each in staging, 0.5 in production, 2 replicas in
    // production), their disks, the NAT and the ingress load balancer.
    const KubernetesSizing k = KubernetesSizingFor(o.env);
    double requested = 0;
    for (const auto& s : services) {
      if (s.kind == "static") continue;
      requested +=
          (prod ? 0.5 : 0.25) * usage.Get("Rollout/" + Slug(s.name), "replicas", prod ? 2 : 1);
    }
    // 2 vCPU nodes, about 1.5 of it allocatable to pods once the system's
    // own pods run; never fewer than the node group's minimum.
    const double nodes = std::max<double>(k.nodes, std::ceil(requested / 1.5));
    if (gcp) {
      Resource cl{"google_container_cluster.main", "google_container_cluster"};
      cl.Hourly("Cluster management fee", 1, "gke.cluster_hour");
      rs.push_back(cl);
      Resource np{"google_container_node_pool.main", "google_container_node_pool"};
      np.Hourly("Nodes (" + k.machine + " x " + Dec(nodes, 0) + ")", nodes, "gce." + k.machine);
      np.Monthly("Boot disks (pd-balanced, 100 GB x " + Dec(nodes, 0) + ")", 100 * nodes,
                 "gce.pd_balanced.gb_month");
      rs.push_back(np);
      Resource nat{"google_compute_router_nat.main", "google_compute_router_nat"};
      nat.Hourly("NAT gateway (per VM)", nodes, "gce.nat_vm_hour");
      nat.Monthly("Data processed",
                  usage.Get(nat.name, "monthly_data_processed_gb", prod ? 100 : 10), "gce.nat.gb");
      rs.push_back(nat);
      if (web) {
        Resource lb{"ingress load balancer", "google_compute_forwarding_rule"};
        lb.Hourly("Forwarding rule", 1, "gce.lb_rule_hour");
        rs.push_back(lb);
      }
    } else {
      Resource cl{"aws_eks_cluster.main", "aws_eks_cluster"};
      cl.Hourly("EKS cluster", 1, "eks.cluster_hour");
      rs.push_back(cl);
      Resource ng{"aws_eks_node_group.main", "aws_eks_node_group"};
      ng.Hourly("Nodes (" + k.instance + " x " + Dec(nodes, 0) + ")", nodes, "ec2." + k.instance);
      ng.Monthly("Node volumes (gp3, 20 GB x " + Dec(nodes, 0) + ")", 20 * nodes,
                 "ebs.gp3.gb_month");
      rs.push_back(ng);
      Resource nat{"aws_nat_gateway.main", "aws_nat_gateway"};
      nat.Hourly("NAT gateway", k.nat_gateways, "nat.hour");
      nat.Monthly("Data processed",
                  usage.Get(nat.name, "monthly_data_processed_gb", prod ? 100 : 10), "nat.gb");
      rs.push_back(nat);
      Resource eip{"aws_eip.nat", "aws_eip"};
      eip.Hourly("Public IPv4 address", k.nat_gateways, "ipv4.hour");
      rs.push_back(eip);
      if (web) {
        Resource lb{"ingress load balancer", "aws_lb (network)"};
        lb.Hourly("Network load balancer", 1, "nlb.hour");
        lb.Hourly("Load balancer capacity units", usage.Get(lb.name, "capacity_units", 1),
                  "nlb.lcu_hour");
        lb.Monthly("Data transfer out to the internet",
                   usage.Get(lb.name, "monthly_data_transfer_out_gb", prod ? 100 : 10),
                   "transfer_out.gb");
        rs.push_back(lb);
      }
    }
  }
  const bool vpc = !k8s && (containers || backing.count("postgres") || backing.count("mysql") ||
                            backing.count("redis"));
  if (vpc) {
    Resource nat{"aws_nat_gateway.main", "aws_nat_gateway"};
    nat.Hourly("NAT gateway", z.nat_gateways, "nat.hour");
    nat.Monthly("Data processed", usage.Get(nat.name, "monthly_data_processed_gb", prod ? 100 : 10),
                "nat.gb");
    rs.push_back(nat);
    Resource eip{"aws_eip.nat", "aws_eip"};
    eip.Hourly("Public IPv4 address", z.nat_gateways, "ipv4.hour");
    rs.push_back(eip);
  }
  if (web && !k8s) {
    Resource lb{"aws_lb.main", "aws_lb"};
    lb.Hourly("Application load balancer", 1, "alb.hour");
    lb.Hourly("Load balancer capacity units", usage.Get(lb.name, "capacity_units", 1),
              "alb.lcu_hour");
    lb.Monthly("Data transfer out to the internet",
               usage.Get(lb.name, "monthly_data_transfer_out_gb", prod ? 100 : 10),
               "transfer_out.gb");
    // The ALB's public addresses: one per subnet.
    lb.Hourly("Public IPv4 addresses", 2, "ipv4.hour");
    rs.push_back(lb);
  }
  for (const auto& s : services) {
    if (k8s) break;
    const std::string n = hcl::Name(s.name);
    if (s.kind == "static") {
      Resource b{"aws_s3_bucket." + n, "aws_s3_bucket"};
      b.Monthly("Storage (standard)", usage.Get(b.name, "storage_gb", 1), "s3.gb_month");
      rs.push_back(b);
      Resource cf{"aws_cloudfront_distribution." + n, "aws_cloudfront_distribution"};
      cf.Monthly("Data transfer out (North America, Europe)",
                 usage.Get(cf.name, "monthly_data_transfer_to_internet_gb", prod ? 100 : 5),
                 "cloudfront.gb");
      cf.Monthly("HTTPS requests",
                 usage.Get(cf.name, "monthly_https_requests", prod ? 1'000'000 : 50'000),
                 "cloudfront.10k_https", 10'000);
      rs.push_back(cf);
      continue;
    }
    Resource svc{"aws_ecs_service." + n, "aws_ecs_service"};
    const double tasks = usage.Get(svc.name, "desired_count", z.desired_count);
    svc.Hourly("Fargate vCPU (" + Dec(z.cpu / 1024.0, 2) + " vCPU x " + Dec(tasks, 0) + ")",
               tasks * z.cpu / 1024.0, "fargate.vcpu_hour");
    svc.Hourly("Fargate memory (" + Dec(z.memory / 1024.0, 2) + " GB x " + Dec(tasks, 0) + ")",
               tasks * z.memory / 1024.0, "fargate.gb_hour");
    rs.push_back(svc);
    Resource logs{"aws_cloudwatch_log_group." + n, "aws_cloudwatch_log_group"};
    const double ingest = usage.Get(logs.name, "monthly_data_ingested_gb", prod ? 10 : 1);
    logs.Monthly("Data ingested", ingest, "logs.ingest_gb");
    logs.Monthly("Storage",
                 usage.Get(logs.name, "storage_gb", ingest * z.log_retention_days / 30.0),
                 "logs.storage_gb_month");
    rs.push_back(logs);
    if (s.image_of.empty()) {
      Resource ecr{"aws_ecr_repository." + n, "aws_ecr_repository"};
      ecr.Monthly("Image storage", usage.Get(ecr.name, "storage_gb", 1), "ecr.gb_month");
      rs.push_back(ecr);
    }
    for (const auto& e : s.env_vars) {
      if (!e.value("secret", false) || e.value("name", "") == "PORT") continue;
      if (e.value("name", "") == "REDIS_URL" && UsesBacking(s, "redis")) continue;
      ++secrets;
    }
  }
  // RDS keeps the master password in a secret of its own.
  const bool db = backing.count("postgres") || backing.count("mysql");
  if (db && !gcp) ++secrets;
  if (secrets > 0 && gcp) {
    Resource sm{"google_secret_manager_secret (" + std::to_string(secrets) + ")",
                "google_secret_manager_secret"};
    sm.Monthly("Active secret versions", secrets, "secretmanager.version_month");
    sm.Monthly("Access operations",
               usage.Get("google_secret_manager_secret", "monthly_requests", secrets * 1000.0),
               "secretmanager.10k_calls", 10'000);
    rs.push_back(sm);
  } else if (secrets > 0) {
    Resource sm{"aws_secretsmanager_secret (" + std::to_string(secrets) + ")",
                "aws_secretsmanager_secret"};
    sm.Monthly("Secrets", secrets, "secrets.secret_month");
    sm.Monthly("API requests",
               usage.Get("aws_secretsmanager_secret", "monthly_requests", secrets * 1000.0),
               "secrets.10k_calls", 10'000);
    rs.push_back(sm);
  }
  const KubernetesSizing kz = KubernetesSizingFor(o.env);
  if (db && gcp) {
    // db-custom-V-M: V vCPUs and M MiB of memory; regional (HA) doubles it.
    const auto dash = kz.sql_tier.find('-', 10);
    const double vcpu = std::stod(kz.sql_tier.substr(10, dash - 10));
    const double gb = std::stod(kz.sql_tier.substr(dash + 1)) / 1024.0;
    const double copies = kz.sql_ha ? 2 : 1;
    Resource r{"google_sql_database_instance.main", "google_sql_database_instance"};
    r.Hourly("vCPUs (" + kz.sql_tier + (kz.sql_ha ? ", regional)" : ")"), vcpu * copies,
             "cloudsql.vcpu_hour");
    r.Hourly("Memory (" + Dec(gb, 2) + " GB" + (kz.sql_ha ? " x 2)" : ")"), gb * copies,
             "cloudsql.gb_hour");
    r.Monthly("Storage (SSD)", usage.Get(r.name, "storage_gb", 10) * copies,
              "cloudsql.ssd.gb_month");
    rs.push_back(r);
  } else if (db && k8s) {
    Resource r{"aws_db_instance.main", "aws_db_instance"};
    r.Hourly(
        std::string("Database instance (") + kz.db_class + (kz.db_multi_az ? ", Multi-AZ)" : ")"),
        kz.db_multi_az ? 2 : 1, "rds." + kz.db_class);
    r.Monthly("Storage (gp3)", usage.Get(r.name, "storage_gb", 20) * (kz.db_multi_az ? 2 : 1),
              "rds.gp3.gb_month");
    rs.push_back(r);
  } else if (db) {
    Resource r{"aws_db_instance.main", "aws_db_instance"};
    r.Hourly(
        std::string("Database instance (") + z.db_class + (z.db_multi_az ? ", Multi-AZ)" : ")"),
        z.db_multi_az ? 2 : 1, "rds." + z.db_class);
    r.Monthly("Storage (gp3)",
              usage.Get(r.name, "storage_gb", z.db_storage_gb) * (z.db_multi_az ? 2 : 1),
              "rds.gp3.gb_month");
    rs.push_back(r);
  }
  if (backing.count("redis") && gcp) {
    Resource c{"google_redis_instance.main", "google_redis_instance"};
    const bool ha = kz.redis_tier == "STANDARD_HA";
    c.Hourly(std::string("Memorystore (") + (ha ? "standard" : "basic") + ", 1 GB)", 1,
             ha ? "memorystore.standard.gb_hour" : "memorystore.basic.gb_hour");
    rs.push_back(c);
  } else if (backing.count("redis")) {
    const std::string node = k8s ? kz.cache_node : z.cache_node;
    const int count = k8s ? kz.cache_nodes : z.cache_nodes;
    Resource c{"aws_elasticache_replication_group.main", "aws_elasticache_replication_group"};
    c.Hourly("Cache nodes (" + node + " x " + std::to_string(count) + ")", count, "cache." + node);
    rs.push_back(c);
  }
  if (backing.count("s3") && gcp) {
    Resource b{"google_storage_bucket.data", "google_storage_bucket"};
    b.Monthly("Storage (standard)", usage.Get(b.name, "storage_gb", prod ? 50 : 5), "gcs.gb_month");
    rs.push_back(b);
  } else if (backing.count("s3")) {
    Resource b{"aws_s3_bucket.data", "aws_s3_bucket"};
    b.Monthly("Storage (standard)", usage.Get(b.name, "storage_gb", prod ? 50 : 5), "s3.gb_month");
    b.Monthly("PUT, COPY, POST, LIST requests",
              usage.Get(b.name, "monthly_write_requests", 100'000), "s3.1k_writes", 1'000);
    b.Monthly("GET and other requests", usage.Get(b.name, "monthly_read_requests", 1'000'000),
              "s3.1k_reads", 1'000);
    rs.push_back(b);
  }

  Json resources = Json::array();
  double hourly = 0, monthly = 0;
  for (const auto& r : rs) {
    resources.push_back(r.ToJson());
    hourly += r.hourly;
    monthly += r.monthly;
  }
  const std::string project =
      k8s ? "infra/kubernetes/" + o.cloud + "/" + o.env : "infra/aws/" + o.env;
  const std::string where = project + "/cost.json";
  const std::string usage_file = project + "/usage.yml";
  Json breakdown{{"resources", resources},
                 {"totalHourlyCost", Dec(hourly, 6)},
                 {"totalMonthlyCost", Dec(monthly, 2)}};
  Json cost{
      {"version", "0.2"},
      {"currency", "USD"},
      {"projects", Json::array({{{"name", project},
                                 {"metadata", {{"path", project}, {"type", "terraform_dir"}}},
                                 {"breakdown", breakdown},
                                 {"summary", {{"totalDetectedResources", rs.size()}}}}})},
      {"totalHourlyCost", Dec(hourly, 6)},
      {"totalMonthlyCost", Dec(monthly, 2)},
      {"priceTable",
       {{"version", gcp ? kGcpPriceVersion : kPriceVersion},
        {"date", kPriceDate},
        {"region", gcp ? "us-central1" : "us-east-1"}}},
      {"usage", usage.used()},
      {"notes",
       k8s ? Json::array(
                 {std::string("on-demand list prices, ") + (gcp ? "us-central1" : "us-east-1") +
                      ", 730 hours a month, as of " + kPriceDate + ": check before budgeting",
                  "nodes: as many as the pods' requests need (deploy/helm), at least the node "
                  "group's minimum",
                  "not priced: committed-use or savings-plan discounts, Prometheus and Argo (run "
                  "on the nodes), data transfer between zones, backups beyond the database's "
                  "size"})
           : Json::array(
                 {"on-demand prices, us-east-1, 730 hours a month",
                  "free here: ACM certificates, Route 53 alias queries, AWS-managed KMS keys",
                  "not priced: Container Insights metrics, backups beyond the database's size, "
                  "data transfer between zones"})}};
  out.files[where] = Dump(cost, 2) + "\n";
  out.cost = cost;
  // The usage file with every value this estimate assumed: edit and put it
  // at the repository's root as prodsprint-usage.yml.
  std::string y = "# Usage the cost estimate assumed (" + o.env +
                  "). Copy to the repository's root as prodsprint-usage.yml and edit.\nversion: "
                  "0.1\nresource_usage:\n";
  for (const auto& [res, keys] : usage.used().items()) {
    y += "  " + res + ":\n";
    for (const auto& [k, v] : keys.items())
      y += "    " + k + ": " + Dec(v["value"].get<double>(), 4) + "\n";
  }
  out.files[usage_file] = y;
}

}  // namespace ps::stages::plan
