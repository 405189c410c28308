// How to run a service's detected test command so that it leaves reports
// ProdSprint can read: each runner's own reporter flags (JUnit XML, JSON,
// TRX; lcov / Cobertura / JaCoCo / Go coverage), where its reports land, and
// when the output itself is the report. Pure: no process is started here.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ps::quality {

struct TestInvocation {
  std::string runner;   // "node:test", "jest", "pytest", "go test", ... ("" when unknown)
  std::string command;  // the command to run (/bin/sh -c), flags added
  // Files with results or coverage, relative to the service's folder or
  // absolute (inside the report folder); '*' matches within one path part.
  std::vector<std::string> reports;
  std::vector<std::string> coverage;
  bool output_is_report = false;  // go test -json, cargo test, minitest: read the output
  std::string note;               // what could not be added, and why
};

// `framework` and `command` as the audit found them; `report_dir` an
// absolute folder for this run's reports; `has(pattern)` says whether a
// file or folder exists relative to the service's folder ('*' within one
// part), or for "python-module:NAME" whether the service's Python imports
// NAME: coverage flags are added only where the coverage plugin is there.
TestInvocation PlanTestInvocation(std::string_view framework, std::string_view command,
                                  const std::string& report_dir,
                                  const std::function<bool(const std::string&)>& has);

}  // namespace ps::quality
