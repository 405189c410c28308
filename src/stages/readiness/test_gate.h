// The test gate: each service's detected test command run where the version
// was prepared (its release folder, dependencies installed), against backing
// servers of its own, with a timeout, its output kept; results read from the
// runner's reports (quality/: JUnit XML, Jest/RSpec JSON, go test -json, TRX,
// libtest, minitest, unittest, ExUnit) and coverage (lcov, Cobertura,
// JaCoCo, Go), then decided by the policy (policy.tests: required,
// max_failures, coverage_min).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/json.h"
#include "core/problem.h"
#include "quality/coverage.h"
#include "quality/test_report.h"

namespace ps::stages::readiness {

struct TestTarget {
  std::string service;
  std::string framework;  // as the audit found it ("jest", "pytest", ...; may be empty)
  std::string command;    // the audit's test command
  std::string cwd;        // absolute: the service's folder
  std::map<std::string, std::string> env;  // may hold "${secret:NAME}" references
  std::string secrets_file = {};           // what they resolve from
};

struct TestGateOptions {
  std::vector<TestTarget> targets;
  std::string report_dir;              // absolute; a folder per service is made inside
  Millis timeout_ms = 15 * 60 * 1000;  // per service
  PolicyConfig policy;
  std::string skipped_reason;  // when there are no targets: why
  // No targets because the version has no service to release (nothing runs
  // locally): nothing for the gate to hold back, whatever tests.required says.
  bool nothing_to_release = false;
  std::function<bool()> stopping;
  std::function<void(const std::string&)> progress;
};

struct ServiceTests {
  std::string service, runner, cwd, log;
  std::string test_command;  // as the audit found it
  std::string command;       // as run: with the runner's reporter flags
  std::string exit;          // "exit 0", "exit 1", "killed by SIGKILL"; "timeout"; "not started"
  bool exit_ok = false;
  double seconds = 0;
  std::optional<quality::TestReport> report;
  std::optional<quality::Coverage> coverage;
  std::vector<std::string> notes;  // reports that could not be read, coverage not available
  std::string log_tail;
  Json ToJson() const;
};

struct TestGateResult {
  std::vector<ServiceTests> services;
  std::vector<std::string> blockers;
  std::string skipped_reason;
  bool passed() const { return blockers.empty(); }
  quality::TestReport Totals() const;
  std::optional<quality::Coverage> MergedCoverage() const;
  Json ToJson() const;
  // The results as one JUnit XML document (a <testsuite> per service), for CI.
  std::string JUnitXml() const;
};

Result<TestGateResult> RunTestGate(const TestGateOptions& options);

// Files matching `pattern` ('*' within one path part; relative patterns from
// `base`), newest last; at most 1000.
std::vector<std::string> GlobFiles(const std::string& base, const std::string& pattern);

}  // namespace ps::stages::readiness
