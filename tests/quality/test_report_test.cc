#include "quality/test_report.h"

#include <gtest/gtest.h>

#include <string>

namespace ps::quality {
namespace {

TEST(JUnit, PytestStyleSuites) {
  const std::string xml = R"(<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5" time="0.131">
<testcase classname="tests.test_api" name="test_health" file="tests/test_api.py" line="3" time="0.01"/>
<testcase classname="tests.test_api" name="test_items" time="0.02">
  <failure message="assert 404 == 200">def test_items():
&gt;       assert r.status_code == 200
E       assert 404 == 200</failure></testcase>
<testcase classname="tests.test_api" name="test_db" time="0.0"><error message="fixture 'db' not found"/></testcase>
<testcase classname="tests.test_api" name="test_slow"><skipped type="pytest.skip" message="slow"/></testcase>
<testcase classname="tests.test_api" name="test_flaky"><flakyFailure message="x"/></testcase>
</testsuite></testsuites>)";
  auto r = ParseJUnitXml(xml);
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->tests, 5);
  EXPECT_EQ(r->passed, 2);
  EXPECT_EQ(r->failed, 1);
  EXPECT_EQ(r->errors, 1);
  EXPECT_EQ(r->skipped, 1);
  EXPECT_EQ(r->flaky, 1);
  EXPECT_NEAR(r->time_s, 0.131, 1e-9);
  ASSERT_EQ(r->failures.size(), 2u);
  EXPECT_EQ(r->failures[0].name, "tests.test_api.test_items");
  EXPECT_NE(r->failures[0].message.find("assert 404 == 200"), std::string::npos);
  EXPECT_EQ(r->failures[1].outcome, Outcome::kError);
  EXPECT_EQ(r->failures[1].message, "fixture 'db' not found");
  EXPECT_FALSE(r->ok());
}

TEST(JUnit, NodeTestReporterWritesCasesUnderTheRoot) {
  // What `node --test --test-reporter=junit` (Node 20) writes.
  const std::string xml = R"(<?xml version="1.0" encoding="utf-8"?>
<testsuites>
	<testcase name="greets and answers health checks" time="0.042958" classname="test"/>
	<testcase name="fails" time="0.001" classname="test">
		<failure type="testCodeFailure" message="Expected values to be strictly equal:&#10;&#10;1 !== 2&#10;">
[Error [ERR_TEST_FAILURE]: Expected values to be strictly equal:
		</failure>
	</testcase>
	<!-- tests 2 -->
</testsuites>)";
  auto r = ParseJUnitXml(xml);
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->tests, 2);
  EXPECT_EQ(r->failed, 1);
  EXPECT_EQ(r->failures[0].name, "fails");
  EXPECT_NE(r->failures[0].message.find("1 !== 2"), std::string::npos);
}

TEST(JUnit, SuiteWithCountsButNoCasesAndNestedSuites) {
  const std::string xml = R"(<testsuites>
<testsuite name="outer" tests="2"><testsuite name="inner" tests="2">
<testcase name="a"/><testcase name="b"/></testsuite></testsuite>
<testsuite name="com.acme.SetupIT" tests="3" failures="0" errors="1" skipped="0"/>
</testsuites>)";
  auto r = ParseJUnitXml(xml);
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->tests, 5);
  EXPECT_EQ(r->errors, 1);
  EXPECT_EQ(r->passed, 4);
}

TEST(JUnit, RejectsWhatIsNotAReport) {
  EXPECT_FALSE(ParseJUnitXml("<html/>").ok());
  EXPECT_FALSE(ParseJUnitXml("<testsuite>").ok());
  EXPECT_FALSE(ParseJUnitXml("").ok());
  // Entity expansion is refused, not performed.
  const std::string lol = R"(<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><testsuite><testcase name="&b;"/></testsuite>)";
  auto r = ParseJUnitXml(lol);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.problem().detail.find("entity"), std::string::npos) << r.problem().detail;
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "<testsuite>";
  EXPECT_FALSE(ParseJUnitXml(deep).ok());
}

TEST(Trx, DotnetResults) {
  const std::string xml = R"(<?xml version="1.0" encoding="utf-8"?>
<TestRun id="1" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
  <Results>
    <UnitTestResult testName="Api.Tests.Health" outcome="Passed" duration="00:00:00.0120000"/>
    <UnitTestResult testName="Api.Tests.Items" outcome="Failed" duration="00:00:01.5000000">
      <Output><ErrorInfo><Message>Assert.Equal() Failure
Expected: 200</Message><StackTrace>at Api.Tests</StackTrace></ErrorInfo></Output>
    </UnitTestResult>
    <UnitTestResult testName="Api.Tests.Later" outcome="NotExecuted"/>
  </Results>
  <ResultSummary outcome="Failed"><Counters total="3" passed="1" failed="1"/></ResultSummary>
</TestRun>)";
  auto r = ParseTestReport(xml);
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->format, "trx");
  EXPECT_EQ(r->tests, 3);
  EXPECT_EQ(r->failed, 1);
  EXPECT_EQ(r->skipped, 1);
  EXPECT_NEAR(r->time_s, 1.512, 1e-6);
  EXPECT_EQ(r->failures[0].name, "Api.Tests.Items");
  EXPECT_NE(r->failures[0].message.find("Expected: 200"), std::string::npos);
}

