// The audit: an evidence-backed service graph of a repository. One bounded
// walk feeds the language breakdown and collects the files that matter
// (manifests, lock files, Dockerfiles, compose files, env samples, source);
// then one detector per ecosystem proposes services and their facts, each
// with evidence. docs/AUDIT.md documents the JSON result.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/problem.h"
#include "stages/audit/evidence.h"
#include "stages/audit/repo_view.h"

namespace ps::stages::audit {

struct EnvVar {
  std::string name;
  bool required = false;
  bool secret = false;
  std::optional<std::string> default_value;
  std::vector<Evidence> evidence;
};

struct Service {
  std::string name;
  std::string root;  // "." for the repository root
  Field kind, language, framework, package_manager, runtime_version, port;
  Field build_command = Field::Alternatives();
  Field start_command = Field::Alternatives();
  Field test_framework = Field::Alternatives();
  Field test_command = Field::Alternatives();
  Field dockerfile = Field::Alternatives();
  Field healthcheck = Field::Alternatives();
  Field migrations = Field::Alternatives();
  std::map<std::string, EnvVar> env_vars;
  std::map<std::string, std::vector<Evidence>> backing_services;  // canonical name -> evidence
  bool deployable = true;  // false: a library or an asset build folded into another service
  // Backing services the code can use but does not need: a client library
  // and nothing more (an object store SDK for optional uploads), or a
  // database the repository's compose file does not run when it runs another.
  std::set<std::string> optional_backing;
  // A JavaScript workspace's root (workspaces, pnpm, turbo): tooling when
  // packages below it are services.
  bool workspace_root = false;
  // What the source says of how it runs: it listens for HTTP; it runs as a
  // context or microservice without a listener (a worker); it is a
  // command-line program (runs and exits).
  bool serves_http = false, runs_headless = false, is_cli = false;
  bool serves_grpc = false;  // a gRPC server (MapGrpcService, ServerBuilder.forPort...)
  // For the monorepo graph: the name other packages of the repository use
  // for this one (npm name, Maven artifactId, Gradle path, crate, Go module,
  // Nx project), and the names this one depends on, with where.
  std::string package_id;
  std::vector<std::pair<std::string, Evidence>> uses;

  void AddEnv(const std::string& name, bool required, bool secret,
              std::optional<std::string> default_value, Evidence ev);
  void AddBacking(const std::string& canonical, Evidence ev);
  Json ToJson() const;
};

struct AuditLimits {
  std::uint64_t max_files = 2'000'000;
  std::uint64_t max_read_bytes = 512 * 1024;  // per file read for detection
  std::size_t max_source_files = 20'000;      // files scanned for ports and env reads
};

// The files the walk kept, and bounded reads of them.
class RepoIndex {
 public:
  RepoIndex(RepoView& view, AuditLimits limits) : view_(view), limits_(limits) {}
  // Files by base name ("package.json" -> paths), and source files.
  const std::vector<std::string>& Named(const std::string& base) const;
  const std::vector<std::string>& Sources() const { return sources_; }
  bool Has(const std::string& path) const { return kept_.count(path) != 0; }
  // Reads a kept file (bounded); a warning and nullopt if unreadable or binary.
  std::optional<std::string> Read(const std::string& path);
  // Reads kept files, several at once where the view allows it, and calls
  // `fn(path, text)` for each readable one on this thread, in `paths` order.
  void ReadEach(const std::vector<std::string>& paths,
                const std::function<void(const std::string&, const std::string&)>& fn);
  // Reads and parses a JSON manifest; a warning and nullopt if malformed.
  std::optional<Json> ReadJson(const std::string& path);
  void Warn(const std::string& file, const std::string& message);
  const std::vector<Json>& warnings() const { return warnings_; }
  // Paths of kept files under `dir` ("" or "." for all).
  std::vector<std::string> Under(const std::string& dir, const std::string& base) const;

  // The first migrations folder the walk saw under `root`, else root/migrations.
  std::string MigrationDirUnder(const std::string& root) const;

  // Filled by the walk.
  std::map<std::string, std::vector<std::string>> by_name_;
  // Filled by DetectContainers: the backing servers the repository's compose
  // files run (canonical names), for telling needed from supported.
  std::set<std::string> compose_backing_;
  // Folders that compose builds only behind a profile (seeders, load
  // generators): not part of the deployment.
  std::set<std::string> optional_roots_;
  std::set<std::string> migration_dirs_;  // folders named migrations, migrate, versions
  std::vector<std::string> sources_;
  // Every kept path, and whether its content is cached once read: manifests
  // are (several detectors read them); source files are not, so memory stays
  // bounded by the manifests, not by max_source_files x max_read_bytes.
  std::map<std::string, bool> kept_;

 private:
  // What Read does with the bytes: warn if unreadable or binary, cache manifests.
  std::optional<std::string> Accept(const std::string& path, bool cache, Result<std::string> r);

  RepoView& view_;
  AuditLimits limits_;
  std::map<std::string, std::string> cache_;
  std::vector<Json> warnings_;
};

// A dependency that names a framework, with what it implies.
struct FrameworkRule {
  const char* dep;
  const char* name;
  const char* kind;  // web, grpc, static
  int port;          // the framework's default port
  double confidence;
};

// Detectors add services (or facts to existing ones) to the map keyed by root.
using Services = std::map<std::string, Service>;
void DetectNode(RepoIndex& idx, Services& out);
void DetectPython(RepoIndex& idx, Services& out);
void DetectGo(RepoIndex& idx, Services& out);
void DetectRuby(RepoIndex& idx, Services& out);
void DetectPhp(RepoIndex& idx, Services& out);
void DetectJvm(RepoIndex& idx, Services& out);
void DetectDotnet(RepoIndex& idx, Services& out);
void DetectRust(RepoIndex& idx, Services& out);
void DetectElixir(RepoIndex& idx, Services& out);
void DetectContainers(RepoIndex& idx, Services& out);  // Dockerfile, compose, Procfile
void DetectKubernetes(RepoIndex& idx, Services& out);  // workloads: ports, env, probes
void DetectEnvFiles(RepoIndex& idx, Services& out);    // .env.example and friends
// ASP.NET Core settings the environment must give (Section__Key).
void DotnetSettings(RepoIndex& idx, const std::string& dir, Service& s);
// Ports and env reads in source code of each service.
void ScanSources(RepoIndex& idx, Services& out);
// Whether ScanSources reads a source file: tests and fixtures do not say what
// a service reads in production.
inline bool IsScannedSource(std::string_view path) {
  return path.find("test") == std::string_view::npos && path.find("spec") == std::string_view::npos;
}

// Helpers shared by detectors.
std::string DirOf(const std::string& path);  // "." for root files
std::string JoinPath(const std::string& dir, const std::string& name);
bool IsSecretName(std::string_view name);
// An environment variable's name by convention: upper case, digits, '_'.
bool IsEnvName(const std::string& name);
Service& ServiceAt(Services& out, const std::string& root);

// Runs the audit. `stopping` lets a stage stop it.
Result<Json> Audit(RepoView& view, const AuditLimits& limits,
                   const std::function<bool()>& stopping = {});

}  // namespace ps::stages::audit
