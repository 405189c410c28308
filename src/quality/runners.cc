#include "quality/runners.h"

namespace ps::quality {

namespace {

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// Single quotes for /bin/sh.
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Arguments after a package script: npm and `npm run` need "--"; yarn and
// pnpm pass them on directly.
std::string ScriptArgs(std::string_view command, const std::string& args) {
  const std::string c(command);
  if (c.rfind("npm ", 0) == 0 && !Contains(c, " -- ")) return c + " -- " + args;
  return c + " " + args;
}

}  // namespace

TestInvocation PlanTestInvocation(std::string_view framework, std::string_view command,
                                  const std::string& report_dir,
                                  const std::function<bool(const std::string&)>& has) {
  TestInvocation t;
  t.command = std::string(command);
  const std::string r = report_dir + "/";
  const std::string fw(framework);
  const std::string cmd(command);
  auto is = [&](std::string_view name) { return fw == name || Contains(cmd, name); };

  if (fw == "node:test" || Contains(cmd, "node --test")) {
    t.runner = "node:test";
    t.command = ScriptArgs(cmd,
                           "--test-reporter=spec --test-reporter-destination=stdout "
                           "--test-reporter=junit --test-reporter-destination=" +
                               Quote(r + "junit.xml") +
                               " --experimental-test-coverage --test-reporter=lcov "
                               "--test-reporter-destination=" +
                               Quote(r + "lcov.info"));
    t.reports = {r + "junit.xml"};
    t.coverage = {r + "lcov.info"};
  } else if (is("vitest")) {
    t.runner = "vitest";
    std::string args =
        "--reporter=default --reporter=junit --outputFile.junit=" + Quote(r + "junit.xml");
    if (has("node_modules/@vitest/coverage-v8") || has("node_modules/@vitest/coverage-istanbul")) {
      args += " --coverage.enabled --coverage.reporter=lcov --coverage.reportsDirectory=" +
              Quote(r + "coverage");
      t.coverage = {r + "coverage/lcov.info"};
    } else {
      t.note = "no coverage: @vitest/coverage-v8 is not installed";
    }
    t.command = ScriptArgs(cmd, Contains(cmd, "vitest run") || cmd.rfind("npm", 0) == 0 ||
                                        cmd.rfind("yarn", 0) == 0 || cmd.rfind("pnpm", 0) == 0
                                    ? args
                                    : "run " + args);
    t.reports = {r + "junit.xml"};
  } else if (is("jest")) {
    t.runner = "jest";
    t.command = ScriptArgs(cmd, "--ci --json --outputFile=" + Quote(r + "jest.json") +
                                    " --coverage --coverageReporters=lcov --coverageDirectory=" +
                                    Quote(r + "coverage"));
    t.reports = {r + "jest.json"};
    t.coverage = {r + "coverage/lcov.info"};
  } else if (is("mocha")) {
    t.runner = "mocha";
    t.command =
        ScriptArgs(cmd, "--reporter xunit --reporter-option output=" + Quote(r + "junit.xml"));
    t.reports = {r + "junit.xml"};
    t.coverage = {"coverage/lcov.info"};  // when run under nyc / c8
  } else if (is("pytest")) {
    t.runner = "pytest";
    t.command = cmd + " --junitxml=" + Quote(r + "junit.xml") + " -o junit_family=xunit2";
    if (has("python-module:pytest_cov")) {
      t.command += " --cov=. --cov-report=xml:" + Quote(r + "coverage.xml");
      t.coverage = {r + "coverage.xml"};
    } else {
      t.note = "no coverage: pytest-cov is not installed";
    }
    t.reports = {r + "junit.xml"};
  } else if (fw == "django" || Contains(cmd, "manage.py test") || Contains(cmd, "unittest")) {
    t.runner = "unittest";
    // One line per test: manage.py's verbosity is a number, unittest's a flag.
    t.command = cmd + (Contains(cmd, "manage.py") ? " -v 2" : " -v");
    t.output_is_report = true;
  } else if (fw == "go test" || cmd.rfind("go test", 0) == 0) {
    t.runner = "go test";
    std::string rest = cmd.substr(std::string("go test").size());
    t.command = "go test -json -coverprofile=" + Quote(r + "cover.out") + rest;
    t.output_is_report = true;
    t.coverage = {r + "cover.out"};
  } else if (Contains(cmd, "mvn") || (fw == "junit" && has("pom.xml"))) {
    t.runner = "maven";
    t.command = Contains(cmd, " -B") ? cmd : cmd + " -B";
    t.reports = {"target/surefire-reports/TEST-*.xml"};
    t.coverage = {"target/site/jacoco/jacoco.xml"};
  } else if (Contains(cmd, "gradle")) {
    t.runner = "gradle";
    t.reports = {"build/test-results/test/TEST-*.xml"};
    t.coverage = {"build/reports/jacoco/test/jacocoTestReport.xml"};
  } else if (is("rspec")) {
    t.runner = "rspec";
    t.command = cmd + " --format progress --format json --out " + Quote(r + "rspec.json");
    t.reports = {r + "rspec.json"};
    t.coverage = {"coverage/coverage.xml", "coverage/lcov/*.lcov"};  // simplecov formatters
  } else if (fw == "minitest" || Contains(cmd, "rails test") || Contains(cmd, "rake test")) {
    t.runner = "minitest";
    t.output_is_report = true;
  } else if (is("phpunit") || is("pest")) {
    t.runner = fw == "pest" || Contains(cmd, "pest") ? "pest" : "phpunit";
    t.command = cmd + " --log-junit " + Quote(r + "junit.xml");
    t.reports = {r + "junit.xml"};
  } else if (Contains(cmd, "dotnet test")) {
    t.runner = "dotnet test";
    t.command = cmd + " --logger " + Quote("trx;LogFileName=" + r + "results.trx") +
                " --collect:" + Quote("XPlat Code Coverage") + " --results-directory " +
                Quote(r + "dotnet");
    t.reports = {r + "results.trx"};
    t.coverage = {r + "dotnet/*/coverage.cobertura.xml"};
  } else if (fw == "cargo test" || cmd.rfind("cargo test", 0) == 0) {
    t.runner = "cargo test";
    t.output_is_report = true;
  } else if (fw == "ExUnit" || Contains(cmd, "mix test")) {
    t.runner = "ExUnit";
    t.output_is_report = true;
  } else if (fw == "deno test" || Contains(cmd, "deno test")) {
    t.runner = "deno test";
    t.command = cmd + " --junit-path=" + Quote(r + "junit.xml");
    t.reports = {r + "junit.xml"};
  } else {
    t.note = "unknown test runner: only the exit status is read";
  }
  return t;
}

}  // namespace ps::quality
