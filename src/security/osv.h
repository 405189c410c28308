// Known vulnerabilities, offline: an advisory database in OSV format
// (https://ossf.github.io/osv-schema/) kept in a SQLite file, loaded from
// OSV JSON files or OSV's per-ecosystem zip exports, and matched against
// the dependency graph with each ecosystem's version order.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/problem.h"
#include "security/deps.h"

namespace ps::security {

// CVSS base score of a vector: v2 ("AV:N/AC:L/Au:N/C:P/I:P/A:P"), v3.0 and
// v3.1 ("CVSS:3.1/AV:N/..."). nullopt for v4 and anything malformed.
std::optional<double> CvssBaseScore(std::string_view vector);
// "critical" (>= 9), "high" (>= 7), "medium" (>= 4), "low" (> 0), "none".
std::string SeverityOfScore(double score);
// 4 critical, 3 high, 2 medium, 1 low, 0 none/unknown.
int SeverityRank(std::string_view severity);

struct Advisory {
  std::string id, summary, modified;
  std::vector<std::string> aliases;
  std::string severity = "unknown";  // from CVSS, else the database's own label
  std::optional<double> score;
  std::string vector;  // the CVSS vector the score came from
  std::string url;     // the advisory's page
  Json affected = Json::array();
  bool withdrawn = false;
};

// One OSV record. A Problem when it is not one (no id, wrong types).
Result<Advisory> ParseOsvRecord(const Json& record);

// Whether `version` of package (ecosystem, name) is affected by one OSV
// "affected" entry: its explicit versions list, or its SEMVER/ECOSYSTEM
// ranges (introduced / fixed / last_affected / limit events) evaluated in
// the ecosystem's order. `fixed` gets the lowest fixed version above it.
bool Affects(const Json& affected_entry, std::string_view ecosystem, std::string_view version,
             std::string* fixed);

// The name as an ecosystem compares it (PyPI: PEP 503; NuGet: lower case).
std::string CanonicalPackageName(std::string_view ecosystem, std::string_view name);

struct VulnFinding {
  std::string advisory_id;
  std::vector<std::string> aliases;
  std::string summary, severity, vector, url;
  std::optional<double> score;
  std::string ecosystem, name, version, purl;
  std::string fixed;  // "" when no fixed version is published
  bool direct = false, dev = false;
  std::vector<std::string> sources;
  Json ToJson() const;
};

struct ImportReport {
  std::size_t files = 0;      // JSON documents read
  std::size_t added = 0;      // new advisories
  std::size_t updated = 0;    // newer versions of known ones
  std::size_t unchanged = 0;  // same or older than what the database holds
  std::size_t withdrawn = 0;  // removed: the record says it was withdrawn
  std::vector<std::pair<std::string, std::string>> skipped;  // file, why
  Json ToJson() const;
};

class AdvisoryDb {
 public:
  // Opens (creating when asked) the database file.
  static Result<std::unique_ptr<AdvisoryDb>> Open(const std::string& path, bool create);
  ~AdvisoryDb();
  AdvisoryDb(const AdvisoryDb&) = delete;
  AdvisoryDb& operator=(const AdvisoryDb&) = delete;

  // Loads OSV records from a .json file (one record, or an array of them),
  // a .zip export, or a folder of either (recursively). Malformed records
  // are skipped and listed; one transaction per file.
  Result<ImportReport> Import(const std::string& path, const std::function<bool()>& stopping = {});
  // Loads records from bytes already in memory (a zip or JSON document).
  Result<ImportReport> ImportBytes(const std::string& name, std::string_view bytes);

  // Advisories affecting the graph's components that have exact versions.
  Result<std::vector<VulnFinding>> Match(const DependencyGraph& graph);

  // Counts per ecosystem, newest "modified", when last imported.
  Result<Json> Status();
  void SetMeta(const std::string& key, const std::string& value);

 private:
  AdvisoryDb() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ps::security
