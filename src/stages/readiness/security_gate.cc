#include "stages/readiness/security_gate.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "core/clock.h"
#include "core/fs.h"
#include "core/parallel.h"
#include "security/sbom.h"
#include "stages/audit/repo_view.h"

namespace ps::stages::readiness {

namespace fs = std::filesystem;
using security::IacFinding;
using security::LicenseFinding;
using security::SecretFinding;
using security::VulnFinding;

namespace {

constexpr std::uint64_t kMaxScanBytes = 10ull << 20;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Vulnerabilities without a severity (Go's database gives none) gate as medium.
int GateRank(const std::string& severity) {
  const int r = security::SeverityRank(severity);
  return r == 0 ? 2 : r;
}

std::string Level(const std::string& severity) {
  if (severity == "critical" || severity == "high") return "error";
  if (severity == "medium" || severity == "unknown") return "warning";
  return "note";
}

std::string SecurityScore(const std::string& severity) {
  if (severity == "critical") return "9.5";
  if (severity == "high") return "8.0";
  if (severity == "medium" || severity == "unknown") return "5.5";
  return "3.0";
}

bool IsLicenseFile(const std::string& path) {
  static const std::set<std::string> kNames = {"LICENSE",    "LICENSE.md", "LICENSE.txt",
                                               "LICENCE",    "LICENCE.md", "COPYING",
                                               "COPYING.md", "LICENSE-MIT"};
  return kNames.count(path) > 0;
}

}  // namespace

std::string DefaultAdvisoryDbPath() {
  if (auto p = Env("PRODSPRINT_ADVISORY_DB"); !p.empty()) return p;
  if (auto dir = UserCacheDir(); !dir.empty()) return dir + "/advisories.db";
  return ".prodsprint/advisories.db";
}

std::string VulnFingerprint(const VulnFinding& v) { return v.advisory_id + "@" + v.purl; }

Result<std::set<std::string>> LoadBaseline(const std::string& path) {
  PS_ASSIGN(std::string text, ReadFile(path, 64ull << 20));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("accepted") || !j["accepted"].is_array()) {
    return problems::InvalidInput(path +
                                  " is not a ProdSprint baseline (an object with an \"accepted\" "
                                  "list; write one with `prodsprint check --write-baseline`)");
  }
  std::set<std::string> out;
  for (const auto& e : j["accepted"]) {
    if (e.is_object() && e.contains("fingerprint") && e["fingerprint"].is_string()) {
      out.insert(e["fingerprint"].get<std::string>());
    } else if (e.is_string()) {
      out.insert(e.get<std::string>());
    } else {
      return problems::InvalidInput(path + ": each accepted entry needs a \"fingerprint\"");
    }
  }
  return out;
}

Result<SecurityReport> RunSecurityGate(const SecurityGateOptions& o) {
  SecurityReport r;
  r.options = o;
  const auto started = std::chrono::steady_clock::now();
  r.timestamp = FormatTime(SystemClock::Instance().Now());
  r.timestamp = r.timestamp.substr(0, 19) + "Z";  // SBOMs want seconds
  std::error_code ec;
  r.project = fs::absolute(o.path, ec).lexically_normal().filename().string();
  if (r.project.empty())
    r.project = fs::absolute(o.path, ec).lexically_normal().parent_path().filename().string();
  PS_ASSIGN(auto view, audit::OpenView(o.path, o.ref));
  r.target = view->Describe();
  r.revision = view->Commit();

  std::vector<audit::FileEntry> entries;
  audit::WalkOptions wo;
  wo.stopping = o.stopping;
  wo.need_sizes = false;  // learnt by reading: one system call less per file
  PS_ASSIGN(const audit::WalkStats walked, view->Walk(wo, [&](const audit::FileEntry& f) {
    if (!f.symlink) entries.push_back(f);
  }));
  auto unscanned = [&r](std::string path, std::string why) {
    ++r.unscanned_count;
    r.truncated = true;
    if (r.unscanned.size() < 100) r.unscanned.push_back({{"path", path}, {"why", why}});
  };
  for (const auto& [path, why] : walked.unreadable_paths) unscanned(path, why);
  r.unscanned_count += walked.unreadable - walked.unreadable_paths.size();
  if (walked.unreadable > 0) r.truncated = true;
  if (walked.truncated && walked.unreadable == 0) {
    unscanned(".", "the walk stopped at its limit of " + std::to_string(wo.max_files) +
                       " files: the rest of the tree was not read");
  }

  // One read of each file; scanners run per thread (vectorscan scratch).
  struct Slot {
    std::vector<SecretFinding> secrets;
    std::vector<IacFinding> iac;
    std::vector<std::string> iac_warnings;
    std::string dependency_content;
    bool dependency = false, license = false, scanned = false, unreadable = false;
    std::string license_id;
    std::uint64_t bytes = 0;
    std::string skipped;
  };
  std::vector<Slot> slots(entries.size());
  std::vector<SecretFinding> history_findings;
  const unsigned threads = view->ConcurrentReads() ? IoThreads(8) : 1;
  // The rules: ours, and a gitleaks configuration's (imported with its
  // allowlists); the policy's allowlist.
  std::vector<security::SecretRule> rules = security::BuiltinSecretRules();
  std::vector<security::SecretAllowlist> allowlists;
  {
    std::string gl = o.gitleaks_config;
    if (gl.empty() && o.ref.empty() &&
        fs::is_regular_file(fs::path(o.path) / ".gitleaks.toml", ec)) {
      gl = (fs::path(o.path) / ".gitleaks.toml").string();
    }
    if (!gl.empty()) {
      PS_ASSIGN(std::string text, ReadFile(gl, 1 << 20));
      PS_ASSIGN(auto imported, security::ImportGitleaksConfig(text, gl));
      for (auto& w : imported.warnings) r.warnings.push_back({gl, std::move(w)});
      r.gitleaks = {{"config", gl},
                    {"rules", imported.rules.size()},
                    {"allowlists", imported.allowlists.size()}};
      for (auto& x : imported.rules) rules.push_back(std::move(x));
      for (auto& a : imported.allowlists) allowlists.push_back(std::move(a));
    }
    const auto& p = o.policy;
    if (!p.security_allow_paths.empty() || !p.security_allow_regexes.empty() ||
        !p.security_allow_stopwords.empty()) {
      security::SecretAllowlist a;
      a.description = "policy.security.allowlist";
      a.paths = p.security_allow_paths;
      a.regexes = p.security_allow_regexes;
      a.stopwords = p.security_allow_stopwords;
      allowlists.push_back(std::move(a));
    }
  }
  // A pool of scanners (each holds vectorscan scratch space): a file takes
  // one and gives it back.
  std::vector<std::unique_ptr<security::SecretScanner>> pool;
  std::mutex pool_mu;
  {
    PS_ASSIGN(auto first, security::SecretScanner::Create(rules, allowlists));
    r.secret_rules = first->rules();
    for (unsigned t = 1; t < threads; ++t) {
      PS_ASSIGN(auto scanner, first->Clone());
      pool.push_back(std::move(scanner));
    }
    pool.push_back(std::move(first));
  }
  // Files go in batches of consecutive ones: read one after another into
  // one buffer, each followed by '\n', their secrets scanned in one call
  // (ScanBatch: vectorscan's cost per call is that of 8 KB of text). A batch
  // is scanned early once it holds 256 KiB (measured: 3% of the one-core
  // gate; larger batches gain nothing, the text falls out of the caches).
  constexpr std::size_t kBatchFiles = 32, kBatchBytes = 256 << 10;
  const std::size_t batches = (entries.size() + kBatchFiles - 1) / kBatchFiles;
  ParallelFor(
      0, batches, threads,
      [&](std::size_t batch_index) {
        if (o.stopping && o.stopping()) return;
        std::unique_ptr<security::SecretScanner> mine;
        {
          std::lock_guard<std::mutex> lock(pool_mu);
          mine = std::move(pool.back());
          pool.pop_back();
        }
        struct Return {
          std::unique_ptr<security::SecretScanner>& s;
          std::vector<std::unique_ptr<security::SecretScanner>>& pool;
          std::mutex& mu;
          ~Return() {
            std::lock_guard<std::mutex> lock(mu);
            pool.push_back(std::move(s));
          }
        } give_back{mine, pool, pool_mu};
        thread_local std::string buf;
        std::vector<security::SecretScanner::BatchFile> batch;
        std::vector<std::size_t> slot_of;  // the entry of each batch file
        std::size_t used = 0;
        auto scan = [&] {
          auto found = mine->ScanBatch(std::string_view(buf.data(), used), batch);
          for (std::size_t k = 0; k < batch.size(); ++k)
            slots[slot_of[k]].secrets = std::move(found[k]);
          batch.clear();
          slot_of.clear();
          used = 0;
        };
        const std::size_t first = batch_index * kBatchFiles;
        const std::size_t last = std::min(entries.size(), first + kBatchFiles);
        for (std::size_t i = first; i < last; ++i) {
          const auto& f = entries[i];
          Slot& s = slots[i];
          if (f.size_known && f.size > kMaxScanBytes) {
            s.skipped = "larger than 10 MiB";
            continue;
          }
          if (used >= kBatchBytes) scan();
          auto got = view->ReadInto(f.path, kMaxScanBytes + 1, buf, used);
          if (!got.ok()) {
            s.skipped = got.problem().Message();
            // Gone since the walk: nothing to scan. Anything else: unscanned.
            s.unreadable = !got.problem().Is("not-found");
            continue;
          }
          if (*got > kMaxScanBytes) {
            s.skipped = "larger than 10 MiB";
            continue;
          }
          const std::string_view content(buf.data() + used, *got);
          const std::string_view head(content.data(), std::min<std::size_t>(content.size(), 8192));
          if (head.find('\0') != std::string_view::npos) continue;  // binary
          s.scanned = true;
          s.bytes = content.size();
          if (security::IsDependencyFile(f.path)) {
            s.dependency = true;
            s.dependency_content = std::string(content);
          }
          s.iac = security::CheckIacFile(f.path, content, &s.iac_warnings);
          if (IsLicenseFile(f.path)) {
            s.license = true;
            s.license_id = security::IdentifyLicenseText(content);
          }
          batch.push_back({&f.path, used, content.size()});
          slot_of.push_back(i);
          used += content.size();
          if (buf.size() <= used) buf.resize(used + 1);
          buf[used++] = '\n';
        }
        if (!batch.empty()) scan();
      },
      1);
  if (o.stopping && o.stopping()) return problems::Cancelled("the security gate was interrupted");

  if (o.history) {
    HistoryOptions ho;
    ho.path = o.path;
    ho.cache_path = o.history_cache;
    ho.stopping = o.stopping;
    PS_ASSIGN(auto h, ScanHistory(ho, *pool.front()));
    r.history = {{"commits", h.commits},
                 {"new_commits", h.new_commits},
                 {"blobs_scanned", h.blobs_scanned},
                 {"bytes_scanned", h.bytes_scanned},
                 {"blobs_skipped", h.blobs_skipped},
                 {"unreadable", h.unreadable},
                 {"findings", h.findings.size()},
                 {"seconds", h.seconds},
                 {"cache", h.cache}};
    for (const auto& [where, why] : h.unreadable_list) unscanned("history: " + where, why);
    r.unscanned_count += h.unreadable - h.unreadable_list.size();
    // Commits an allowlist names are not reported.
    for (auto& f : h.findings) {
      const bool allowed = std::any_of(allowlists.begin(), allowlists.end(), [&](const auto& a) {
        return (a.rules.empty() || std::count(a.rules.begin(), a.rules.end(), f.rule_id)) &&
               std::any_of(a.commits.begin(), a.commits.end(), [&](const std::string& c) {
                 return !c.empty() && f.commit.rfind(c, 0) == 0;
               });
      });
      if (!allowed) history_findings.push_back(std::move(f));
    }
  }

  std::map<std::string, std::string> dep_files;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    Slot& s = slots[i];
    if (s.unreadable) {
      unscanned(entries[i].path, s.skipped);
    } else if (!s.skipped.empty()) {
      r.skipped.push_back({{"file", entries[i].path}, {"reason", s.skipped}});
    }
    if (!s.scanned) continue;
    ++r.files;
    r.bytes += s.bytes;
    for (auto& x : s.secrets) r.secrets.push_back(std::move(x));
    for (auto& x : s.iac) r.iac.push_back(std::move(x));
    for (auto& w : s.iac_warnings) r.warnings.push_back({entries[i].path, std::move(w)});
    if (s.dependency) dep_files[entries[i].path] = std::move(s.dependency_content);
    if (s.license && r.project_license.empty()) r.project_license = s.license_id;
  }

