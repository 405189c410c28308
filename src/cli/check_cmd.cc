#include "cli/check_cmd.h"

#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <iostream>
#include <map>

#include "cli/output.h"
#include "core/config.h"
#include "core/fs.h"
#include "core/process.h"
#include "security/osv.h"
#include "stages/readiness/security_gate.h"

namespace ps::cli {
namespace {

namespace fs = std::filesystem;
using stages::readiness::SecurityReport;

std::string Colored(const Term& t, const std::string& severity) {
  if (severity == "critical" || severity == "high") return t.Red(severity);
  if (severity == "medium" || severity == "unknown") return t.Yellow(severity);
  return severity;
}

std::string Bytes(std::uint64_t b) {
  char buf[32];
  if (b >= (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / (1 << 20));
  } else if (b >= 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(b));
  }
  return buf;
}

void PrintHuman(const SecurityReport& r, const CheckArgs& a) {
  const Term t = Term::Detect();
  std::cout << t.Bold("Security gate") << " on " << r.target << ": " << r.files << " files, "
            << Bytes(r.bytes) << " in " << HumanDuration(static_cast<Millis>(r.seconds * 1000))
            << "\n";

  std::cout << "\n" << t.Bold("Secrets") << "  ";
  if (r.secrets.empty()) {
    std::cout << t.Green("none found") << "\n";
  } else {
    std::cout << r.secrets.size() << " found"
              << (r.options.policy.security_secrets == "warn"
                      ? t.Yellow(" - reported only") + " (policy.security.secrets: warn)"
                      : std::string())
              << "\n";
    std::vector<std::vector<std::string>> rows = {
        {t.Dim("SEVERITY"), t.Dim("RULE"), t.Dim("WHERE"), t.Dim("VALUE"), t.Dim("CONFIDENCE")}};
    for (const auto& f : r.secrets) {
      rows.push_back({Colored(t, f.severity), f.rule_id,
                      (f.commit.empty() ? "" : f.commit.substr(0, 10) + ":") + f.file + ":" +
                          std::to_string(f.line) + ":" + std::to_string(f.column),
                      f.redacted, f.confidence});
    }
    std::cout << Table(rows);
  }

  if (!r.history.is_null()) {
    const auto& h = r.history;
    std::cout << t.Dim("History: " + std::to_string(h["commits"].get<std::size_t>()) +
                       " commits (" + std::to_string(h["new_commits"].get<std::size_t>()) +
                       " new), " + std::to_string(h["blobs_scanned"].get<std::size_t>()) +
                       " new blobs read in " +
                       HumanDuration(static_cast<Millis>(h["seconds"].get<double>() * 1000)) +
                       "; the rest remembered from earlier scans")
              << "\n";
  }

  std::size_t direct = 0;
  for (const auto& c : r.deps.components) direct += c.direct ? 1 : 0;
  std::cout << "\n"
            << t.Bold("Dependencies") << "  " << r.deps.components.size() << " components ("
            << direct << " direct)";
  if (!r.deps.files.empty()) {
    std::cout << " from ";
    for (std::size_t i = 0; i < r.deps.files.size() && i < 6; ++i)
      std::cout << (i ? ", " : "") << r.deps.files[i];
    if (r.deps.files.size() > 6) std::cout << " and " << r.deps.files.size() - 6 << " more";
  }
  std::cout << "\n";

  std::cout << "\n" << t.Bold("Vulnerabilities") << "  ";
  if (!r.vulns_checked) {
    std::cout << t.Yellow("not checked") << ": " << r.vulns_note << "\n";
  } else if (r.vulns.empty()) {
    std::cout << t.Green("none known") << t.Dim(" (" + r.vulns_note + ")") << "\n";
  } else {
    std::cout << r.vulns.size() << " found" << t.Dim(" (" + r.vulns_note + ")") << "\n";
    std::vector<std::vector<std::string>> rows = {
        {t.Dim("SEVERITY"), t.Dim("ADVISORY"), t.Dim("PACKAGE"), t.Dim("VERSION"),
         t.Dim("FIXED IN"), t.Dim("DEPENDENCY"), t.Dim("SUMMARY")}};
    for (const auto& v : r.vulns) {
      std::string summary = v.summary.size() > 60 ? v.summary.substr(0, 57) + "..." : v.summary;
      rows.push_back({Colored(t, v.severity), v.advisory_id, v.name, v.version,
                      v.fixed.empty() ? t.Dim("no fix") : v.fixed,
                      std::string(v.direct ? "direct" : "transitive") + (v.dev ? ", dev" : ""),
                      summary});
    }
    std::cout << Table(rows);
  }

  std::cout << "\n"
            << t.Bold("Licenses") << "  project "
            << (r.project_license.empty() ? t.Dim("unknown") : r.project_license);
  if (r.options.policy.security_licenses_allow.empty() &&
      r.options.policy.security_licenses_deny.empty()) {
    std::cout << t.Dim("; no policy (policy.security.licenses.allow / deny)") << "\n";
  } else if (r.licenses.empty()) {
    std::cout << "; " << t.Green("every known license passes the policy") << "\n";
  } else {
    std::cout << "; " << r.licenses.size() << " refused\n";
    std::vector<std::vector<std::string>> rows = {
        {t.Dim("VERDICT"), t.Dim("PACKAGE"), t.Dim("VERSION"), t.Dim("LICENSE")}};
    for (const auto& l : r.licenses)
      rows.push_back({t.Red(l.verdict), l.name, l.version, l.license});
    std::cout << Table(rows);
  }

  std::cout << "\n" << t.Bold("Containers and IaC") << "  ";
  if (r.iac.empty()) {
    std::cout << t.Green("no findings") << "\n";
  } else {
    std::cout << r.iac.size() << " finding(s)\n";
    std::vector<std::vector<std::string>> rows = {
        {t.Dim("SEVERITY"), t.Dim("RULE"), t.Dim("WHERE"), t.Dim("FINDING")}};
    for (const auto& f : r.iac) {
      rows.push_back({Colored(t, f.severity), f.rule_id,
                      f.file + (f.line ? ":" + std::to_string(f.line) : ""),
                      f.message + (f.resource.empty() ? "" : " (" + f.resource + ")")});
    }
    std::cout << Table(rows);
  }

  if (!r.accepted.empty()) {
    std::map<std::string, int> why;
    for (const auto& x : r.accepted) ++why[x.why];
    std::cout << "\n" << t.Dim("Accepted, not counted:");
    for (const auto& [w, n] : why) std::cout << t.Dim(" " + std::to_string(n) + " by " + w);
    std::cout << "\n";
  }
  if (!r.warnings.empty()) {
    std::cout << "\n" << t.Yellow("Warnings") << "\n";
    for (const auto& w : r.warnings) std::cout << "  " << w.file << ": " << w.message << "\n";
  }
  std::cout << "\n";
  if (r.passed()) {
    std::cout << t.Green("PASSED") << ": nothing the policy blocks (policy.security.max_severity: "
              << r.options.policy.security_max_severity << ")\n";
  } else {
    std::cout << t.Red("FAILED") << ":\n";
    for (const auto& b : r.blockers) std::cout << "  - " << b << "\n";
    std::cout
        << "Mark a false positive with a 'prodsprint:ignore' comment on its line, accept a "
           "finding\n"
           "in policy.security.ignore, or record today's findings with --write-baseline FILE.\n";
  }
  if (!a.sarif.empty()) std::cout << "SARIF 2.1.0 written to " << a.sarif << "\n";
  if (!a.sbom.empty()) std::cout << "SBOM written to " << a.sbom << "\n";
  if (!a.write_baseline.empty()) std::cout << "Baseline written to " << a.write_baseline << "\n";
}

std::string SbomFormat(const CheckArgs& a) {
  if (!a.sbom_format.empty()) return a.sbom_format;
  if (a.sbom.find("spdx") != std::string::npos) return "spdx";
  return "cyclonedx";
}

}  // namespace

