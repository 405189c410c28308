// A latency histogram with log-linear buckets, as HdrHistogram lays them out:
// exact below 128 us, then 64 buckets per power of two (under 1.6% relative
// error), up to an hour. Fixed size (16 KiB), O(1) to record, mergeable, and
// storable as JSON (the performance gate's baseline).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/json.h"
#include "core/problem.h"

namespace ps::load {

class Histogram {
 public:
  static constexpr int kSubBits = 7;                     // 128 exact values, then 64 per octave
  static constexpr std::int64_t kMaxUs = 3'600'000'000;  // an hour; larger values are clamped
  static constexpr std::size_t kBuckets = 26 * 64 + 128;

  void Record(std::int64_t us);
  void Merge(const Histogram& other);
  std::uint64_t count() const { return count_; }
  // The q-quantile (0 < q <= 1) in milliseconds: the value at rank
  // ceil(q * count), reported as its bucket's midpoint (the exact maximum for
  // q = 1). 0 when empty.
  double QuantileMs(double q) const;
  // The value at a 1-based rank (clamped to 1..count), in milliseconds.
  double RankMs(std::uint64_t rank) const;
  double MaxMs() const { return static_cast<double>(max_us_) / 1000.0; }
  double MinMs() const { return count_ ? static_cast<double>(min_us_) / 1000.0 : 0; }
  double MeanMs() const { return count_ ? sum_us_ / static_cast<double>(count_) / 1000.0 : 0; }
  // How many recorded values are above `ms` (by bucket: a bucket counts when
  // its lowest value is above).
  std::uint64_t CountAboveMs(double ms) const;
  // Sparse: {"unit":"us","count":..,"max_us":..,"buckets":[[index,count],...]}.
  Json ToJson() const;
  // Untrusted (a stored baseline): bounded, never throws.
  static Result<Histogram> FromJson(const Json& j);

  // Bucket arithmetic, exposed for tests.
  static std::size_t IndexOf(std::int64_t us);
  static std::int64_t LowestOf(std::size_t index);
  static std::int64_t HighestOf(std::size_t index);

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::int64_t min_us_ = 0, max_us_ = 0;
  double sum_us_ = 0;
};

// A latency for people: "0.42 ms", "12 ms", "1.20 s".
std::string FormatMs(double ms);

}  // namespace ps::load
