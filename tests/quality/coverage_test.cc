#include "quality/coverage.h"

#include <gtest/gtest.h>

#include "quality/runners.h"

namespace ps::quality {
namespace {

TEST(Lcov, NodeTestTracefile) {
  // The shape `node --test --experimental-test-coverage --test-reporter=lcov` writes.
  const std::string text = R"X(TN:
SF:server.js
FN:7,handler
FNDA:3,handler
FNF:1
FNH:1
BRDA:1,0,0,1
BRDA:22,1,0,0
BRDA:22,1,0,0
BRF:2
BRH:1
DA:1,1
DA:2,1
DA:3,0
DA:3,2
DA:4,0
LH:3
LF:4
end_of_record
SF:server.test.js
DA:1,1
LF:1
LH:1
end_of_record
SF:lib/only_totals.js
LF:10
LH:7
end_of_record
)X";
  auto c = ParseCoverage(text);
  ASSERT_TRUE(c.ok()) << c.problem().Message();
  EXPECT_EQ(c->format, "lcov");
  ASSERT_EQ(c->files.size(), 3u);
  EXPECT_EQ(c->files["server.js"].lines, 4);
  EXPECT_EQ(c->files["server.js"].lines_covered, 3);  // line 3 ran in one of its two entries
  EXPECT_EQ(c->files["server.js"].branches, 2);
  EXPECT_EQ(c->files["server.js"].branches_covered, 1);
  EXPECT_EQ(c->files["lib/only_totals.js"].lines_covered, 7);
  c->DropFiles(IsTestPath);
  EXPECT_EQ(c->files.size(), 2u);
  EXPECT_NEAR(c->LinePercent(), 100.0 * 10 / 14, 1e-9);
  EXPECT_NEAR(c->BranchPercent(), 50.0, 1e-9);
  EXPECT_EQ(c->ToJson()["least_covered"][0]["path"], "lib/only_totals.js");
}

TEST(Cobertura, CoveragePy) {
  const std::string xml = R"X(<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage version="7.4" line-rate="0.75" branch-rate="0.5" lines-covered="3" lines-valid="4">
 <packages><package name="app"><classes>
  <class name="main.py" filename="app/main.py" line-rate="0.75">
   <methods><method name="f"><lines><line number="1" hits="1"/></lines></method></methods>
   <lines>
    <line number="1" hits="1"/>
    <line number="2" hits="4" branch="true" condition-coverage="50% (1/2)"/>
    <line number="3" hits="0"/>
    <line number="5" hits="1"/>
   </lines>
  </class>
 </classes></package></packages>
</coverage>)X";
  auto c = ParseCoverage(xml);
  ASSERT_TRUE(c.ok()) << c.problem().Message();
  EXPECT_EQ(c->format, "cobertura");
  EXPECT_EQ(c->files["app/main.py"].lines, 4);
  EXPECT_EQ(c->files["app/main.py"].lines_covered, 3);
  EXPECT_EQ(c->files["app/main.py"].branches, 2);
  EXPECT_NEAR(c->LinePercent(), 75.0, 1e-9);
  // Only the root's totals.
  auto t = ParseCobertura(R"X(<coverage lines-valid="200" lines-covered="150"/>)X");
  ASSERT_TRUE(t.ok());
  EXPECT_NEAR(t->LinePercent(), 75.0, 1e-9);
  // Neither lines-covered nor line-rate (found by coverage_fuzz): nothing covered, not less.
  auto none = ParseCobertura(R"X(<coverage lines-valid="200" li:nes-covered="296"/>)X");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->Total().lines_covered, 0);
}

TEST(Jacoco, MavenReport) {
  const std::string xml = R"X(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">
<report name="api">
 <sessioninfo id="x" start="1" dump="2"/>
 <package name="com/acme/api">
  <class name="com/acme/api/App" sourcefilename="App.java">
   <counter type="LINE" missed="100" covered="100"/>
  </class>
  <sourcefile name="App.java">
   <line nr="5" mi="0" ci="3" mb="0" cb="0"/>
   <counter type="INSTRUCTION" missed="4" covered="20"/>
   <counter type="BRANCH" missed="1" covered="3"/>
   <counter type="LINE" missed="2" covered="8"/>
  </sourcefile>
  <counter type="LINE" missed="2" covered="8"/>
 </package>
 <counter type="LINE" missed="2" covered="8"/>
</report>)X";
  auto c = ParseCoverage(xml);
  ASSERT_TRUE(c.ok()) << c.problem().Message();
  EXPECT_EQ(c->format, "jacoco");
  ASSERT_EQ(c->files.size(), 1u);
  EXPECT_EQ(c->files["com/acme/api/App.java"].lines, 10);
  EXPECT_NEAR(c->LinePercent(), 80.0, 1e-9);
  EXPECT_NEAR(c->BranchPercent(), 75.0, 1e-9);
}

