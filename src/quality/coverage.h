// Coverage reports read into one shape: lcov tracefiles (c8, nyc, node
// --test, gcov/lcov, cargo-llvm-cov), Cobertura XML (coverage.py, Istanbul,
// gcovr), JaCoCo XML (Maven, Gradle) and Go cover profiles. Untrusted input:
// a malformed report is a Problem, never a crash.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/problem.h"

namespace ps::quality {

struct FileCoverage {
  long lines = 0, lines_covered = 0;        // Go: statements
  long branches = 0, branches_covered = 0;  // when the format has them
};

struct Coverage {
  std::string format;                         // "lcov", "cobertura", "jacoco", "go"
  std::string unit = "lines";                 // "statements" for Go profiles
  std::map<std::string, FileCoverage> files;  // by path as the report names it

  FileCoverage Total() const;
  // Covered / valid lines in percent; 100 when there is nothing to cover.
  double LinePercent() const;
  double BranchPercent() const;  // -1 when the report has no branches
  // Adds another report's files (a file in both keeps the better figures:
  // reports of the same code from two runners overlap, they do not add up).
  void Merge(const Coverage& other);
  // Drops the files `drop` says to (tests themselves, vendored code).
  template <typename Pred>
  void DropFiles(Pred drop) {
    for (auto it = files.begin(); it != files.end();) it = drop(it->first) ? files.erase(it) : ++it;
  }
  Json ToJson(std::size_t max_files = 200) const;
};

Result<Coverage> ParseLcov(std::string_view text);
Result<Coverage> ParseCobertura(std::string_view xml);
Result<Coverage> ParseJacoco(std::string_view xml);
Result<Coverage> ParseGoCoverProfile(std::string_view text);
// Chooses the reader from the content.
Result<Coverage> ParseCoverage(std::string_view content);

// Whether a path is a test file or test folder by the usual conventions
// (*.test.js, *_test.go, test_*.py, spec/, __tests__/...): not counted.
bool IsTestPath(std::string_view path);

}  // namespace ps::quality
