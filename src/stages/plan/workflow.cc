// The CI workflow: GitHub Actions, one file for the repository. Every action
// pinned by full commit SHA with its release in a comment; `permissions: {}`
// at the top and each job asks for what it uses; one run per ref at a time;
// package manager caches; images built with an SBOM and provenance
// attestation and signed keylessly (OIDC), no long-lived key anywhere.
#include <cctype>
#include <set>

#include "stages/plan/blueprint.h"
#include "stages/plan/hcl.h"

namespace ps::stages::plan {

namespace {

using hcl::Name;

struct Pin {
  const char* action;
  const char* sha;
  const char* version;
};

// Releases checked against their tags' commits; bump them together.
constexpr Pin kPins[] = {
    {"actions/checkout", "11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"},
    {"actions/setup-node", "49933ea5288caeca8642d1e84afbd3f7d6820020", "v4.4.0"},
    {"actions/setup-python", "a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"},
    {"actions/setup-go", "d35c59abb061a4a6fb18e82ac0862c26744d6ab5", "v5.5.0"},
    {"actions/setup-java", "c5195efecf7bdfc987ee8bae7a71cb8b11521c00", "v4.7.1"},
    {"actions/cache", "5a3ec84eff668545956fd18022155c47e93e2684", "v4.2.3"},
    {"docker/setup-buildx-action", "c47758b77c9736f4b2ef4073d4d51994fabfe349", "v3.7.1"},
    {"docker/login-action", "9780b0c442fbb1117ed29e0efdff1e18412f7567", "v3.3.0"},
    {"docker/build-push-action", "4f58ea79222b3b9dc2c8bbdd6debcef730109a75", "v6.9.0"},
    {"sigstore/cosign-installer", "dc72c7d5c4d10cd6bcb8cf6e3fd625a9e5e537da", "v3.7.0"},
    {"aws-actions/configure-aws-credentials", "e3dd6a429d7300a6a4c196c26e071d42e0343502", "v4.0.2"},
    {"hashicorp/setup-terraform", "b9cd54a3c349d3f38e8881555d616ced269862dd", "v3.1.2"},
};

std::string Uses(const std::string& action) {
  for (const auto& p : kPins) {
    if (action == p.action)
      return std::string("uses: ") + p.action + "@" + p.sha + " # " + p.version;
  }
  return "uses: " + action;  // not reached: every action used is in kPins
}

// A YAML scalar: quoted when it could be read as something else.
std::string Scalar(const std::string& s) {
  if (s.empty() || s.find_first_of(":#{}[],&*!|>'\"%@`") != std::string::npos || s.front() == ' ' ||
      s.back() == ' ' || s == "true" || s == "false" || s == "null" ||
      s.find_first_not_of("0123456789.") == std::string::npos) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  return s;
}

std::string JobId(const std::string& prefix, const std::string& name) {
  std::string id = prefix + "-";
  for (char c : name) {
    id += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')
              ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
              : '-';
  }
  return id;
}

struct Lines {
  std::string text;
  void Add(int indent, const std::string& l) { text += std::string(indent, ' ') + l + "\n"; }
};

// Set-up steps for a service's toolchain, with its package manager's cache.
void Toolchain(const ServiceFacts& s, Lines& y, std::vector<Finding>& findings) {
  const std::string dir = s.root == "." ? "" : s.root + "/";
  const std::string pm = s.package_manager;
  std::string version;
  for (char c : s.runtime_version) {
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      version += c;
    } else if (!version.empty()) {
      break;
    }
  }
  while (!version.empty() && version.back() == '.') version.pop_back();
  if (version.empty() && s.language != "Go") {
    findings.push_back({"PLAN011", "warning", s.name,
                        "the runtime version is unknown: CI reads it from a repository variable",
                        "set the version in the project (see PLAN001), or the repository variable "
                        "the workflow names (Settings > Variables)",
                        ".github/workflows/prodsprint.yml", 0});
  }
  if (pm == "npm" || pm == "yarn" || pm == "pnpm") {
    if (pm != "npm") y.Add(6, "- run: corepack enable");
    y.Add(6, "- " + Uses("actions/setup-node"));
    y.Add(8, "with:");
    y.Add(10, "node-version: " +
                  (version.empty() ? std::string("${{ vars.NODE_VERSION }}") : Scalar(version)));
    y.Add(10, "cache: " + pm);
  } else if (s.language == "Python") {
    y.Add(6, "- " + Uses("actions/setup-python"));
    y.Add(8, "with:");
    y.Add(10, "python-version: " +
                  (version.empty() ? std::string("${{ vars.PYTHON_VERSION }}") : Scalar(version)));
    if (pm == "pip" || pm == "pipenv" || pm == "poetry") y.Add(10, "cache: " + pm);
    if (pm == "uv") y.Add(6, "- run: pip install uv");
    if (pm == "poetry") y.Add(6, "- run: pip install 'poetry>=1.8,<3'");
    if (pm == "pipenv") y.Add(6, "- run: pip install pipenv");
  } else if (s.language == "Go") {
    std::string mod = ".";
    auto it = s.source_of.find("build_command");
    if (it != s.source_of.end()) {
      const std::string f = it->second.substr(0, it->second.find(':'));
      mod = f.find('/') == std::string::npos ? "." : f.substr(0, f.rfind('/'));
    }
    y.Add(6, "- " + Uses("actions/setup-go"));
    y.Add(8, "with:");
    y.Add(10, "go-version-file: " + Scalar((mod == "." ? "" : mod + "/") + "go.mod"));
  } else if (pm == "maven" || pm == "gradle") {
    y.Add(6, "- " + Uses("actions/setup-java"));
    y.Add(8, "with:");
    y.Add(10, "distribution: temurin");
    y.Add(10, "java-version: " +
                  (version.empty() ? std::string("${{ vars.JAVA_VERSION }}") : Scalar(version)));
    y.Add(10, "cache: " + pm);
  } else {
    // No verified setup action: the language's official image runs the job.
    y.Add(6, "- " + Uses("actions/cache"));
    y.Add(8, "with:");
    if (pm == "bundler") {
      y.Add(10, "path: " + Scalar(dir + "vendor/bundle"));
      y.Add(10, "key: ${{ runner.os }}-gems-${{ hashFiles('" + dir + "Gemfile.lock') }}");
    } else if (pm == "composer") {
      y.Add(10, "path: " + Scalar(dir + "vendor"));
      y.Add(10, "key: ${{ runner.os }}-composer-${{ hashFiles('" + dir + "composer.lock') }}");
    } else if (pm == "cargo") {
      y.Add(10, "path: |");
      y.Add(12, "~/.cargo/registry");
      y.Add(12, "target");
      y.Add(10, "key: ${{ runner.os }}-cargo-${{ hashFiles('**/Cargo.lock') }}");
    } else if (pm == "dotnet") {
      y.Add(10, "path: ~/.nuget/packages");
      y.Add(10,
            "key: ${{ runner.os }}-nuget-${{ hashFiles('**/*.csproj', '**/packages.lock.json') }}");
    } else {
      y.Add(10, "path: ~/.cache");
      y.Add(10, "key: ${{ runner.os }}-" + (pm.empty() ? std::string("deps") : pm) +
                    "-${{ github.sha }}");
    }
  }
}

std::string InstallCommand(const ServiceFacts& s) {
  const std::string& pm = s.package_manager;
  if (pm == "npm") return "npm ci";
  if (pm == "yarn") return "yarn install --frozen-lockfile";
  if (pm == "pnpm") return "pnpm install --frozen-lockfile";
  if (pm == "pip") return "pip install -r requirements.txt";
  if (pm == "poetry") return "poetry install --no-interaction";
  if (pm == "pipenv") return "pipenv install --dev --deploy";
  if (pm == "uv") return "uv sync --frozen";
  if (pm == "bundler") return "bundle config set path vendor/bundle && bundle install";
  if (pm == "composer") return "composer install --no-interaction --prefer-dist";
  return "";
}

// The image a job runs in when no setup action is used.
std::string JobContainer(const ServiceFacts& s) {
  std::string v;
  for (char c : s.runtime_version) {
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.')
      v += c;
    else if (!v.empty())
      break;
  }
  while (!v.empty() && v.back() == '.') v.pop_back();
  if (s.package_manager == "bundler") return v.empty() ? "" : "ruby:" + v;
  if (s.package_manager == "composer") return v.empty() ? "" : "php:" + v + "-cli";
  if (s.package_manager == "cargo") return v.empty() ? "rust:1" : "rust:" + v;
  if (s.package_manager == "dotnet") return v.empty() ? "" : "mcr.microsoft.com/dotnet/sdk:" + v;
  return "";
}

}  // namespace

