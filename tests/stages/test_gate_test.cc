// The test gate with real runners: node:test writes JUnit XML and lcov into
// the report folder; shell commands stand in for runners whose output is
// their report (cargo test) and for commands that crash, hang or lie.
#include "stages/readiness/test_gate.h"

#include "stages/readiness/checklist_stage.h"

#include <gtest/gtest.h>
#include <sys/time.h>

#include <cstdlib>

#include "core/fs.h"
#include "testing/testing.h"

namespace ps::stages::readiness {
namespace {

using ps::testing::TempDir;
using ps::testing::WriteText;

// Debian's runners first (a developer's pyenv or rbenv shims may lack pytest-cov).
std::map<std::string, std::string> Env() {
  const char* path = std::getenv("PATH");
  return {{"PATH", std::string("/usr/bin:/bin") + (path ? ":" + std::string(path) : "")}};
}

// A small Node service: one module, a passing and a failing test.
TestTarget NodeProject(const TempDir& dir, bool failing) {
  WriteText(dir / "app" / "package.json",
            R"({"name":"app","private":true,"scripts":{"test":"node --test"}})");
  WriteText(dir / "app" / "sum.js",
            "exports.sum = (a, b) => a + b;\n"
            "exports.unused = (a) => {\n  if (a) return 1;\n  return 2;\n};\n");
  WriteText(
      dir / "app" / "sum.test.js",
      "const test = require('node:test');\nconst assert = require('node:assert');\n"
      "const { sum } = require('./sum');\n"
      "test('adds', () => assert.strictEqual(sum(1, 2), 3));\n" +
          std::string(failing ? "test('carries', () => assert.strictEqual(sum(1, 1), 3));\n" : ""));
  return {"app", "node:test", "npm test", (dir / "app").string(), Env()};
}

TestGateOptions Options(const TempDir& dir, std::vector<TestTarget> targets) {
  TestGateOptions o;
  o.targets = std::move(targets);
  o.report_dir = (dir / "reports").string();
  o.timeout_ms = 120'000;
  return o;
}

TEST(TestGate, NodeTestResultsAndCoverageDecideTheGate) {
  TempDir dir;
  auto o = Options(dir, {NodeProject(dir, true)});
  auto r = RunTestGate(o);
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  ASSERT_EQ(r->services.size(), 1u);
  const auto& s = r->services[0];
  EXPECT_EQ(s.runner, "node:test");
  EXPECT_FALSE(s.exit_ok);
  ASSERT_TRUE(s.report.has_value()) << s.log_tail;
  EXPECT_EQ(s.report->tests, 2);
  EXPECT_EQ(s.report->failed, 1);
  EXPECT_EQ(s.report->failures[0].name, "carries");
  ASSERT_TRUE(s.coverage.has_value());
  // The test file is not counted; sum.js has lines never run (unused's body).
  EXPECT_EQ(s.coverage->files.count("sum.test.js"), 0u);
  ASSERT_EQ(s.coverage->files.count("sum.js"), 1u);
  EXPECT_LT(s.coverage->LinePercent(), 100.0);
  EXPECT_GT(s.coverage->LinePercent(), 30.0);
  ASSERT_EQ(r->blockers.size(), 1u);
  EXPECT_NE(r->blockers[0].find("1 failing test(s)"), std::string::npos) << r->blockers[0];
  EXPECT_NE(r->blockers[0].find("carries"), std::string::npos);

  // The policy allows one failure; then coverage is what blocks.
  o.policy.tests_max_failures = 1;
  o.policy.tests_coverage_min = 100;
  r = RunTestGate(o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->blockers.size(), 1u) << r->blockers[0];
  EXPECT_NE(r->blockers[0].find("below policy.tests.coverage_min (100%)"), std::string::npos)
      << r->blockers[0];

  // The gate's own JUnit XML reads back with the same counts.
  auto back = quality::ParseJUnitXml(r->JUnitXml());
  ASSERT_TRUE(back.ok()) << back.problem().Message();
  EXPECT_EQ(back->failed, 1);
  EXPECT_EQ(back->failures[0].name, "app.carries");  // classname: the service
}

TEST(TestGate, PassesWhenEveryTestPasses) {
  TempDir dir;
  auto o = Options(dir, {NodeProject(dir, false)});
  o.policy.tests_coverage_min = 30;
  auto r = RunTestGate(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->passed()) << r->blockers[0];
  EXPECT_TRUE(r->services[0].exit_ok);
  const Json j = r->ToJson();
  EXPECT_EQ(j["tests"], 1);
  EXPECT_TRUE(j["coverage"].is_number());
}

// Real runners from Debian's packages (scripts/install-deps installs them):
// each project has one passing and one failing test.
TestGateResult RunOne(const TempDir& dir, TestTarget t) {
  auto r = RunTestGate(Options(dir, {std::move(t)}));
  EXPECT_TRUE(r.ok()) << r.problem().Message();
  return r.ok() ? *r : TestGateResult{};
}

void ExpectOneFailure(const TestGateResult& r, const std::string& runner, const std::string& name) {
  ASSERT_EQ(r.services.size(), 1u);
  const auto& s = r.services[0];
  EXPECT_EQ(s.runner, runner);
  ASSERT_TRUE(s.report.has_value()) << s.log_tail << " notes: " << Json(s.notes).dump();
  EXPECT_EQ(s.report->tests, 2) << s.log_tail;
  EXPECT_EQ(s.report->failed, 1) << s.log_tail;
  ASSERT_FALSE(s.report->failures.empty());
  EXPECT_NE(s.report->failures[0].name.find(name), std::string::npos) << s.report->failures[0].name;
  EXPECT_FALSE(r.passed());
}

const char* kPythonModule =
    "def add(a, b):\n    return a + b\n\n\ndef unused(x):\n    if x:\n        return 1\n"
    "    return 2\n";
const char* kPythonTest =
    "import unittest\nfrom calc import add\n\n\nclass CalcTest(unittest.TestCase):\n"
    "    def test_adds(self):\n        self.assertEqual(add(1, 2), 3)\n\n"
    "    def test_carries(self):\n        self.assertEqual(add(1, 1), 3)\n";

TEST(TestGate, PytestJUnitAndCoberturaCoverage) {
  TempDir dir;
  WriteText(dir / "py" / "calc.py", kPythonModule);
  WriteText(dir / "py" / "test_calc.py", kPythonTest);
  const auto r = RunOne(dir, {"py", "pytest", "pytest", (dir / "py").string(), Env()});
  ExpectOneFailure(r, "pytest", "test_carries");
  const auto& s = r.services[0];
  ASSERT_TRUE(s.coverage.has_value()) << Json(s.notes).dump();
  EXPECT_EQ(s.coverage->format, "cobertura");
  EXPECT_EQ(s.coverage->files.count("test_calc.py"), 0u);  // tests do not count
  ASSERT_EQ(s.coverage->files.count("calc.py"), 1u);
  EXPECT_EQ(s.coverage->files.at("calc.py").lines, 6);
  EXPECT_EQ(s.coverage->files.at("calc.py").lines_covered, 3);
}

TEST(TestGate, UnittestOutput) {
  TempDir dir;
  WriteText(dir / "py" / "calc.py", kPythonModule);
  WriteText(dir / "py" / "test_calc.py", kPythonTest);
  const auto r = RunOne(dir, {"py", "", "python3 -m unittest", (dir / "py").string(), Env()});
  ExpectOneFailure(r, "unittest", "test_carries");
  EXPECT_EQ(r.services[0].report->failures[0].message, "AssertionError: 2 != 3");
}

TEST(TestGate, RspecJson) {
  TempDir dir;
  WriteText(dir / "rb" / "spec" / "calc_spec.rb",
            "def add(a, b) = a + b\nRSpec.describe 'add' do\n"
            "  it('adds') { expect(add(1, 2)).to eq(3) }\n"
            "  it('carries') { expect(add(1, 1)).to eq(3) }\nend\n");
  const auto r = RunOne(dir, {"rb", "rspec", "rspec", (dir / "rb").string(), Env()});
  ExpectOneFailure(r, "rspec", "add carries");
  EXPECT_EQ(r.services[0].report->failures[0].line, 4);
}

TEST(TestGate, MinitestOutput) {
  TempDir dir;
  WriteText(dir / "mt" / "test" / "calc_test.rb",
            "require 'minitest/autorun'\nclass CalcTest < Minitest::Test\n"
            "  def test_adds; assert_equal 3, 1 + 2; end\n"
            "  def test_carries; assert_equal 3, 1 + 1; end\nend\n");
  const auto r = RunOne(
      dir, {"mt", "minitest", "ruby -Itest test/calc_test.rb", (dir / "mt").string(), Env()});
  ExpectOneFailure(r, "minitest", "CalcTest#test_carries");
  EXPECT_EQ(r.services[0].report->failures[0].file, "test/calc_test.rb");
}

TEST(TestGate, OutputIsTheReportForCargo) {
  TempDir dir;
  WriteText(dir / "svc" / "out.txt",
            "running 2 tests\ntest a ... ok\ntest b ... FAILED\n\nfailures:\n\n"
            "---- b stdout ----\nthread 'b' panicked at src/lib.rs:3:5:\nboom\n\n"
            "test result: FAILED. 1 passed; 1 failed; 0 ignored\n");
  TestTarget t{"svc", "cargo test", "cat out.txt; exit 101", (dir / "svc").string(), Env()};
  auto r = RunTestGate(Options(dir, {t}));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->services[0].report.has_value());
  EXPECT_EQ(r->services[0].report->failed, 1);
  EXPECT_EQ(r->services[0].exit, "exit 101");
  EXPECT_NE(r->services[0].report->failures[0].message.find("boom"), std::string::npos);
  EXPECT_FALSE(r->passed());
}

TEST(TestGate, CommandsThatFailHangOrLie) {
  TempDir dir;
  std::filesystem::create_directories(dir / "svc");
  const std::string cwd = (dir / "svc").string();
  // No report and a failing exit: blocked, with the log.
  auto r = RunTestGate(Options(dir, {{"svc", "", "echo broken >&2; exit 3", cwd, Env()}}));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->blockers.size(), 1u);
  EXPECT_NE(r->blockers[0].find("failed (exit 3) and left no report"), std::string::npos)
      << r->blockers[0];
  EXPECT_NE(r->services[0].log_tail.find("broken"), std::string::npos);
  // The JUnit XML of the gate shows the run as one erroring case.
  auto back = quality::ParseJUnitXml(r->JUnitXml());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->errors, 1);

  // Hangs: stopped at the timeout.
  auto o = Options(dir, {{"svc", "", "sleep 30", cwd, Env()}});
  o.timeout_ms = 300;
  r = RunTestGate(o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->blockers.size(), 1u);
  EXPECT_NE(r->blockers[0].find("did not finish"), std::string::npos) << r->blockers[0];
  EXPECT_EQ(r->services[0].exit, "timeout");

  // A report that says all passed, but the command failed: not trusted.
  WriteText(dir / "svc" / "out.txt", "running 1 test\ntest a ... ok\ntest result: ok. 1 passed\n");
  r = RunTestGate(Options(dir, {{"svc", "cargo test", "cat out.txt; exit 1", cwd, Env()}}));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->blockers.size(), 1u);
  EXPECT_NE(r->blockers[0].find("although its report shows no failing test"), std::string::npos);

  // A malformed report: a note, and the exit status decides.
  WriteText(dir / "svc" / "out.txt", "garbage\n");
  r = RunTestGate(Options(dir, {{"svc", "cargo test", "cat out.txt", cwd, Env()}}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->passed());
  EXPECT_FALSE(r->services[0].notes.empty());
}

