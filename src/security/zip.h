// Reading the entries of a zip archive (stored or deflated), as OSV's
// per-ecosystem exports are published. Input from outside: every offset and
// size is checked, entries are capped, nothing is trusted.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/problem.h"

namespace ps::security {

struct ZipLimits {
  std::uint64_t max_entry_bytes = 64ull << 20;  // uncompressed, per entry
  std::uint64_t max_total_bytes = 8ull << 30;   // uncompressed, all entries
  std::uint64_t max_entries = 2'000'000;
};

// Calls `entry(name, content)` for each file entry, in central-directory
// order; `entry` returns false to stop. A Problem (invalid-input) for a
// malformed archive, an unsupported method, an entry over the limits, or a
// CRC mismatch; entries before the fault have been delivered.
Status ReadZip(
    std::string_view archive,
    const std::function<bool(const std::string& name, const std::string& content)>& entry,
    const ZipLimits& limits = {});

}  // namespace ps::security