  for (auto& f : history_findings) r.secrets.push_back(std::move(f));

  // Dependencies, advisories, licenses.
  r.deps = security::ReadDependencies(dep_files);
  for (const auto& w : r.deps.warnings) r.warnings.push_back(w);
  if (r.project_license.empty()) {
    if (auto it = dep_files.find("package.json"); it != dep_files.end()) {
      Json pj = Json::parse(it->second, nullptr, false);
      if (pj.is_object() && pj.contains("license") && pj["license"].is_string()) {
        r.project_license = pj["license"].get<std::string>();
      }
    }
  }
  r.dependency_files = std::move(dep_files);
  const std::string db_path = o.advisory_db.empty() ? DefaultAdvisoryDbPath() : o.advisory_db;
  if (!fs::exists(db_path, ec)) {
    r.vulns_note = "no advisory database at " + db_path +
                   " (load one with `prodsprint db import PATH` or `prodsprint db update`)";
  } else {
    PS_ASSIGN(auto db, security::AdvisoryDb::Open(db_path, false));
    PS_ASSIGN(r.vulns, db->Match(r.deps));
    PS_ASSIGN(Json status, db->Status());
    r.vulns_checked = true;
    r.vulns_note = std::to_string(status["advisories"].get<long long>()) + " advisories in " +
                   db_path +
                   (status["newest_modified"].get<std::string>().empty()
                        ? std::string()
                        : ", newest modified " + status["newest_modified"].get<std::string>());
  }
  security::LicensePolicy lp{o.policy.security_licenses_allow, o.policy.security_licenses_deny};
  r.licenses = security::CheckLicenses(r.deps, lp);