TEST(GoCover, ProfileCountsStatementsOncePerBlock) {
  const std::string text = R"X(mode: set
example.com/api/main.go:10.2,12.16 2 1
example.com/api/main.go:12.16,14.3 1 0
example.com/api/main.go:12.16,14.3 1 1
example.com/api/util.go:3.1,5.2 4 0
mode: set
example.com/api/util.go:3.1,5.2 4 0
)X";
  auto c = ParseCoverage(text);
  ASSERT_TRUE(c.ok()) << c.problem().Message();
  EXPECT_EQ(c->unit, "statements");
  EXPECT_EQ(c->files["example.com/api/main.go"].lines, 3);
  EXPECT_EQ(c->files["example.com/api/main.go"].lines_covered, 3);
  EXPECT_EQ(c->files["example.com/api/util.go"].lines, 4);
  EXPECT_NEAR(c->LinePercent(), 300.0 / 7, 1e-9);
}

TEST(Coverage, MergeKeepsTheBetterFigureForAFileInBoth) {
  Coverage a, b;
  a.format = "lcov";
  a.files["x.js"] = {10, 4};
  b.format = "cobertura";
  b.files["x.js"] = {10, 6};
  b.files["y.js"] = {5, 5};
  a.Merge(b);
  EXPECT_EQ(a.files["x.js"].lines_covered, 6);
  EXPECT_EQ(a.Total().lines, 15);
  EXPECT_EQ(a.format, "lcov+cobertura");
  EXPECT_DOUBLE_EQ(Coverage().LinePercent(), 100.0);
}

TEST(Coverage, RejectsOtherFiles) {
  EXPECT_FALSE(ParseCoverage("").ok());
  EXPECT_FALSE(ParseCoverage("hello").ok());
  EXPECT_FALSE(ParseCoverage("<html/>").ok());
  EXPECT_FALSE(ParseLcov("DA:1,1\n").ok());
}

TEST(Coverage, TestPaths) {
  for (const char* p : {"server.test.js", "src/a.spec.ts", "pkg/x_test.go", "tests/test_api.py",
                        "test_api.py", "spec/models/user_spec.rb", "src/__tests__/a.js",
                        "src/test/java/com/acme/AppTest.java", "api/ItemsTests.cs"}) {
    EXPECT_TRUE(IsTestPath(p)) << p;
  }
  for (const char* p : {"server.js", "src/contest.js", "app/testing.py", "lib/attest.rb",
                        "src/main/java/com/acme/App.java", "latest.go"}) {
    EXPECT_FALSE(IsTestPath(p)) << p;
  }
}

TEST(Runners, FlagsPerRunner) {
  const auto none = [](const std::string&) { return false; };
  auto node = PlanTestInvocation("node:test", "npm test", "/r", none);
  EXPECT_EQ(node.runner, "node:test");
  EXPECT_NE(node.command.find("npm test -- --test-reporter=spec"), std::string::npos);
  EXPECT_NE(node.command.find("--test-reporter-destination='/r/junit.xml'"), std::string::npos);
  EXPECT_EQ(node.coverage, std::vector<std::string>{"/r/lcov.info"});

  auto jest = PlanTestInvocation("jest", "yarn test", "/r", none);
  EXPECT_EQ(jest.command.rfind("yarn test --ci --json --outputFile='/r/jest.json'", 0), 0u)
      << jest.command;

  auto py = PlanTestInvocation("pytest", "pytest", "/r", none);
  EXPECT_NE(py.command.find("--junitxml='/r/junit.xml'"), std::string::npos);
  EXPECT_TRUE(py.coverage.empty());
  EXPECT_NE(py.note.find("pytest-cov"), std::string::npos);
  auto pycov = PlanTestInvocation("pytest", "pytest", "/r", [](const std::string& p) {
    return p == "python-module:pytest_cov";
  });
  EXPECT_NE(pycov.command.find("--cov-report=xml:'/r/coverage.xml'"), std::string::npos);

  auto go = PlanTestInvocation("go test", "go test ./...", "/r", none);
  EXPECT_EQ(go.command, "go test -json -coverprofile='/r/cover.out' ./...");
  EXPECT_TRUE(go.output_is_report);

  auto mvn = PlanTestInvocation("junit", "mvn test", "/r", none);
  EXPECT_EQ(mvn.runner, "maven");
  EXPECT_EQ(mvn.reports, std::vector<std::string>{"target/surefire-reports/TEST-*.xml"});

  auto rs = PlanTestInvocation("rspec", "bundle exec rspec", "/r", none);
  EXPECT_NE(rs.command.find("--format json --out '/r/rspec.json'"), std::string::npos);

  auto cargo = PlanTestInvocation("cargo test", "cargo test", "/r", none);
  EXPECT_TRUE(cargo.output_is_report);
  EXPECT_EQ(cargo.command, "cargo test");

  // A report folder with a quote in it stays one argument.
  auto q = PlanTestInvocation("pytest", "pytest", "/tmp/it's", none);
  EXPECT_NE(q.command.find("--junitxml='/tmp/it'\\''s/junit.xml'"), std::string::npos);

  auto unknown = PlanTestInvocation("", "make check", "/r", none);
  EXPECT_EQ(unknown.runner, "");
  EXPECT_EQ(unknown.command, "make check");
}

}  // namespace
}  // namespace ps::quality
