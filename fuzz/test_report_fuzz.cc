// Test reports are written by the repository's own test runs: untrusted.
// Any bytes, read as each report kind and as each runner's output: counts
// stay consistent, kept strings stay bounded, nothing crashes or hangs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "quality/test_report.h"

namespace {

void Check(const ps::Result<ps::quality::TestReport>& r) {
  if (!r.ok()) return;
  const auto& t = *r;
  if (t.passed + t.failed + t.errors + t.skipped != t.tests) __builtin_trap();
  if (t.failures.size() > ps::quality::TestReport::kMaxFailures) __builtin_trap();
  for (const auto& f : t.failures) {
    if (f.message.size() > 1100 || f.name.size() > 1100) __builtin_trap();
  }
  (void)ps::Dump(t.ToJson());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Check(ps::quality::ParseTestReport(text));
  Check(ps::quality::ParseJUnitXml(text));
  Check(ps::quality::ParseTrx(text));
  for (const char* runner : {"go test", "cargo test", "minitest", "unittest", "ExUnit"}) {
    Check(ps::quality::ParseRunnerOutput(runner, text));
  }
  return 0;
}