Result<int> CmdCheck(const CheckArgs& a, const std::function<bool()>& stopping) {
  if (a.gate != "security") {
    return Problem::Make("not-implemented", "Not in this build", 501,
                         "the '" + a.gate +
                             "' gate arrives with its issue; this build checks "
                             "--gate security");
  }
  std::error_code ec;
  if (!fs::is_directory(a.path, ec)) {
    return problems::InvalidInput("'" + a.path + "' is not a folder (give the repository's path)");
  }
  if (!a.sbom_format.empty() && a.sbom_format != "cyclonedx" && a.sbom_format != "spdx") {
    return problems::InvalidInput("--sbom-format is cyclonedx or spdx, not '" + a.sbom_format +
                                  "'");
  }
  Config config;
  if (fs::exists(fs::path(a.path) / "prodsprint.yaml", ec)) {
    PS_ASSIGN(config, LoadConfig((fs::path(a.path) / "prodsprint.yaml").string()));
  }
  stages::readiness::SecurityGateOptions o;
  o.path = a.path;
  o.ref = a.ref;
  o.advisory_db = a.advisory_db;
  o.policy = config.policy;
  o.stopping = stopping;
  o.history = a.history;
  o.gitleaks_config = a.gitleaks_config;
  if (!a.baseline.empty()) {
    PS_ASSIGN(o.baseline, stages::readiness::LoadBaseline(a.baseline));
  }
  PS_ASSIGN(auto report, stages::readiness::RunSecurityGate(o));

  if (!a.sarif.empty()) PS_TRY(WriteFileAtomic(a.sarif, Dump(report.Sarif(), 2) + "\n"));
  if (!a.sbom.empty()) {
    const Json bom = SbomFormat(a) == "spdx" ? report.Spdx() : report.CycloneDx();
    PS_TRY(WriteFileAtomic(a.sbom, Dump(bom, 2) + "\n"));
  }
  if (!a.write_baseline.empty())
    PS_TRY(WriteFileAtomic(a.write_baseline, Dump(report.Baseline(), 2) + "\n"));
  if (a.json) {
    std::cout << Dump(report.ToJson(), 2) << std::endl;
  } else {
    PrintHuman(report, a);
  }
  return report.passed() ? kExitOk : kExitFailed;
}