  // Acceptance (baseline, policy.security.ignore), then the decision.
  std::set<std::string> ignore(o.policy.security_ignore.begin(), o.policy.security_ignore.end());
  auto accepted = [&](const std::string& kind, const std::vector<std::string>& ids) -> bool {
    for (const auto& id : ids) {
      if (o.baseline.count(id)) {
        r.accepted.push_back({kind, ids.front(), "baseline"});
        return true;
      }
      if (ignore.count(id)) {
        r.accepted.push_back({kind, ids.front(), "policy.security.ignore"});
        return true;
      }
    }
    return false;
  };
  const int threshold = security::SeverityRank(o.policy.security_max_severity);
  const bool dev_blocks = o.policy.security_dev_dependencies == "block";
  std::vector<SecretFinding> secrets;
  for (auto& s : r.secrets) {
    if (!accepted("secret", {s.fingerprint, s.rule_id})) secrets.push_back(std::move(s));
  }
  r.secrets = std::move(secrets);
  std::vector<VulnFinding> vulns;
  for (auto& v : r.vulns) {
    std::vector<std::string> ids = {VulnFingerprint(v), v.advisory_id};
    ids.insert(ids.end(), v.aliases.begin(), v.aliases.end());
    if (!accepted("vulnerability", ids)) vulns.push_back(std::move(v));
  }
  r.vulns = std::move(vulns);
  std::vector<LicenseFinding> lics;
  for (auto& l : r.licenses) {
    if (!accepted("license", {"license@" + l.purl, l.purl})) lics.push_back(std::move(l));
  }
  r.licenses = std::move(lics);
  std::vector<IacFinding> iac;
  for (auto& f : r.iac) {
    if (!accepted("iac", {f.Fingerprint(), f.rule_id})) iac.push_back(std::move(f));
  }
  r.iac = std::move(iac);