void PlanWorkflow(const std::vector<ServiceFacts>& services,
                  const std::vector<ServiceFacts>& deployed, const PlanOptions& o, Blueprint& out) {
  Lines y;
  y.Add(0,
        "# Generated by `prodsprint plan` from the audit. Every action is pinned by commit SHA.");
  y.Add(0, "name: prodsprint");
  y.Add(0, "on:");
  y.Add(2, "push:");
  y.Add(4, "branches: [main]");
  y.Add(4, "tags: ['v*']");
  y.Add(2, "pull_request:");
  y.Add(0, "permissions: {}");
  y.Add(0, "concurrency:");
  y.Add(2, "group: ${{ github.workflow }}-${{ github.ref }}");
  y.Add(2, "cancel-in-progress: ${{ github.event_name == 'pull_request' }}");
  y.Add(0, "jobs:");
  std::vector<std::string> test_jobs;
  std::set<std::string> ids;
  for (const auto& s : services) {
    if (s.test_command.empty()) {
      out.findings.push_back(
          {"PLAN009", "warning", s.name, "no test command was found: CI does not test this service",
           "add a test script (package.json `test`, pytest, go test...)", "", 0});
      continue;
    }
    const std::string id = JobId("test", s.name);
    if (!ids.insert(id).second) continue;
    test_jobs.push_back(id);
    y.Add(2, id + ":");
    y.Add(4, "name: test " + Scalar(s.name));
    y.Add(4, "runs-on: ubuntu-24.04");
    y.Add(4, "permissions:");
    y.Add(6, "contents: read");
    y.Add(4, "timeout-minutes: 30");
    const std::string image = JobContainer(s);
    if (!image.empty()) y.Add(4, "container: " + Scalar(image));
    // The backing services the tests may need, as service containers.
    bool any = false;
    for (const auto& b : s.backing) {
      std::string img, port, env;
      if (b == "postgres")
        img = "postgres:16", port = "5432", env = "POSTGRES_PASSWORD: postgres";
      else if (b == "mysql")
        img = "mysql:8.4", port = "3306", env = "MYSQL_ROOT_PASSWORD: mysql";
      else if (b == "redis")
        img = "redis:7", port = "6379";
      else if (b == "mongodb")
        img = "mongo:7", port = "27017";
      else
        continue;
      if (!any) y.Add(4, "services:");
      any = true;
      y.Add(6, b + ":");
      y.Add(8, "image: " + img);
      y.Add(8, "ports: ['" + port + ":" + port + "']");
      if (!env.empty()) {
        y.Add(8, "env:");
        y.Add(10, env);
      }
    }
    // The service's own connection variables, pointed at those containers.
    std::vector<std::string> env;
    auto has_var = [&](const std::string& n) {
      for (const auto& e : s.env_vars) {
        if (e.value("name", "") == n) return true;
      }
      return false;
    };
    const std::string host = image.empty() ? "localhost" : "";
    auto at = [&](const std::string& svc, const std::string& port) {
      return (host.empty() ? svc : host) + ":" + port;
    };
    for (const auto& b : s.backing) {
      if (b == "postgres" && has_var("DATABASE_URL"))
        env.push_back("DATABASE_URL: postgres://postgres:postgres@" + at("postgres", "5432") +
                      "/postgres");
      if (b == "mysql" && has_var("DATABASE_URL"))
        env.push_back("DATABASE_URL: mysql://root:mysql@" + at("mysql", "3306") + "/mysql");
      if (b == "redis" && has_var("REDIS_URL"))
        env.push_back("REDIS_URL: redis://" + at("redis", "6379"));
      if (b == "mongodb" && has_var("MONGODB_URI"))
        env.push_back("MONGODB_URI: mongodb://" + at("mongodb", "27017"));
    }
    if (!env.empty()) {
      y.Add(4, "env:");
      for (const auto& e : env) y.Add(6, e);
    }
    y.Add(4, "steps:");
    y.Add(6, "- " + Uses("actions/checkout"));
    y.Add(8, "with:");
    y.Add(10, "persist-credentials: false");
    Toolchain(s, y, out.findings);
    const std::string install = InstallCommand(s);
    const std::string wd = s.root == "." ? "" : s.root;
    if (!install.empty()) {
      y.Add(6, "- name: install");
      if (!wd.empty()) y.Add(8, "working-directory: " + Scalar(wd));
      y.Add(8, "run: " + Scalar(install));
    }
    y.Add(6, "- name: test");
    if (!wd.empty()) y.Add(8, "working-directory: " + Scalar(wd));
    y.Add(8, "run: " + Scalar(s.test_command));
  }

  // Images: built from the Dockerfile the plan wrote or the repository has,
  // with SBOM and provenance attestations, pushed on main and tags, signed.
  std::vector<const ServiceFacts*> images;
  for (const auto& s : services) images.push_back(&s);
  if (!images.empty()) {
    y.Add(2, "image:");
    y.Add(4, "name: image ${{ matrix.service }}");
    if (!test_jobs.empty()) {
      std::string needs;
      for (const auto& j : test_jobs) needs += (needs.empty() ? "" : ", ") + j;
      y.Add(4, "needs: [" + needs + "]");
    }
    const bool aws = o.target == "aws";
    y.Add(4, "if: github.event_name == 'push'");
    y.Add(4, "runs-on: ubuntu-24.04");
    y.Add(4, "permissions:");
    y.Add(6, "contents: read");
    if (!aws) y.Add(6, "packages: write   # push to ghcr.io");
    y.Add(6, aws ? "id-token: write   # OIDC: the AWS role and keyless signing, no stored key"
                 : "id-token: write   # keyless signing (OIDC), no stored key");
    y.Add(4, "strategy:");
    y.Add(6, "matrix:");
    y.Add(8, "include:");
    for (const auto* s : images) {
      const std::string df = s->dockerfile.empty()
                                 ? (s->root == "." ? "Dockerfile" : s->root + "/Dockerfile")
                                 : s->dockerfile;
      y.Add(10, "- service: " + Scalar(Slug(s->name)));
      y.Add(12, "dockerfile: " + Scalar(df));
    }
    y.Add(4, "env:");
    if (aws) {
      // The ECR repositories the Terraform makes, reached through a role
      // assumed with GitHub's OIDC token.
      y.Add(6, "REGISTRY: ${{ vars.AWS_ACCOUNT_ID }}.dkr.ecr.${{ vars.AWS_REGION }}.amazonaws.com");
      y.Add(6, "IMAGE: ${{ vars.AWS_ACCOUNT_ID }}.dkr.ecr.${{ vars.AWS_REGION }}.amazonaws.com/" +
                   o.project + "/${{ matrix.service }}");
    } else {
      y.Add(6, "IMAGE: ghcr.io/${{ github.repository_owner }}/" + o.project +
                   "-${{ matrix.service }}");
    }
    y.Add(4, "steps:");
    y.Add(6, "- " + Uses("actions/checkout"));
    y.Add(8, "with:");
    y.Add(10, "persist-credentials: false");
    y.Add(6, "- " + Uses("docker/setup-buildx-action"));
    if (aws) {
      y.Add(6, "- " + Uses("aws-actions/configure-aws-credentials"));
      y.Add(8, "with:");
      y.Add(10, "role-to-assume: ${{ vars.AWS_ROLE_ARN }}");
      y.Add(10, "aws-region: ${{ vars.AWS_REGION }}");
      y.Add(6, "- name: log in to ECR");
      y.Add(8,
            "run: aws ecr get-login-password | docker login --username AWS --password-stdin "
            "\"$REGISTRY\"");
    } else {
      y.Add(6, "- " + Uses("docker/login-action"));
      y.Add(8, "with:");
      y.Add(10, "registry: ghcr.io");
      y.Add(10, "username: ${{ github.actor }}");
      y.Add(10, "password: ${{ secrets.GITHUB_TOKEN }}");
    }
    y.Add(6, "- id: build");
    y.Add(8, Uses("docker/build-push-action"));
    y.Add(8, "with:");
    y.Add(10, "context: .");
    y.Add(10, "file: ${{ matrix.dockerfile }}");
    y.Add(10, "push: true");
    y.Add(10, "tags: ${{ env.IMAGE }}:${{ github.sha }}");
    y.Add(10, "sbom: true");
    y.Add(10, "provenance: mode=max");
    y.Add(10, "cache-from: type=gha,scope=${{ matrix.service }}");
    y.Add(10, "cache-to: type=gha,mode=max,scope=${{ matrix.service }}");
    y.Add(6, "- " + Uses("sigstore/cosign-installer"));
    y.Add(6, "- name: sign");
    y.Add(8, "env:");
    y.Add(10, "DIGEST: ${{ steps.build.outputs.digest }}");
    y.Add(8, "run: cosign sign --yes \"$IMAGE@$DIGEST\"");
  }
  // Deploys: staging on every push to main, production on a version tag,
  // each a GitHub environment (protect production with required reviewers).
  if (!images.empty() && (o.target == "aws" || o.target == "kubernetes")) {
    for (const std::string env : {"staging", "production"}) {
      const std::string cond = env == "staging" ? "github.ref == 'refs/heads/main'"
                                                : "startsWith(github.ref, 'refs/tags/v')";
      y.Add(2, "deploy-" + env + ":");
      y.Add(4, "needs: [image]");
      y.Add(4, "if: " + cond);
      y.Add(4, "runs-on: ubuntu-24.04");
      y.Add(4, "environment: " + env);
      y.Add(4, "concurrency: deploy-" + env + "  # one deploy at a time, never cancelled midway");
      y.Add(4, "permissions:");
      if (o.target == "aws") {
        y.Add(6, "contents: read");
        y.Add(6, "id-token: write   # OIDC to AWS");
        y.Add(4, "steps:");
        y.Add(6, "- " + Uses("actions/checkout"));
        y.Add(8, "with:");
        y.Add(10, "persist-credentials: false");
        y.Add(6, "- " + Uses("aws-actions/configure-aws-credentials"));
        y.Add(8, "with:");
        y.Add(10, "role-to-assume: ${{ vars.AWS_ROLE_ARN }}");
        y.Add(10, "aws-region: ${{ vars.AWS_REGION }}");
        y.Add(6, "- " + Uses("hashicorp/setup-terraform"));
        y.Add(6, "- name: terraform apply");
        y.Add(8, "working-directory: infra/aws/" + env);
        y.Add(8, "env:");
        y.Add(10, "TF_VAR_domain: ${{ vars.DOMAIN }}");
        y.Add(10, "TF_VAR_image_tag: ${{ github.sha }}");
        y.Add(8, "run: |");
        y.Add(10, "terraform init -input=false -backend-config=backend.hcl");
        y.Add(10, "terraform apply -input=false -auto-approve");
        // Static sites: built here, uploaded to their bucket, CDN invalidated.
        for (const auto& st : deployed) {
          if (st.kind != "static") continue;
          const std::string n = Name(st.name);
          const std::string wd = st.root == "." ? "." : st.root;
          const std::string dir = SiteDir(st).empty() ? wd : JoinRoot(st.root, SiteDir(st));
          const bool builds = !st.build_command.empty() && !InstallCommand(st).empty();
          if (!st.build_command.empty() && !builds) {
            if (env == "staging") {
              out.findings.push_back(
                  {"PLAN026", "warning", st.name,
                   "the workflow cannot build this site (" + st.package_manager +
                       " has no pinned setup action here): it is not uploaded",
                   "add a build step before the upload, or build with npm, yarn or pnpm",
                   ".github/workflows/prodsprint.yml", 0});
            }
            continue;
          }
          if (builds) {
            Toolchain(st, y, out.findings);
            y.Add(6, "- name: build " + Scalar(st.name));
            y.Add(8, "working-directory: " + Scalar(wd));
            y.Add(8, "run: " + Scalar(InstallCommand(st) + " && " + st.build_command));
          }
          y.Add(6, "- name: upload " + Scalar(st.name));
          y.Add(8, "run: |");
          y.Add(10,
                "bucket=$(terraform -chdir=infra/aws/" + env + " output -raw " + n + "_bucket)");
          y.Add(10, "distribution=$(terraform -chdir=infra/aws/" + env + " output -raw " + n +
                        "_distribution)");
          y.Add(10, "aws s3 sync " + dir + " \"s3://$bucket\" --delete");
          y.Add(10,
                "aws cloudfront create-invalidation --distribution-id \"$distribution\" --paths "
                "'/*'");
        }
      } else {
        // GitOps: the image tag is committed; Argo CD syncs the cluster.
        y.Add(6, "contents: write   # commits the image tag Argo CD deploys");
        y.Add(4, "steps:");
        y.Add(6, "- " + Uses("actions/checkout"));
        y.Add(8, "with:");
        y.Add(10, "ref: main  # the commit goes on main, also when a tag triggered the run");
        y.Add(6, "- name: set the image");
        y.Add(8, "run: |");
        for (const auto& s : deployed) {
          if (s.kind == "static") continue;
          const std::string image = Slug(s.image_of.empty() ? s.name : s.image_of);
          const std::string f = "deploy/helm/" + Slug(s.name) + "/values-" + env + "-image.yaml";
          y.Add(10,
                "printf 'image:\\n  repository: %s\\n  tag: %s\\n' \"ghcr.io/${{ "
                "github.repository_owner }}/" +
                    o.project + "-" + image + "\" \"$GITHUB_SHA\" > " + f);
        }
        y.Add(10, "git config user.name prodsprint-ci");
        y.Add(10, "git config user.email prodsprint-ci@users.noreply.github.com");
        y.Add(10, "git add deploy/helm && git commit -m \"deploy " + env +
                      ": $GITHUB_SHA\" && git push origin HEAD:main");
      }
    }
  }
  out.files[".github/workflows/prodsprint.yml"] = y.text;
  if (o.target == "aws" && !images.empty()) {
    out.findings.push_back(
        {"PLAN024", "info", "",
         "the workflow deploys staging from main and production from v* tags, "
         "with the Terraform of infra/aws/<env>",
         "run `prodsprint plan --target aws --env production` too, and set the repository "
         "variables AWS_ROLE_ARN, AWS_REGION, AWS_ACCOUNT_ID and DOMAIN",
         ".github/workflows/prodsprint.yml", 0});
  }
  if (o.target == "render" || o.target == "vercel") {
    out.findings.push_back({"PLAN010", "info", "",
                            "the workflow tests, builds and signs images; " + o.target +
                                " deploys from its Git integration, not from the workflow",
                            "connect the repository in " + o.target +
                                "'s dashboard (render.yaml / vercel.json are read from it)",
                            "", 0});
  }
}

}  // namespace ps::stages::plan