// --- prodsprint db -------------------------------------------------------------

namespace {

std::string Trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

std::string DbPath(const DbArgs& a) {
  return a.db.empty() ? stages::readiness::DefaultAdvisoryDbPath() : a.db;
}

void PrintImport(const security::ImportReport& rep, const std::string& what,
                 const std::string& db) {
  const Term t = Term::Detect();
  std::cout << what << ": " << rep.files << " document(s), "
            << t.Green(std::to_string(rep.added) + " added") << ", " << rep.updated << " updated, "
            << rep.unchanged << " unchanged, " << rep.withdrawn << " withdrawn\n";
  for (const auto& [file, why] : rep.skipped)
    std::cout << "  " << t.Yellow("skipped") << " " << file << ": " << why << "\n";
  std::cout << t.Dim("database: " + db) << "\n";
}

}  // namespace

Result<int> CmdDbImport(const DbArgs& a, const std::function<bool()>& stopping) {
  const std::string path = DbPath(a);
  PS_ASSIGN(auto db, security::AdvisoryDb::Open(path, true));
  Json reports = Json::array();
  for (const auto& p : a.paths) {
    PS_ASSIGN(auto rep, db->Import(p, stopping));
    if (a.json) {
      Json j = rep.ToJson();
      j["path"] = p;
      reports.push_back(j);
    } else {
      PrintImport(rep, p, path);
    }
  }
  db->SetMeta("last_import", FormatTime(SystemClock::Instance().Now()));
  if (a.json) std::cout << Dump({{"database", path}, {"imports", reports}}, 2) << std::endl;
  return kExitOk;
}

