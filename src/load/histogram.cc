#include "load/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>

namespace ps::load {

namespace {
constexpr std::int64_t kSub = std::int64_t{1} << Histogram::kSubBits;  // 128
constexpr std::int64_t kHalf = kSub / 2;                               // 64
}  // namespace

std::size_t Histogram::IndexOf(std::int64_t us) {
  us = std::clamp<std::int64_t>(us, 0, kMaxUs);
  if (us < kSub) return static_cast<std::size_t>(us);
  const int msb = 63 - std::countl_zero(static_cast<std::uint64_t>(us));
  const int shift = msb - (kSubBits - 1);
  return static_cast<std::size_t>(shift * kHalf + (us >> shift));
}

std::int64_t Histogram::LowestOf(std::size_t index) {
  const auto i = static_cast<std::int64_t>(index);
  if (i < kSub) return i;
  const std::int64_t shift = i / kHalf - 1;
  return (i % kHalf + kHalf) << shift;
}

std::int64_t Histogram::HighestOf(std::size_t index) {
  const auto i = static_cast<std::int64_t>(index);
  if (i < kSub) return i;
  const std::int64_t shift = i / kHalf - 1;
  return LowestOf(index) + (std::int64_t{1} << shift) - 1;
}

void Histogram::Record(std::int64_t us) {
  us = std::clamp<std::int64_t>(us, 0, kMaxUs);
  ++counts_[IndexOf(us)];
  if (count_ == 0 || us < min_us_) min_us_ = us;
  if (us > max_us_) max_us_ = us;
  ++count_;
  sum_us_ += static_cast<double>(us);
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  if (count_ == 0 || other.min_us_ < min_us_) min_us_ = other.min_us_;
  max_us_ = std::max(max_us_, other.max_us_);
  count_ += other.count_;
  sum_us_ += other.sum_us_;
}

double Histogram::RankMs(std::uint64_t rank) const {
  if (count_ == 0) return 0;
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  if (rank == count_) return MaxMs();
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The bucket's midpoint, kept within what was actually recorded.
      const std::int64_t mid = (LowestOf(i) + HighestOf(i)) / 2;
      return static_cast<double>(std::clamp(mid, min_us_, max_us_)) / 1000.0;
    }
  }
  return MaxMs();
}

double Histogram::QuantileMs(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  return RankMs(rank);
}

std::uint64_t Histogram::CountAboveMs(double ms) const {
  const double us = ms * 1000.0;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    if (counts_[i] && static_cast<double>(LowestOf(i)) > us) n += counts_[i];
  }
  return n;
}

std::string FormatMs(double ms) {
  char buf[48];
  if (ms < 10) {
    std::snprintf(buf, sizeof buf, "%.2f ms", ms);
  } else if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%.0f ms", ms);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f s", ms / 1000);
  }
  return buf;
}

Json Histogram::ToJson() const {
  Json buckets = Json::array();
  for (std::size_t i = 0; i < kBuckets; ++i) {
    if (counts_[i]) buckets.push_back({i, counts_[i]});
  }
  return {{"unit", "us"},      {"count", count_},   {"min_us", count_ ? min_us_ : 0},
          {"max_us", max_us_}, {"sum_us", sum_us_}, {"buckets", std::move(buckets)}};
}

Result<Histogram> Histogram::FromJson(const Json& j) {
  auto bad = [](const std::string& why) {
    return problems::InvalidInput("not a latency histogram: " + why);
  };
  if (!j.is_object() || j.value("unit", Json()) != "us") return bad("no \"unit\": \"us\"");
  if (!j.contains("buckets") || !j["buckets"].is_array()) return bad("no \"buckets\" list");
  Histogram h;
  for (const auto& b : j["buckets"]) {
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_unsigned() ||
        !b[1].is_number_unsigned()) {
      return bad("a bucket is not [index, count]");
    }
    const auto index = b[0].get<std::uint64_t>();
    const auto n = b[1].get<std::uint64_t>();
    if (index >= kBuckets) return bad("a bucket index is out of range");
    if (n > (std::uint64_t{1} << 40) || h.count_ + n > (std::uint64_t{1} << 40))
      return bad("counts too large");
    h.counts_[index] += n;
    h.count_ += n;
    h.sum_us_ += static_cast<double>(n) *
                 (static_cast<double>(LowestOf(index)) + static_cast<double>(HighestOf(index))) / 2;
  }
  // Min and max from the buckets (the stored ones when they fit them).
  std::size_t lo = kBuckets, hi = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    if (!h.counts_[i]) continue;
    lo = std::min(lo, i);
    hi = i;
  }
  if (h.count_) {
    h.min_us_ = LowestOf(lo);
    h.max_us_ = HighestOf(hi);
    const auto stored_min = j.value("min_us", Json());
    const auto stored_max = j.value("max_us", Json());
    auto within = [](const Json& v, std::size_t index) {
      return v.is_number_integer() && v.get<std::int64_t>() >= LowestOf(index) &&
             v.get<std::int64_t>() <= HighestOf(index);
    };
    if (within(stored_min, lo)) h.min_us_ = stored_min.get<std::int64_t>();
    if (within(stored_max, hi)) h.max_us_ = stored_max.get<std::int64_t>();
    if (h.min_us_ > h.max_us_) std::swap(h.min_us_, h.max_us_);
  }
  return h;
}

}  // namespace ps::load