TEST(TestGate, StaleReportsFromAnEarlierRunAreIgnored) {
  TempDir dir;
  const auto reports = dir / "svc" / "target" / "surefire-reports";
  WriteText(reports / "TEST-Old.xml",
            R"(<testsuite><testcase name="old"><failure message="old"/></testcase></testsuite>)");
  // An hour old.
  struct timeval times[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
  ASSERT_EQ(::utimes((reports / "TEST-Old.xml").c_str(), times), 0);
  const std::string fresh = (reports / "TEST-New.xml").string();
  TestTarget t{"svc", "junit",
               "printf '<testsuite><testcase name=\"new\"/></testsuite>' > " + fresh + "; : mvn",
               (dir / "svc").string(), Env()};
  auto r = RunTestGate(Options(dir, {t}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->services[0].runner, "maven");
  ASSERT_TRUE(r->services[0].report.has_value());
  EXPECT_EQ(r->services[0].report->tests, 1);
  EXPECT_TRUE(r->passed());
}

TEST(TestGate, NoTargetsFollowsThePolicy) {
  TempDir dir;
  auto o = Options(dir, {});
  o.skipped_reason = "no service has a test command";
  auto r = RunTestGate(o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->blockers.size(), 1u);
  EXPECT_NE(r->blockers[0].find("policy.tests.required"), std::string::npos);
  o.policy.tests_required = false;
  r = RunTestGate(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->passed());
  EXPECT_EQ(r->ToJson()["skipped_reason"], "no service has a test command");
}

TEST(GlobFiles, MatchesWithinOnePart) {
  TempDir dir;
  WriteText(dir / "a" / "TEST-x.xml", "");
  WriteText(dir / "a" / "TEST-y.xml", "");
  WriteText(dir / "a" / "other.xml", "");
  WriteText(dir / "b" / "c" / "r.trx", "");
  EXPECT_EQ(GlobFiles(dir.path().string(), "a/TEST-*.xml").size(), 2u);
  EXPECT_EQ(GlobFiles(dir.path().string(), "*/c/*.trx").size(), 1u);
  EXPECT_EQ(GlobFiles(dir.path().string(), (dir / "a" / "*.xml").string()).size(), 3u);
  EXPECT_TRUE(GlobFiles(dir.path().string(), "missing/*.xml").empty());
}

TEST(Checklist, GatesPassFailOrAreWaivedUntilTheWaiverExpires) {
  const Json passed = {{"passed", true}, {"blockers", Json::array()}};
  const Json failed = {{"passed", false}, {"blockers", {"2 failing test(s)"}}};
  Json c = MakeChecklist({{"security", passed}, {"tests", failed}}, Json::array(), 1000);
  EXPECT_EQ(c["ready"], false);
  EXPECT_EQ(c["gates"][1]["status"], "failed");
  EXPECT_EQ(c["blockers"][0], "tests: 2 failing test(s)");
  // A waiver of the tests gate until t=5000, an older one until t=9000 (the newest counts).
  const Json waivers = {{{"gate", "tests"}, {"until", 5000}, {"at", 200}, {"reason", "new"}},
                        {{"gate", "tests"}, {"until", 9000}, {"at", 100}, {"reason", "old"}},
                        {{"gate", "security"}, {"until", 9000}, {"at", 100}}};
  c = MakeChecklist({{"security", passed}, {"tests", failed}}, waivers, 1000);
  EXPECT_EQ(c["ready"], true);
  EXPECT_EQ(c["gates"][0]["status"], "passed");  // a waiver does not change a pass
  EXPECT_EQ(c["gates"][1]["status"], "waived");
  EXPECT_EQ(c["gates"][1]["waiver"]["reason"], "new");
  // After t=5000 only the older waiver is left; after 9000 none.
  c = MakeChecklist({{"tests", failed}}, waivers, 6000);
  EXPECT_EQ(c["gates"][0]["waiver"]["reason"], "old");
  c = MakeChecklist({{"tests", failed}}, waivers, 9000);
  EXPECT_EQ(c["ready"], false);
  // A gate with no result did not run: not ready.
  c = MakeChecklist({{"performance", Json()}}, waivers, 0);
  EXPECT_EQ(c["ready"], false);
  EXPECT_EQ(c["gates"][0]["status"], "not run");
}

}  // namespace
}  // namespace ps::stages::readiness