TEST(GoTest, JsonEvents) {
  const std::string text =
      R"({"Action":"run","Package":"example.com/api","Test":"TestHealth"}
{"Action":"pass","Package":"example.com/api","Test":"TestHealth","Elapsed":0}
{"Action":"run","Package":"example.com/api","Test":"TestItems"}
{"Action":"output","Package":"example.com/api","Test":"TestItems","Output":"    api_test.go:20: got 404, want 200\n"}
{"Action":"fail","Package":"example.com/api","Test":"TestItems","Elapsed":0.01}
{"Action":"skip","Package":"example.com/api","Test":"TestLater","Elapsed":0}
{"Action":"fail","Package":"example.com/api","Elapsed":0.02}
# example.com/broken [build failed]
{"Action":"output","Package":"example.com/broken","Output":"broken.go:3:1: syntax error\n"}
{"Action":"fail","Package":"example.com/broken","Elapsed":0}
)";
  auto r = ParseTestReport(text);
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->format, "go-test-json");
  EXPECT_EQ(r->passed, 1);
  EXPECT_EQ(r->failed, 1);
  EXPECT_EQ(r->skipped, 1);
  EXPECT_EQ(r->errors, 1);  // the package that did not build
  EXPECT_NE(r->failures[0].message.find("got 404"), std::string::npos);
  EXPECT_EQ(r->failures[1].name, "example.com/broken");
  EXPECT_NE(r->failures[1].message.find("syntax error"), std::string::npos);
}

TEST(Jest, JsonOutput) {
  const std::string text = R"({"numTotalTests":3,"numPassedTests":1,"numFailedTests":1,
 "testResults":[
  {"name":"/app/src/sum.test.js","status":"failed","startTime":1000,"endTime":1500,
   "assertionResults":[
    {"fullName":"sum adds","status":"passed"},
    {"fullName":"sum carries","status":"failed","location":{"line":7,"column":3},
     "failureMessages":["Error: expect(received).toBe(expected)\n\nExpected: 3\nReceived: 4"]},
    {"fullName":"sum later","status":"todo"}]},
  {"name":"/app/src/broken.test.js","status":"failed","message":"SyntaxError: Unexpected token","assertionResults":[]}]})";
  auto r = ParseTestReport(text);
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->format, "jest-json");
  EXPECT_EQ(r->tests, 4);
  EXPECT_EQ(r->failed, 1);
  EXPECT_EQ(r->errors, 1);
  EXPECT_EQ(r->skipped, 1);
  EXPECT_NEAR(r->time_s, 0.5, 1e-9);
  EXPECT_EQ(r->failures[0].line, 7);
  EXPECT_EQ(r->failures[1].message, "SyntaxError: Unexpected token");
}

TEST(Rspec, JsonOutput) {
  const std::string text = R"({"version":"3.12.0","examples":[
 {"full_description":"Health returns ok","status":"passed","file_path":"./spec/health_spec.rb","line_number":3,"run_time":0.01},
 {"full_description":"Items lists","status":"failed","file_path":"./spec/items_spec.rb","line_number":9,"run_time":0.02,
  "exception":{"class":"RSpec::Expectations::ExpectationNotMetError","message":"expected 200\n     got 404"}},
 {"full_description":"Later","status":"pending"}],
 "summary":{"example_count":3,"failure_count":1,"pending_count":1,"errors_outside_of_examples_count":0}})";
  auto r = ParseTestReport(text);
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->format, "rspec-json");
  EXPECT_EQ(r->tests, 3);
  EXPECT_EQ(r->failed, 1);
  EXPECT_EQ(r->failures[0].file, "./spec/items_spec.rb");
  EXPECT_EQ(r->failures[0].line, 9);
  EXPECT_NE(r->failures[0].message.find("got 404"), std::string::npos);
}