Result<int> CmdDbUpdate(const DbArgs& a, const std::function<bool()>& stopping) {
  static const std::vector<std::string> kDefault = {
      "npm", "PyPI", "Go", "crates.io", "RubyGems", "Packagist", "Maven", "NuGet", "Hex"};
  const std::vector<std::string>& ecosystems = a.ecosystems.empty() ? kDefault : a.ecosystems;
  const std::string base =
      a.url.empty() ? "https://osv-vulnerabilities.storage.googleapis.com" : a.url;
  const std::string path = DbPath(a);
  PS_ASSIGN(auto db, security::AdvisoryDb::Open(path, true));
  const fs::path tmp = fs::temp_directory_path() / ("prodsprint-osv-" + std::to_string(::getpid()));
  PS_TRY(EnsureDir(tmp));
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{tmp};
  Json reports = Json::array();
  int failed = 0;
  for (const auto& eco : ecosystems) {
    if (stopping && stopping()) return problems::Cancelled("interrupted");
    // OSV publishes one zip per ecosystem: <base>/<ecosystem>/all.zip.
    std::string url = base + "/" + eco + "/all.zip";
    for (std::size_t i = 0; (i = url.find(' ', i)) != std::string::npos;) url.replace(i, 1, "%20");
    const fs::path zip = tmp / (std::to_string(reports.size()) + ".zip");
    const fs::path log = tmp / "curl.log";
    SpawnOptions so;
    so.argv = {"curl",       "--fail",     "--silent",   "--show-error",
               "--location", "--max-time", "600",        "--connect-timeout",
               "15",         "--output",   zip.string(), url};
    so.log_path = log.string();
    auto st = RunToCompletion(so, 660'000, stopping);
    if (!st.ok() || st->code != 0) {
      ++failed;
      const std::string why =
          !st.ok() ? st.problem().Message() : Trimmed(LogTail(log.string(), 400));
      if (a.json) {
        reports.push_back({{"ecosystem", eco}, {"url", url}, {"error", why}});
      } else {
        std::cout << Term::Detect().Red("failed") << " " << eco << " (" << url << "): " << why
                  << "\n";
      }
      continue;
    }
    PS_ASSIGN(auto rep, db->Import(zip.string(), stopping));
    if (a.json) {
      Json j = rep.ToJson();
      j["ecosystem"] = eco;
      j["url"] = url;
      reports.push_back(j);
    } else {
      PrintImport(rep, eco, path);
    }
  }
  if (failed < static_cast<int>(ecosystems.size())) {
    db->SetMeta("last_update", FormatTime(SystemClock::Instance().Now()));
    db->SetMeta("update_source", base);
  }
  if (a.json)
    std::cout << Dump({{"database", path}, {"updates", reports}, {"failed", failed}}, 2)
              << std::endl;
  if (failed == static_cast<int>(ecosystems.size())) {
    Problem p = Problem::Make("advisories-unreachable", "Advisory exports unreachable", 503,
                              "no export could be fetched from " + base +
                                  " (no network here?). Load exports fetched elsewhere with "
                                  "`prodsprint db import FILE.zip`.");
    return p;
  }
  return failed ? kExitFailed : kExitOk;
}

Result<int> CmdDbStatus(const DbArgs& a) {
  const std::string path = DbPath(a);
  PS_ASSIGN(auto db, security::AdvisoryDb::Open(path, false));
  PS_ASSIGN(Json status, db->Status());
  status["database"] = path;
  if (a.json) {
    std::cout << Dump(status, 2) << std::endl;
    return kExitOk;
  }
  const Term t = Term::Detect();
  std::cout << t.Bold("Advisory database") << " " << path << "\n"
            << status["advisories"].get<long long>() << " advisories, newest modified "
            << (status["newest_modified"].get<std::string>().empty()
                    ? "-"
                    : status["newest_modified"].get<std::string>())
            << "\n";
  std::vector<std::vector<std::string>> rows = {{t.Dim("ECOSYSTEM"), t.Dim("ADVISORIES")}};
  for (const auto& [eco, n] : status["ecosystems"].items())
    rows.push_back({eco, std::to_string(n.get<long long>())});
  std::cout << Table(rows);
  for (const auto& [k, v] : status["meta"].items())
    std::cout << t.Dim(k + ": " + v.get<std::string>()) << "\n";
  return kExitOk;
}

}  // namespace ps::cli
