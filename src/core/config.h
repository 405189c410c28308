// prodsprint.yaml: the repository's configuration, validated against a schema
// with errors that name the file, line, column and key; PRODSPRINT_* environment
// variables override it. docs/CONFIG.md documents every key.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "core/problem.h"

namespace ps {

struct StageOverride {
  std::optional<Millis> timeout;
  std::optional<int> max_attempts;
};

struct EngineConfig {
  int workers = 2;              // worker threads of one process
  Millis lease_ttl = 15'000;    // a lease not renewed for this long is lost
  Millis heartbeat = 3'000;     // how often a running stage renews its lease
  int max_attempts = 3;         // attempts per stage before the dead-letter list
  Millis backoff_base = 500;    // first retry delay cap (full jitter below it)
  Millis backoff_cap = 60'000;  // largest retry delay
  Millis stage_timeout = 1'800'000;
  Millis poll = 200;  // idle workers look for work this often
  std::map<std::string, StageOverride> stages;
};

// The readiness gates' thresholds (`policy:` in prodsprint.yaml); `prodsprint
// plan` drafts them from the audit.
struct PolicyConfig {
  bool tests_required = true;
  int tests_max_failures = 0;
  int tests_coverage_min = 0;                  // percent
  std::string security_max_severity = "high";  // low, medium, high, critical
  std::string security_secrets = "block";      // block or warn
  // Generic matches (a secret-named key given a literal, no format of its
  // own): warnings by default.
  std::string security_unverified_secrets = "warn";  // block or warn
  // What could not be scanned (an unreadable file or folder, a path past the
  // system's limit, a corrupt git object): blocks unless "warn".
  std::string security_unscanned = "block";          // block or warn
  std::string security_dev_dependencies = "report";  // block or report (dev-only vulnerabilities)
  std::vector<std::string> security_licenses_allow;  // empty: all allowed
  std::vector<std::string> security_licenses_deny;
  std::vector<std::string> security_ignore;  // accepted finding ids / fingerprints
  // Not secrets, whatever a rule says: paths and values (RE2 expressions),
  // stopwords a value may not hold.
  std::vector<std::string> security_allow_paths, security_allow_regexes, security_allow_stopwords;
  int perf_p95_ms = 0;  // 0: no budget
  int perf_p99_ms = 0;
  int perf_max_regression_pct = 10;
  int perf_rate = 50;                   // requests per second the gate offers each service
  Millis perf_duration = 10'000;        // counted time, after a second of warm-up
  double release_error_budget = 0.001;  // allowed error ratio
  double release_max_error_ratio_increase = 0.01;
  Json ToJson() const;
};

// One step of a canary release, in Argo Rollouts' vocabulary.
struct ReleaseStep {
  std::string kind;      // "setWeight", "pause", "analysis"
  int weight = 0;        // setWeight: the candidate's percent of traffic
  Millis duration = -1;  // pause: how long; -1 until `prodsprint promote`
};

// An absolute limit the candidate must stay under (release.analysis.metrics),
// like a Flagger metric's threshold but tested sequentially.
struct ReleaseMetric {
  std::string name;        // "error-rate" or "latency"
  double max = 0;          // error-rate: the highest tolerated ratio
  double quantile = 0.99;  // latency: which quantile...
  Millis max_ms = 0;       // ...must stay at or under this
};

// How releases run (`release:` and `deploy:` in prodsprint.yaml).
struct ReleaseConfig {
  std::string strategy = "canary";     // canary or bluegreen
  std::vector<ReleaseStep> steps;      // empty: setWeight 10, analysis, setWeight 50, analysis
  double alpha = 0.01;                 // false rollbacks per release, at most
  int min_requests = 50;               // candidate requests before it may be called safe
  double max_error_rate = 0.01;        // the candidate's tolerated error rate
  Millis max_duration = 600'000;       // an analysis step inconclusive this long waits for a person
  std::vector<ReleaseMetric> metrics;  // absolute limits beside the comparison with stable
  double traffic_rate = 100;           // requests/s driven during a release (0: none)
  int traffic_connections = 16;
  std::vector<std::string> traffic_paths;  // default: the service's health path, else /
  int instances = 1;                       // deploy.instances: instances per version
  Millis health_timeout = 60'000;          // deploy.health_timeout
  // The steps to run: the configured ones or the defaults.
  std::vector<ReleaseStep> EffectiveSteps() const;
  Json ToJson() const;
};

// `prodsprint serve`: where it listens, what it may import, whom it trusts.
struct ServerConfig {
  std::string listen = "127.0.0.1:7070";  // HOST:PORT
  // Local repositories (plain paths, file:// URLs) are importable only from
  // under this folder; empty: none are.
  std::string repos_root;
  // OIDC: tokens must come from `oidc_issuer` for `oidc_audience`, signed by
  // a key of the JWKS at `oidc_jwks_url` or in `oidc_jwks_file`.
  std::string oidc_issuer, oidc_audience, oidc_jwks_url, oidc_jwks_file;
  // The dashboard's sign-in (authorization code + PKCE, a public client):
  // its client id at the provider; empty: no sign-in through the provider.
  std::string oidc_client_id;
  // Origins a browser may call the API from (CORS); empty: none.
  std::vector<std::string> cors_origins;
  int rate_token = 50;        // requests per second per token (bursts of twice that)
  int rate_org = 500;         // requests per second per org
  Millis heartbeat = 15'000;  // SSE comment heartbeat
};

struct Config {
  int version = 1;
  std::string project_name;  // empty: the folder's name
  std::string project_branch = "main";
  std::string state_dir = ".prodsprint";
  // The environments commands may create and act on (--env).
  std::vector<std::string> environments = {"staging", "production"};
  EngineConfig engine;
  PolicyConfig policy;
  ReleaseConfig release;
  ServerConfig server;
  LogFormat log_format = LogFormat::kLogfmt;
  LogLevel log_level = LogLevel::kWarn;

  // Where each value came from ("defaults", "prodsprint.yaml:12",
  // "env PRODSPRINT_ENGINE_WORKERS"), keyed by dotted path.
  std::map<std::string, std::string> origin;
  std::string file;  // the file read, empty if none

  Json ToJson() const;
};

// One located validation error.
struct ConfigError {
  std::string file;
  int line = 0;     // 1-based; 0 when not from a file
  int column = 0;   // 1-based
  std::string key;  // dotted path
  std::string message;
  std::string ToString() const;
};

// Parses YAML text. `file` names it in errors. All errors are collected into
// one Problem (invalid-config) whose "errors" member lists them.
Result<Config> ParseConfig(std::string_view text, const std::string& file);

// Applies PRODSPRINT_* overrides from `env` (name -> value).
Status ApplyEnvOverrides(Config& config, const std::map<std::string, std::string>& env);

// Reads `path` if it exists (a missing file gives the defaults), then the
// process environment. A file found in a repository (`found_in_repository`)
// that is a symbolic link is refused: the repository is untrusted and its
// link may point at any file of the machine. A path the user named is
// followed.
Result<Config> LoadConfig(const std::string& path, bool found_in_repository = true);

// The environment of this process as a map.
std::map<std::string, std::string> ProcessEnv();

}  // namespace ps
