#include "cli/check_cmd.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>

#include "cli/output.h"
#include "core/config.h"
#include "core/fs.h"
#include "security/secrets.h"
#include "stages/audit/repo_view.h"

namespace ps::cli {
namespace {

namespace fs = std::filesystem;
constexpr std::uint64_t kMaxScanBytes = 10ull << 20;

std::string Level(const std::string& severity) {
  return severity == "critical" || severity == "high" ? "error" : "warning";
}

std::string SecuritySeverityScore(const std::string& severity) {
  if (severity == "critical") return "9.5";
  if (severity == "high") return "8.0";
  if (severity == "medium") return "5.5";
  return "3.0";
}

// SARIF 2.1.0, the format code-scanning tools read.
Json Sarif(const std::vector<security::SecretFinding>& findings,
           const std::vector<security::SecretRule>& rules) {
  Json driver_rules = Json::array();
  std::map<std::string, int> index;
  for (const auto& r : rules) {
    index[r.id] = static_cast<int>(driver_rules.size());
    driver_rules.push_back(
        {{"id", r.id},
         {"name", r.title},
         {"shortDescription", {{"text", r.title}}},
         {"fullDescription", {{"text", std::string(r.title) + " in the repository"}}},
         {"help", {{"text", r.remediation}}},
         {"defaultConfiguration", {{"level", Level(r.severity)}}},
         {"properties",
          {{"tags", {"security", "secret"}},
           {"security-severity", SecuritySeverityScore(r.severity)}}}});
  }
  Json results = Json::array();
  for (const auto& f : findings) {
    results.push_back({{"ruleId", f.rule_id},
                       {"ruleIndex", index[f.rule_id]},
                       {"level", Level(f.severity)},
                       {"message", {{"text", f.title + " (" + f.redacted + ")"}}},
                       {"locations",
                        {{{"physicalLocation",
                           {{"artifactLocation", {{"uri", f.file}, {"uriBaseId", "%SRCROOT%"}}},
                            {"region", {{"startLine", f.line}, {"startColumn", f.column}}}}}}}},
                       {"partialFingerprints", {{"secretFingerprint/v1", f.fingerprint}}},
                       {"properties", {{"confidence", f.confidence}, {"severity", f.severity}}}});
  }
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs",
           {{{"tool",
              {{"driver",
                {{"name", "ProdSprint"},
                 {"version", PS_VERSION},
                 {"informationUri", "https://prodsprint.dev/docs/security"},
                 {"rules", driver_rules}}}}},
             {"results", results}}}}};
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
  // The policy: secrets block (the default) or warn.
  Config config;
  if (fs::exists(fs::path(a.path) / "prodsprint.yaml", ec)) {
    PS_ASSIGN(config, LoadConfig((fs::path(a.path) / "prodsprint.yaml").string()));
  }
  const auto started = std::chrono::steady_clock::now();
  PS_ASSIGN(auto view, stages::audit::OpenView(a.path, a.ref));
  PS_ASSIGN(auto scanner, security::SecretScanner::Create(security::BuiltinSecretRules()));
  std::vector<security::SecretFinding> findings;
  Json skipped = Json::array();
  std::uint64_t files = 0, bytes = 0;
  stages::audit::WalkOptions wo;
  wo.stopping = stopping;
  std::vector<stages::audit::FileEntry> entries;
  PS_TRY(view->Walk(wo, [&](const stages::audit::FileEntry& f) {
    if (!f.symlink) entries.push_back(f);
  }));
  for (const auto& f : entries) {
    if (stopping && stopping()) break;
    if (f.size > kMaxScanBytes) {
      skipped.push_back({{"file", f.path}, {"reason", "larger than 10 MiB"}});
      continue;
    }
    auto content = view->Read(f.path, f.size);
    if (!content.ok()) {
      skipped.push_back({{"file", f.path}, {"reason", content.problem().Message()}});
      continue;
    }
    const std::string_view head(content->data(), std::min<std::size_t>(content->size(), 8192));
    if (head.find('\0') != std::string_view::npos) continue;  // binary
    ++files;
    bytes += content->size();
    for (auto& x : scanner->Scan(f.path, *content)) findings.push_back(std::move(x));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const bool block = config.policy.security_secrets == "block" && !findings.empty();

  if (!a.sarif.empty()) {
    PS_TRY(WriteFileAtomic(a.sarif, Dump(Sarif(findings, scanner->rules()), 2) + "\n"));
  }
  Json list = Json::array();
  for (const auto& f : findings) list.push_back(f.ToJson());
  if (a.json) {
    std::cout << Dump(
                     {{"gate", "security"},
                      {"target", view->Describe()},
                      {"passed", !block},
                      {"policy", {{"secrets", config.policy.security_secrets}}},
                      {"scanned", {{"files", files}, {"bytes", bytes}, {"seconds", seconds}}},
                      {"secrets", list},
                      {"skipped", skipped},
                      {"not_in_this_build",
                       {"vulnerable dependencies", "SBOM", "licenses", "container and IaC rules"}}},
                     2)
              << std::endl;
  } else {
    const Term t = Term::Detect();
    std::cout << t.Bold("Security gate") << " on " << view->Describe() << ": " << files
              << " files, " << bytes << " bytes in "
              << HumanDuration(static_cast<Millis>(seconds * 1000)) << "\n\n";
    if (findings.empty()) {
      std::cout << t.Green("no secrets found") << "\n";
    } else {
      std::vector<std::vector<std::string>> rows = {{t.Bold("SEVERITY"), t.Bold("RULE"),
                                                     t.Bold("WHERE"), t.Bold("VALUE"),
                                                     t.Bold("CONFIDENCE")}};
      for (const auto& f : findings) {
        rows.push_back({f.severity == "medium" ? t.Yellow(f.severity) : t.Red(f.severity),
                        f.rule_id,
                        f.file + ":" + std::to_string(f.line) + ":" + std::to_string(f.column),
                        f.redacted, f.confidence});
      }
      std::cout << Table(rows);
      std::cout << "\n"
                << findings.size() << " secret(s); "
                << (block ? t.Red("the gate fails") + " (policy.security.secrets: block)"
                          : t.Yellow("reported only") + " (policy.security.secrets: warn)")
                << "\nMark a false positive with a 'prodsprint:ignore' comment on its line.\n";
    }
    if (!a.sarif.empty()) std::cout << "SARIF 2.1.0 written to " << a.sarif << "\n";
    std::cout << t.Dim(
                     "This build's gate scans for secrets; dependencies, SBOM, licenses and "
                     "container/IaC rules come next.")
              << "\n";
  }
  return block ? kExitFailed : kExitOk;
}

}  // namespace ps::cli