TEST(Cargo, TestOutput) {
  const std::string text = R"(
running 3 tests
test tests::adds ... ok
test tests::carries ... FAILED
test tests::later ... ignored

failures:

---- tests::carries stdout ----
thread 'tests::carries' panicked at src/lib.rs:12:9:
assertion `left == right` failed
  left: 4
 right: 3

failures:
    tests::carries

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s
)";
  auto r = ParseRunnerOutput("cargo test", text);
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->tests, 3);
  EXPECT_EQ(r->failed, 1);
  EXPECT_EQ(r->skipped, 1);
  EXPECT_EQ(r->failures[0].name, "tests::carries");
  EXPECT_NE(r->failures[0].message.find("panicked at src/lib.rs:12:9"), std::string::npos);
  EXPECT_FALSE(ParseCargoTestOutput("running 0 tests\n").ok());
}

TEST(Minitest, Summary) {
  const std::string text = R"(Run options: --seed 4242

# Running:

.F.S

Finished in 0.01s, 400 runs/s.

  1) Failure:
ItemsTest#test_lists [test/items_test.rb:9]:
Expected: 200
  Actual: 404

4 runs, 5 assertions, 1 failures, 0 errors, 1 skips
)";
  auto r = ParseRunnerOutput("minitest", text);
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->tests, 4);
  EXPECT_EQ(r->passed, 2);
  EXPECT_EQ(r->failed, 1);
  EXPECT_EQ(r->skipped, 1);
  EXPECT_EQ(r->failures[0].name, "ItemsTest#test_lists");
  EXPECT_EQ(r->failures[0].file, "test/items_test.rb");
  EXPECT_EQ(r->failures[0].line, 9);
  EXPECT_EQ(r->failures[0].message, "Expected: 200");
}

TEST(Unittest, VerboseOutput) {
  const std::string text = R"(test_health (tests.ApiTest) ... ok
test_items (tests.ApiTest) ... FAIL
test_db (tests.ApiTest) ... ERROR
test_later (tests.ApiTest) ... skipped 'later'

======================================================================
ERROR: test_db (tests.ApiTest)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "tests.py", line 12, in test_db
    connect()
ConnectionRefusedError: [Errno 111] Connection refused

======================================================================
FAIL: test_items (tests.ApiTest)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "tests.py", line 9, in test_items
    self.assertEqual(r.status, 200)
AssertionError: 404 != 200

----------------------------------------------------------------------
Ran 4 tests in 0.012s

FAILED (failures=1, errors=1, skipped=1)
)";
  auto r = ParseRunnerOutput("unittest", text);
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->tests, 4);
  EXPECT_EQ(r->passed, 1);
  EXPECT_EQ(r->failed, 1);
  EXPECT_EQ(r->errors, 1);
  EXPECT_EQ(r->skipped, 1);
  EXPECT_EQ(r->failures[0].message, "ConnectionRefusedError: [Errno 111] Connection refused");
  EXPECT_EQ(r->failures[1].message, "AssertionError: 404 != 200");
  auto ok = ParseUnittestOutput("...\nRan 3 tests in 0.001s\n\nOK\n");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->passed, 3);
}

TEST(ExUnit, Summary) {
  const std::string text = R"(..

  1) test adds (MathTest)
     test/math_test.exs:5
     Assertion with == failed
     code:  assert 1 + 1 == 3

Finished in 0.03 seconds (0.00s async, 0.03s sync)
1 doctest, 3 tests, 1 failure, 1 skipped (2 excluded)
)";
  auto r = ParseRunnerOutput("ExUnit", text);
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->tests, 4);
  EXPECT_EQ(r->failed, 1);
  EXPECT_EQ(r->skipped, 1);
  EXPECT_EQ(r->failures[0].name, "test adds (MathTest)");
  EXPECT_EQ(r->failures[0].file, "test/math_test.exs");
  EXPECT_EQ(r->failures[0].line, 5);
  EXPECT_EQ(r->failures[0].message, "Assertion with == failed");
}

TEST(TestReport, MergeAndBounds) {
  TestReport a;
  a.format = "junit";
  for (int i = 0; i < 300; ++i) a.Add(Outcome::kFailed, {"t" + std::to_string(i)});
  EXPECT_EQ(a.failed, 300);
  EXPECT_EQ(a.failures.size(), TestReport::kMaxFailures);
  TestReport b;
  b.format = "jest-json";
  b.Add(Outcome::kPassed);
  a.Merge(b);
  EXPECT_EQ(a.tests, 301);
  EXPECT_EQ(a.format, "junit+jest-json");
  EXPECT_EQ(Excerpt("\n\nline1\nline2\nline3", 2), "line1\nline2 ...");
  EXPECT_EQ(Excerpt(std::string(2000, 'x')).size(), 1024u + 4);
  // Never cuts a UTF-8 sequence.
  const std::string e = Excerpt(std::string(1023, 'x') + "\xC3\xA9" + "tail");
  EXPECT_EQ(e, std::string(1023, 'x') + " ...");
}

}  // namespace
}  // namespace ps::quality
