// Coverage reports come from the repository's test runs: untrusted. Any
// bytes, read as each format: covered never exceeds valid, the percentage
// stays in [0, 100], nothing crashes or hangs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "quality/coverage.h"

namespace {

void Check(const ps::Result<ps::quality::Coverage>& r) {
  if (!r.ok()) return;
  for (const auto& [path, f] : r->files) {
    if (f.lines_covered > f.lines || f.lines_covered < 0) __builtin_trap();
    if (f.branches_covered > f.branches || f.branches_covered < 0) __builtin_trap();
  }
  const double pct = r->LinePercent();
  if (!(pct >= 0 && pct <= 100)) __builtin_trap();
  (void)ps::Dump(r->ToJson());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Check(ps::quality::ParseCoverage(text));
  Check(ps::quality::ParseLcov(text));
  Check(ps::quality::ParseCobertura(text));
  Check(ps::quality::ParseJacoco(text));
  Check(ps::quality::ParseGoCoverProfile(text));
  return 0;
}
