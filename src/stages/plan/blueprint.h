// The plan: from an audit, the files that take a repository to production —
// a container build per service, a CI workflow, gate policies — with a
// finding for every fact the audit could not establish (never a made-up
// value). Pure: the same audit and options give the same bytes.
// docs/PLAN.md documents what is written and why.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/json.h"
#include "core/problem.h"
#include "stages/audit/repo_view.h"

namespace ps::stages::plan {

struct PlanOptions {
  std::string project;           // names the workflow, images and resources
  std::string target = "local";  // local | kubernetes | aws | render | vercel
  std::string env = "staging";   // staging | production
  std::string repo_url;          // the Git remote Argo CD syncs from; empty: unknown
  std::string cloud = "aws";     // target kubernetes: aws (EKS) | gcp (GKE)
};

// A fact a generated file needs and the audit did not give, or a problem in a
// file the repository already has. `fix` says what to set, and where.
struct Finding {
  std::string id;        // PLAN001, DF002...
  std::string severity;  // error | warning | info
  std::string service;   // empty: the whole repository
  std::string message;
  std::string fix;
  std::string file;  // the file concerned (in the repository or the blueprint)
  int line = 0;
  Json ToJson() const;
};

struct Blueprint {
  std::map<std::string, std::string> files;  // path in the output folder -> content
  std::vector<Finding> findings;
  Json policies = Json::object();
  Json services = Json::array();  // per service: what the plan decided, with its sources
  Json cost = nullptr;            // Infracost-shaped estimate (target aws), else null
  Json ToJson() const;            // the summary: files (with sha256), findings, policies
  // What the next plan diffs against: {"files": {path: sha256}, "resources":
  // {address: sha256}, "monthly_cost": "12.34" or null}. Resources are the
  // Terraform resources, Render services, Helm charts, Vercel projects,
  // images and workflows the files describe.
  Json State() const;
};

// Files and resources added, changed and removed, and the cost's change,
// between two states; `previous` null means a first plan (everything added).
Json Diff(const Json& previous, const Json& current);

// A folder or project name as a name usable for images and resources
// (core/ids.h).
using ps::Slug;

// Reads a file of the repository (for reviewing what it already has);
// nullopt when absent or unreadable.
using RepoReader = std::function<std::optional<std::string>(const std::string& path)>;
// A reader of `view` (bounded reads of 1 MiB); the view must outlive it.
RepoReader ReaderOf(audit::RepoView& view);
// A YAML (and JSON) double-quoted scalar.
std::string YamlQuote(const std::string& s);
// Replaces each OPEN key CLOSE of a template ("{{n}}", "[[svc]]") by its value.
std::string Fill(std::string t, const char* open, const char* close,
                 const std::vector<std::pair<std::string, std::string>>& values);

Result<Blueprint> MakeBlueprint(const Json& audit, const PlanOptions& options,
                                const RepoReader& read);

// Validates options: target and env from their lists, a project name usable
// in image and resource names.
Status CheckOptions(const PlanOptions& options);

// --- the parts (one file each) ------------------------------------------

// "apps/api" + "Dockerfile" -> "apps/api/Dockerfile"; "." + name -> name.
std::string JoinRoot(const std::string& root, const std::string& name);

// A service as the plan reads it from the audit's JSON: field values or
// empty, with the file the value came from.
struct ServiceFacts {
  std::string name, root, kind, language, framework, package_manager;
  std::string runtime, runtime_version;  // "node", "20.11.1" (may be a range: ">=20")
  std::optional<int> port;
  std::string build_command, start_command, test_command, test_framework, healthcheck;
  std::string dockerfile;  // an existing Dockerfile's path
  std::vector<std::string> backing;
  std::vector<Json> env_vars;                    // as in the audit
  Json migrations;                               // {"tool", "dir", "command"} or null
  std::map<std::string, std::string> source_of;  // field -> "file:line" of its evidence
  // A process run from another service's image (a Procfile worker): that
  // service's name, and the Dockerfile it is built from; empty otherwise.
  std::string image_of, image_dockerfile;
};
std::vector<ServiceFacts> ServicesOf(const Json& audit);
// Whether the service needs the backing service `name` ("postgres", ...).
bool UsesBacking(const ServiceFacts& s, const std::string& name);
// The folder a static site's framework builds into, relative to the
// service's root ("dist", "build", "dist/NAME/browser"); "" when unknown.
std::string SiteDir(const ServiceFacts& s);

// A multi-stage Dockerfile and .dockerignore for a service without one, or
// findings for the one it has.
void PlanContainer(const ServiceFacts& s, const PlanOptions& o, const RepoReader& read,
                   Blueprint& out);
// .github/workflows/prodsprint.yml for the repository.
// `images`: the services built into an image; `deployed`: everything that
// runs (processes sharing an image too).
void PlanWorkflow(const std::vector<ServiceFacts>& images,
                  const std::vector<ServiceFacts>& deployed, const PlanOptions& o, Blueprint& out);
// The sizes the AWS plan provisions in an environment; the cost estimate
// prices the same numbers.
struct AwsSizing {
  int nat_gateways = 1;
  int desired_count = 1;
  int cpu = 256;     // Fargate CPU units (1024 = 1 vCPU)
  int memory = 512;  // MiB
  std::string db_class = "db.t4g.micro";
  bool db_multi_az = false;
  int db_storage_gb = 20;
  std::string cache_node = "cache.t4g.micro";
  int cache_nodes = 1;
  int log_retention_days = 14;
  int backup_days = 7;
};
AwsSizing SizingFor(const std::string& env);
// The sizes the Kubernetes plan provisions in an environment (both clouds);
// the cost estimate prices the same numbers.
struct KubernetesSizing {
  int nodes = 2, max_nodes = 4;
  std::string instance = "t3.large";      // EKS nodes (2 vCPU, 8 GiB)
  std::string machine = "e2-standard-2";  // GKE nodes (2 vCPU, 8 GiB)
  std::string db_class = "db.t4g.micro";
  bool db_multi_az = false;
  std::string cache_node = "cache.t4g.micro";
  int cache_nodes = 1;
  int nat_gateways = 1;
  std::string sql_tier = "db-custom-1-3840";
  bool sql_ha = false;
  std::string redis_tier = "BASIC";
  int backup_days = 7;
};
KubernetesSizing KubernetesSizingFor(const std::string& env);
// infra/kubernetes/CLOUD/ENV: the cluster (EKS or GKE), the managed backing
// services, identities and secrets, and the External Secrets operator and
// store the charts read from (target kubernetes).
void PlanKubernetesInfra(const std::vector<ServiceFacts>& services, const PlanOptions& o,
                         Blueprint& out);
// Terraform blocks both AWS plans (target aws, target kubernetes on EKS)
// write: the state bucket (bootstrap/main.tf), RDS (its password managed by
// RDS, never in state), ElastiCache Redis (TLS) and the data bucket. They
// refer to local.name, aws_vpc.main and aws_subnet.private.
std::string AwsStateBootstrap(const std::string& project, const std::string& bucket,
                              const std::string& chdir);
std::string AwsDatabase(bool postgres, const std::string& db_class, int storage_gb, bool multi_az,
                        int backup_days, bool prod, const std::string& reached_from);
std::string AwsRedis(const std::string& id_expression, const std::string& node, int nodes,
                     const std::string& reached_from);
std::string AwsDataBucket();
// infra/aws/ENV/*.tf and infra/aws/bootstrap/ (target aws).
void PlanTerraform(const std::vector<ServiceFacts>& services, const PlanOptions& o, Blueprint& out);
// The monthly cost of the AWS plan (infra/aws/ENV/cost.json, usage.yml),
// with usage from prodsprint-usage.yml at the repository's root if present.
void PlanCost(const std::vector<ServiceFacts>& services, const PlanOptions& o,
              const RepoReader& read, Blueprint& out);
// The bundled price table: version, date, sources, prices.
Json PriceTable();
// deploy/helm/SERVICE (Rollout, AnalysisTemplate...) and deploy/argocd (target kubernetes).
void PlanKubernetes(const std::vector<ServiceFacts>& services, const PlanOptions& o,
                    Blueprint& out);
// render.yaml (target render) and vercel.json per frontend (target vercel),
// each with its monthly price in Blueprint::cost.
void PlanRender(const std::vector<ServiceFacts>& services, const PlanOptions& o, Blueprint& out);
void PlanVercel(const std::vector<ServiceFacts>& services, const PlanOptions& o, Blueprint& out);
// The readiness gates' thresholds, drafted from what the audit found, keyed
// as prodsprint.yaml's policy section, with `why` for each choice.
Json DraftPolicies(const std::vector<ServiceFacts>& services, const Json& audit);
// That policy as prodsprint.yaml's `policy:` section.
std::string PolicyYaml(const Json& policies);

}  // namespace ps::stages::plan
