// Test results as the test runners write them, read into one shape: JUnit
// XML (and its dialects: pytest, Surefire, Gradle, PHPUnit, vitest, mocha's
// xunit, node:test), `go test -json`, Jest's --json, RSpec's json formatter,
// Visual Studio TRX (dotnet test), and the text summaries of cargo's libtest
// and minitest. All input is untrusted: malformed reports are a Problem,
// never a crash, and every string kept is bounded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/problem.h"

namespace ps::quality {

enum class Outcome { kPassed, kFailed, kError, kSkipped };
std::string_view ToString(Outcome o);

// A test that did not pass.
struct FailedTest {
  std::string name{};  // "suite > name" or "Class.method"
  std::string file{};  // when the report says
  int line = 0;
  Outcome outcome = Outcome::kFailed;
  std::string message{};  // the first lines of the failure, at most ~1 KB
};

struct TestReport {
  std::string format;  // "junit", "go-test-json", "jest-json", "rspec-json", "trx", ...
  long tests = 0, passed = 0, failed = 0, errors = 0, skipped = 0;
  long flaky = 0;  // passed on a rerun after failing (Surefire's flakyFailure)
  double time_s = 0;
  std::vector<FailedTest> failures;  // at most kMaxFailures kept; the counts are exact
  static constexpr std::size_t kMaxFailures = 200;

  void Add(Outcome o, FailedTest failure = {});
  void Merge(const TestReport& other);
  bool ok() const { return failed == 0 && errors == 0; }
  Json ToJson() const;
};

Result<TestReport> ParseJUnitXml(std::string_view xml);
Result<TestReport> ParseTrx(std::string_view xml);
Result<TestReport> ParseGoTestJson(std::string_view text);  // one JSON object per line
Result<TestReport> ParseJestJson(std::string_view text);
Result<TestReport> ParseRspecJson(std::string_view text);
// cargo test's output ("test a::b ... ok", "test result: ..."); minitest's
// "N runs, N assertions, N failures, N errors, N skips". A Problem when the
// text holds no summary.
Result<TestReport> ParseCargoTestOutput(std::string_view text);
Result<TestReport> ParseMinitestOutput(std::string_view text);
// python -m unittest / manage.py test with -v 2 ("Ran N tests", "FAILED (...)").
Result<TestReport> ParseUnittestOutput(std::string_view text);
// mix test ("N tests, N failures[, N skipped]").
Result<TestReport> ParseExUnitOutput(std::string_view text);
// The output of a runner whose output is its report (runners.h): "go test",
// "cargo test", "minitest", "unittest", "ExUnit".
Result<TestReport> ParseRunnerOutput(std::string_view runner, std::string_view text);

// Chooses the reader from the content (XML root element, JSON shape).
Result<TestReport> ParseTestReport(std::string_view content);

// The first `max_lines` lines of `text`, at most `max_bytes`, valid UTF-8.
std::string Excerpt(std::string_view text, int max_lines = 12, std::size_t max_bytes = 1024);

}  // namespace ps::quality
