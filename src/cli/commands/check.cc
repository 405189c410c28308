// `prodsprint check`: the readiness gates. --gate security reads the tree
// (or --ref) and keeps nothing; the others run a readiness run on staging.
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <iostream>
#include <map>

#include "cli/command.h"
#include "cli/print.h"
#include "core/config.h"
#include "core/fs.h"
#include "core/process.h"
#include "security/osv.h"
#include "service/gates.h"
#include "service/readiness.h"
#include "stages/readiness/security_gate.h"

namespace ps::cli {
namespace {

using stages::readiness::SecurityReport;

struct CheckArgs {
  std::string path, ref;
  std::string gate = "all";
  std::string sarif;            // write SARIF 2.1.0 here
  std::string sbom;             // write an SBOM here
  std::string sbom_format;      // cyclonedx | spdx ("" = from the file name, else cyclonedx)
  std::string advisory_db;      // "" = the default database
  std::string baseline;         // accept the findings this file lists
  std::string write_baseline;   // write every current finding as accepted
  bool history = false;         // also scan the git history
  std::string gitleaks_config;  // import this gitleaks TOML ("" = the repository's .gitleaks.toml)
  std::string junit;            // --gate tests|performance|all: write the gates as JUnit XML here
  bool rebaseline = false;      // the performance gate takes a new baseline
  bool json = false;
};

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

// `check --gate all|tests|performance`: a readiness run (the gates side by
// side, the checklist) in the repository's staging environment, printed as
// `up` prints it; --junit and --sarif write the gates for CI and scanners.
Result<int> CmdCheckReadiness(const Options& o, const CheckArgs& a) {
  PS_ASSIGN(ProjectSession p, OpenProject(o, a.path, true));
  Session& s = *p.session;
  const Term term = Term::Detect();
  service::ReadinessRequest req;
  req.ref = a.ref;
  req.advisory_db = a.advisory_db;
  req.rebaseline = a.rebaseline;
  auto app = s.App();
  const bool json = a.json;
  auto drive = [&](const std::string& run_id, const std::function<void()>& on_interrupt) {
    if (!json) std::cerr << term.Dim("readiness run " + run_id) << "\n";
    return DriveRun(s, run_id, !json, on_interrupt);
  };
  PS_ASSIGN(service::ReadinessOutcome r,
            service::CheckReadiness(app, s.tenant, Who(), p.project, req, drive));
  const store::Run& run = r.detail.run;
  if (!r.checklist.is_object()) {
    // A gate could not run (the version did not build, a runner is missing):
    // the run failed, as `up` reports it (exit 1), not the user's input.
    auto prob = Problem::FromJson(run.error);
    if (a.json) {
      std::cout << Dump({{"run", run.id}, {"checklist", nullptr}, {"error", run.error}}, 2)
                << std::endl;
    } else {
      if (prob) PrintProblem(*prob, false);
      std::cout << "details: prodsprint run show " << run.id << "\n";
    }
    return kExitFailed;
  }
  if (!a.junit.empty()) PS_TRY(WriteFileAtomic(a.junit, service::GatesJUnit(r.checklist)));
  if (!a.sarif.empty()) {
    PS_TRY(WriteFileAtomic(a.sarif,
                           Dump(service::GatesSarif(r.checklist, r.security_sarif), 2) + "\n"));
  }
  auto or_null = [](const Json& j) { return j.is_object() ? j : Json(nullptr); };
  if (a.json) {
    std::cout << Dump({{"run", run.id},
                       {"checklist", r.checklist},
                       {"security", or_null(r.security)},
                       {"tests", or_null(r.tests)},
                       {"performance", or_null(r.performance)}},
                      2)
              << std::endl;
  } else {
    if (r.security.is_object() && a.gate == "all")
      PrintSecurityGate(term, r.security, run.id, a.path);
    if (r.tests.is_object() && a.gate != "performance") PrintTestGate(term, r.tests, run.id);
    if (r.performance.is_object() && a.gate != "tests") PrintPerfGate(term, r.performance, run.id);
    PrintChecklist(term, r.checklist);
  }
  return r.ready() ? kExitOk : kExitFailed;
}

}  // namespace

void RegisterCheck(Commands& commands) {
  auto a = std::make_shared<CheckArgs>();
  auto* check_cmd = commands.app().add_subcommand(
      "check",
      "Run the readiness gates on a repository and print the checklist: each gate passed,\n"
      "failed (with its blockers) or waived. By default all three gates, in a readiness run in\n"
      "the repository's local staging environment: security; tests (the version prepared as for\n"
      "staging, its test command run, JUnit results and coverage against policy.tests, smoke\n"
      "routes requested from staging); performance (the smoke routes loaded at\n"
      "policy.performance.rate, compared with the baseline). --gate security only reads the tree\n"
      "(or --ref REV) and keeps nothing: secrets, dependencies, known vulnerabilities, licenses,\n"
      "Dockerfile/Kubernetes/Terraform rules (docs/SECURITY.md). Exit 1 when not ready.");
  check_cmd->add_option("PATH", a->path, "The repository's folder")->required();
  check_cmd
      ->add_option("--gate", a->gate,
                   "all (a readiness run: security, tests, performance and the checklist); "
                   "tests or performance (the same run, that gate printed); security (read the "
                   "tree, keep nothing)")
      ->check(CLI::IsMember({"security", "tests", "performance", "all"}))
      ->capture_default_str();
  check_cmd->add_option("--junit", a->junit,
                        "Unless --gate security: also write the gates as JUnit XML (for CI)");
  check_cmd->add_flag("--rebaseline", a->rebaseline,
                      "Unless --gate security: the performance gate takes a new baseline instead "
                      "of comparing with the stored one");
  check_cmd->add_option("--ref", a->ref, "Scan this git revision instead of the tree");
  check_cmd->add_option("--sarif", a->sarif,
                        "Also write the findings (and, unless --gate security, the checklist) as "
                        "SARIF 2.1.0");
  check_cmd->add_option("--sbom", a->sbom,
                        "Also write an SBOM of the dependency graph (CycloneDX 1.5 JSON; SPDX 2.3 "
                        "JSON with --sbom-format spdx or a file name holding 'spdx')");
  check_cmd->add_option("--sbom-format", a->sbom_format, "cyclonedx or spdx");
  check_cmd->add_option("--advisory-db", a->advisory_db,
                        "The advisory database (default: $PRODSPRINT_ADVISORY_DB, else "
                        "~/.cache/prodsprint/advisories.db)");
  check_cmd->add_option("--baseline", a->baseline,
                        "Accept the findings this baseline file lists (they do not block)");
  check_cmd->add_option("--write-baseline", a->write_baseline,
                        "Write every current finding to this file as accepted");
  check_cmd->add_flag(
      "--history", a->history,
      "Also scan the git history for secrets: every blob of every branch and tag "
      "once, with the commit that introduced it; remembered, so the next scan reads "
      "only new commits");
  check_cmd->add_option("--gitleaks-config", a->gitleaks_config,
                        "Import a gitleaks TOML configuration: its rules and allowlists (default: "
                        "the repository's .gitleaks.toml when it has one)");
  check_cmd->add_flag("--json", a->json, "The result as JSON");

  const Options& o = commands.options();
  commands.Add(
      check_cmd,
      [&o, a, check_cmd]() -> Result<int> {
        if (a->gate != "security") {
          // Options of the security gate alone.
          std::string only;
          for (const auto* opt : {"--sbom", "--sbom-format", "--baseline", "--write-baseline",
                                  "--history", "--gitleaks-config"}) {
            if (check_cmd->count(opt) > 0) only += (only.empty() ? "" : ", ") + std::string(opt);
          }
          if (!only.empty()) {
            return problems::InvalidInput(only +
                                          " go with --gate security (the readiness run stores "
                                          "the SBOMs as artifacts)");
          }
          return CmdCheckReadiness(o, *a);
        }
        return CmdCheck(*a, [] { return g_interrupted.load(); });
      },
      std::shared_ptr<const bool>(a, &a->json));
}

}  // namespace ps::cli