  // Provider formats block (policy.security.secrets); generic matches,
  // unverified, only when policy.security.unverified_secrets says so.
  std::size_t secret_block = 0, secret_possible = 0;
  for (const auto& s : r.secrets) {
    if (s.confidence == "possible") {
      ++secret_possible;
      if (o.policy.security_unverified_secrets == "block") ++secret_block;
    } else if (o.policy.security_secrets == "block") {
      ++secret_block;
    }
  }
  if (secret_block) {
    r.blockers.push_back(std::to_string(secret_block) + " secret(s) in the repository");
  }
  if (secret_possible && o.policy.security_unverified_secrets != "block") {
    r.notes.push_back(std::to_string(secret_possible) +
                      " possible secret(s) (generic matches, unverified; "
                      "policy.security.unverified_secrets: block makes them block)");
  }
  std::size_t vuln_block = 0, lic_block = 0, iac_block = 0;
  for (const auto& v : r.vulns) {
    if (GateRank(v.severity) >= threshold && (!v.dev || dev_blocks)) ++vuln_block;
  }
  if (vuln_block) {
    r.blockers.push_back(std::to_string(vuln_block) + " vulnerable dependenc" +
                         (vuln_block == 1 ? "y" : "ies") + " at or above " +
                         o.policy.security_max_severity + " severity");
  }
  for (const auto& l : r.licenses) {
    if (!l.dev || dev_blocks) ++lic_block;
  }
  if (lic_block)
    r.blockers.push_back(std::to_string(lic_block) + " dependenc" + (lic_block == 1 ? "y" : "ies") +
                         " with a license the policy refuses");
  for (const auto& f : r.iac) {
    if (security::SeverityRank(f.severity) >= threshold) ++iac_block;
  }
  if (iac_block) {
    r.blockers.push_back(std::to_string(iac_block) + " container/IaC finding(s) at or above " +
                         o.policy.security_max_severity + " severity");
  }
  // Fail closed: what could not be read may hold anything.
  if (r.unscanned_count > 0) {
    const std::string what = std::to_string(r.unscanned_count) +
                             " file(s), folder(s) or git object(s) could not be read and were not "
                             "scanned (first: " +
                             r.unscanned[0]["path"].get<std::string>() + ": " +
                             r.unscanned[0]["why"].get<std::string>() + ")";
    if (o.policy.security_unscanned == "warn") {
      r.notes.push_back(what + "; policy.security.unscanned: warn");
    } else {
      r.blockers.push_back(what);
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return r;
}

Json SecurityReport::ToJson() const {
  Json secrets_j = Json::array(), vulns_j = Json::array(), lic_j = Json::array(),
       iac_j = Json::array();
  for (const auto& s : secrets) secrets_j.push_back(s.ToJson());
  for (const auto& v : vulns) vulns_j.push_back(v.ToJson());
  for (const auto& l : licenses) lic_j.push_back(l.ToJson());
  for (const auto& f : iac) iac_j.push_back(f.ToJson());
  Json comps = Json::array();
  std::size_t direct = 0;
  for (const auto& c : deps.components) {
    comps.push_back(c.ToJson());
    direct += c.direct ? 1 : 0;
  }
  Json warn = Json::array();
  for (const auto& w : warnings) warn.push_back({{"file", w.file}, {"message", w.message}});
  Json acc = Json::array();
  for (const auto& a : accepted) acc.push_back({{"kind", a.kind}, {"id", a.id}, {"why", a.why}});
  return {
      {"gate", "security"},
      {"target", target},
      {"passed", passed()},
      {"blockers", blockers},
      {"notes", notes},
      {"policy",
       {{"max_severity", options.policy.security_max_severity},
        {"secrets", options.policy.security_secrets},
        {"unverified_secrets", options.policy.security_unverified_secrets},
        {"unscanned", options.policy.security_unscanned},
        {"dev_dependencies", options.policy.security_dev_dependencies},
        {"licenses",
         {{"allow", options.policy.security_licenses_allow},
          {"deny", options.policy.security_licenses_deny}}}}},
      {"scanned",
       {{"files", files}, {"bytes", bytes}, {"seconds", seconds}, {"truncated", truncated}}},
      {"unscanned", {{"count", unscanned_count}, {"list", unscanned}}},
      {"secrets", secrets_j},
      {"history", history},
      {"gitleaks", gitleaks},
      {"dependencies",
       {{"files", deps.files},
        {"components", deps.components.size()},
        {"direct", direct},
        {"list", comps}}},
      {"vulnerabilities",
       {{"checked", vulns_checked}, {"database", vulns_note}, {"list", vulns_j}}},
      {"licenses",
       {{"project", project_license.empty() ? Json() : Json(project_license)}, {"list", lic_j}}},
      {"iac", iac_j},
      {"accepted", acc},
      {"warnings", warn},
      {"skipped", skipped}};
}

namespace {

// The first line of `text` holding `needle`, 1-based; 1 when absent.
int LineOf(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  if (at == std::string::npos) return 1;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

Json Location(const std::string& file, int line, int column = 0) {
  Json region = {{"startLine", std::max(line, 1)}};
  if (column > 0) region["startColumn"] = column;
  return Json::array({{{"physicalLocation",
                        {{"artifactLocation", {{"uri", file}, {"uriBaseId", "%SRCROOT%"}}},
                         {"region", region}}}}});
}

}  // namespace

Json SecurityReport::Sarif() const {
  Json rules = Json::array(), results = Json::array();
  std::map<std::string, int> index;
  auto rule = [&](const std::string& id, const std::string& name, const std::string& help,
                  const std::string& severity, const std::vector<std::string>& tags,
                  const std::string& score = "") {
    if (index.count(id)) return index[id];
    index[id] = static_cast<int>(rules.size());
    rules.push_back({{"id", id},
                     {"name", name},
                     {"shortDescription", {{"text", name}}},
                     {"help", {{"text", help}}},
                     {"defaultConfiguration", {{"level", Level(severity)}}},
                     {"properties",
                      {{"tags", tags},
                       {"security-severity", score.empty() ? SecurityScore(severity) : score}}}});
    return index[id];
  };
  for (const auto& r : secret_rules)
    rule(r.id, r.title, r.remediation, r.severity, {"security", "secret"});
  for (const auto& s : secrets) {
    results.push_back({{"ruleId", s.rule_id},
                       {"ruleIndex", index[s.rule_id]},
                       {"level", Level(s.severity)},
                       {"message", {{"text", s.title + " (" + s.redacted + ")"}}},
                       {"locations", Location(s.file, s.line, s.column)},
                       {"partialFingerprints", {{"secretFingerprint/v1", s.fingerprint}}},
                       {"properties",
                        {{"confidence", s.confidence},
                         {"severity", s.severity},
                         {"commit", s.commit.empty() ? Json() : Json(s.commit)}}}});
  }
  for (const auto& v : vulns) {
    char score[16] = "";
    if (v.score) std::snprintf(score, sizeof score, "%.1f", *v.score);
    const std::string help = v.summary +
                             (v.fixed.empty() ? " No fixed version is published."
                                              : " Upgrade to " + v.fixed + " or later.") +
                             " " + v.url;
    const int idx = rule(v.advisory_id, v.summary.empty() ? v.advisory_id : v.summary, help,
                         v.severity, {"security", "vulnerability", "dependency"}, score);
    const std::string file = v.sources.empty() ? "" : v.sources.front();
    const auto it = dependency_files.find(file);
    const int line = it == dependency_files.end() ? 1 : LineOf(it->second, v.name);
    results.push_back(
        {{"ruleId", v.advisory_id},
         {"ruleIndex", idx},
         {"level", Level(v.severity)},
         {"message",
          {{"text", v.name + " " + v.version + " is affected by " + v.advisory_id +
                        (v.fixed.empty() ? "" : "; fixed in " + v.fixed)}}},
         {"locations", Location(file, line)},
         {"partialFingerprints", {{"vulnerability/v1", VulnFingerprint(v)}}},
         {"properties", {{"purl", v.purl}, {"direct", v.direct}, {"severity", v.severity}}}});
  }
  for (const auto& l : licenses) {
    const std::string id = l.verdict == "denied" ? "license-denied" : "license-not-allowed";
    const int idx = rule(
        id, l.verdict == "denied" ? "License on the deny list" : "License not on the allow list",
        "Replace the dependency or change policy.security.licenses after a legal review.", "high",
        {"license", "dependency"});
    const std::string file = l.sources.empty() ? "" : l.sources.front();
    const auto it = dependency_files.find(file);
    results.push_back(
        {{"ruleId", id},
         {"ruleIndex", idx},
         {"level", "error"},
         {"message", {{"text", l.name + " " + l.version + " is licensed " + l.license}}},
         {"locations",
          Location(file, it == dependency_files.end() ? 1 : LineOf(it->second, l.name))},
         {"partialFingerprints", {{"license/v1", "license@" + l.purl}}}});
  }
  for (const auto& f : iac) {
    const int idx = rule(f.rule_id, f.title, f.remediation, f.severity, {"security", "iac"});
    results.push_back(
        {{"ruleId", f.rule_id},
         {"ruleIndex", idx},
         {"level", Level(f.severity)},
         {"message", {{"text", f.message + (f.resource.empty() ? "" : " (" + f.resource + ")")}}},
         {"locations", Location(f.file, f.line)},
         {"partialFingerprints", {{"iac/v1", f.Fingerprint()}}}});
  }
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs",
           {{{"tool",
              {{"driver",
                {{"name", "ProdSprint"},
                 {"version", PS_VERSION},
                 {"informationUri", "https://prodsprint.dev/docs/security"},
                 {"rules", rules}}}}},
             {"results", results}}}}};
}

Json SecurityReport::CycloneDx() const {
  return security::CycloneDxBom(deps,
                                {project, revision.substr(0, 12), project_license, timestamp});
}

Json SecurityReport::Spdx() const {
  return security::SpdxDocument(deps,
                                {project, revision.substr(0, 12), project_license, timestamp});
}

Json SecurityReport::Baseline() const {
  Json list = Json::array();
  for (const auto& s : secrets) {
    list.push_back(
        {{"kind", "secret"}, {"fingerprint", s.fingerprint}, {"note", s.rule_id + " " + s.file}});
  }
  for (const auto& v : vulns) {
    list.push_back(
        {{"kind", "vulnerability"}, {"fingerprint", VulnFingerprint(v)}, {"note", v.summary}});
  }
  for (const auto& l : licenses) {
    list.push_back(
        {{"kind", "license"}, {"fingerprint", "license@" + l.purl}, {"note", l.license}});
  }
  for (const auto& f : iac) {
    list.push_back({{"kind", "iac"},
                    {"fingerprint", f.Fingerprint()},
                    {"note", f.rule_id + " " + f.file + ": " + f.message}});
  }
  // Entries this run accepted stay accepted.
  for (const auto& id : options.baseline) list.push_back({{"kind", "kept"}, {"fingerprint", id}});
  return {{"version", 1}, {"tool", "prodsprint"}, {"created", timestamp}, {"accepted", list}};
}

}  // namespace ps::stages::readiness
