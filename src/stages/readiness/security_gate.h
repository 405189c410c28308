// The security gate: one pass over a repository (working tree or a git
// revision) that finds secrets, reads the dependency graph, matches it
// against the offline advisory database, checks licenses and the container
// and IaC rules, and decides from the policy. `prodsprint check --gate
// security` prints it; the readiness run's security stage stores it.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/json.h"
#include "core/problem.h"
#include "security/deps.h"
#include "security/iac.h"
#include "security/licenses.h"
#include "security/osv.h"
#include "security/secrets.h"
#include "stages/readiness/history_scan.h"

namespace ps::stages::readiness {

// Where the advisory database lives unless told: $PRODSPRINT_ADVISORY_DB,
// else $XDG_CACHE_HOME/prodsprint/advisories.db, else
// ~/.cache/prodsprint/advisories.db (shared by every project, like the
// caches of Trivy and Grype).
std::string DefaultAdvisoryDbPath();

struct SecurityGateOptions {
  std::string path;         // the repository's folder
  std::string ref;          // a git revision, or "" for the working tree
  std::string advisory_db;  // "" = DefaultAdvisoryDbPath()
  PolicyConfig policy;
  // Accepted findings, by fingerprint or id (a baseline file's entries).
  std::set<std::string> baseline;
  // Also scan the git history (each blob once, remembered between scans).
  bool history = false;
  // A gitleaks configuration to import (rules and allowlists); "" = the
  // repository's .gitleaks.toml when it has one.
  std::string gitleaks_config;
  std::string history_cache;  // "" = the default per-repository cache
  std::function<bool()> stopping;
};

// An accepted finding: reported apart, never a blocker.
struct Accepted {
  std::string kind, id, why;  // why: "baseline" or "policy.security.ignore"
};

struct SecurityReport {
  std::string target;    // "worktree /path" or "git /path@rev (commit)"
  std::string project;   // the folder's name
  std::string revision;  // the commit read, "" for a working tree
  std::string timestamp;
  std::uint64_t files = 0, bytes = 0;
  double seconds = 0;
  SecurityGateOptions options;

  std::vector<security::SecretFinding> secrets;    // history findings carry `commit`
  std::vector<security::SecretRule> secret_rules;  // built-in and imported
  Json history;   // the history scan's counts, null when not asked for
  Json gitleaks;  // the imported gitleaks configuration, null when none
  security::DependencyGraph deps;
  bool vulns_checked = false;
  std::string vulns_note;  // why not checked, or the database's age
  std::vector<security::VulnFinding> vulns;
  std::string project_license;  // SPDX, from LICENSE or the manifest
  std::vector<security::LicenseFinding> licenses;
  std::vector<security::IacFinding> iac;
  std::vector<security::DependencyWarning> warnings;  // unreadable lockfiles, IaC files
  Json skipped = Json::array();                       // files not scanned, and why
  // What could not be read at all (unreadable files and folders, paths past
  // the system's limit, corrupt git objects, files past the walk's limit):
  // {path, why}, the first 100 of `unscanned_count`. Blocks unless
  // policy.security.unscanned is "warn". `truncated`: something was left out.
  Json unscanned = Json::array();
  std::size_t unscanned_count = 0;
  bool truncated = false;
  std::vector<Accepted> accepted;
  std::vector<std::string> blockers;  // why the gate fails; empty: it passes
  std::vector<std::string> notes;     // what was found and does not block (warnings)

  bool passed() const { return blockers.empty(); }
  Json ToJson() const;
  Json Sarif() const;  // SARIF 2.1.0, one run, every kind of finding
  Json CycloneDx() const;
  Json Spdx() const;
  // Every finding's fingerprint: what a baseline file accepts.
  Json Baseline() const;

  // Lockfile contents by path (to locate a package's line for SARIF).
  std::map<std::string, std::string> dependency_files;
};

Result<SecurityReport> RunSecurityGate(const SecurityGateOptions& options);

// Reads a baseline file (written by `check --write-baseline`): the
// fingerprints it accepts. A Problem when it is not one.
Result<std::set<std::string>> LoadBaseline(const std::string& path);

// The fingerprint a vulnerability is accepted by ("GHSA-...@pkg:npm/x@1").
std::string VulnFingerprint(const security::VulnFinding& v);

}  // namespace ps::stages::readiness
