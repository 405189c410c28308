#include "load/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "load/regression.h"

namespace ps::load {
namespace {

TEST(Histogram, BucketsTileTheRangeWithUnderTwoPercentError) {
  for (std::size_t i = 0; i < Histogram::IndexOf(Histogram::kMaxUs); ++i) {
    const auto lo = Histogram::LowestOf(i), hi = Histogram::HighestOf(i);
    ASSERT_EQ(Histogram::IndexOf(lo), i);
    ASSERT_EQ(Histogram::IndexOf(hi), i);
    ASSERT_EQ(hi + 1, Histogram::LowestOf(i + 1)) << i;
    if (lo >= 128) {
      ASSERT_LE(static_cast<double>(hi - lo) / static_cast<double>(lo), 0.016);
    }
  }
  EXPECT_LT(Histogram::IndexOf(Histogram::kMaxUs), Histogram::kBuckets);
  EXPECT_EQ(Histogram::IndexOf(-5), 0u);
  EXPECT_EQ(Histogram::IndexOf(INT64_MAX), Histogram::IndexOf(Histogram::kMaxUs));
}

TEST(Histogram, QuantilesMatchTheExactOnesWithinABucket) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(std::log(2000.0), 0.8);  // ~2 ms median
  std::vector<std::int64_t> values;
  Histogram h;
  for (int i = 0; i < 20000; ++i) {
    const auto v = static_cast<std::int64_t>(d(rng));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (const double q : {0.5, 0.9, 0.95, 0.99, 0.999}) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * values.size()));
    const double exact = static_cast<double>(values[rank - 1]) / 1000.0;
    EXPECT_NEAR(h.QuantileMs(q), exact, exact * 0.016) << q;
  }
  EXPECT_DOUBLE_EQ(h.QuantileMs(1.0), static_cast<double>(values.back()) / 1000.0);
  EXPECT_DOUBLE_EQ(h.MinMs(), static_cast<double>(values.front()) / 1000.0);
  EXPECT_EQ(h.count(), 20000u);
  EXPECT_EQ(Histogram().QuantileMs(0.5), 0);
}

TEST(Histogram, MergesAndRoundTripsThroughJson) {
  Histogram a, b;
  for (int i = 1; i <= 1000; ++i) a.Record(i * 37);
  for (int i = 1; i <= 500; ++i) b.Record(i * 1000);
  Histogram m = a;
  m.Merge(b);
  EXPECT_EQ(m.count(), 1500u);
  EXPECT_DOUBLE_EQ(m.MaxMs(), 500.0);
  auto back = Histogram::FromJson(m.ToJson());
  ASSERT_TRUE(back.ok()) << back.problem().detail;
  EXPECT_EQ(back->count(), m.count());
  for (const double q : {0.1, 0.5, 0.9, 0.99})
    EXPECT_DOUBLE_EQ(back->QuantileMs(q), m.QuantileMs(q));
  EXPECT_DOUBLE_EQ(back->MaxMs(), m.MaxMs());
  EXPECT_DOUBLE_EQ(back->MinMs(), m.MinMs());
}

TEST(Histogram, HostileJsonIsRefused) {
  for (const char* text :
       {R"(null)", R"({"unit":"ms","buckets":[]})", R"({"unit":"us"})",
        R"({"unit":"us","buckets":[[1]]})", R"({"unit":"us","buckets":[[99999,1]]})",
        R"({"unit":"us","buckets":[[-1,1]]})", R"({"unit":"us","buckets":[[1,-3]]})",
        R"({"unit":"us","buckets":[[1,1e300]]})", R"({"unit":"us","buckets":[[1,2000000000000]]})",
        R"({"unit":"us","buckets":[["1",1]]})"}) {
    EXPECT_FALSE(Histogram::FromJson(Json::parse(text)).ok()) << text;
  }
  // Stored min/max that do not fit the buckets are ignored, not trusted.
  auto h = Histogram::FromJson(Json::parse(R"({"unit":"us","min_us":-9,"max_us":999999999,
                                               "buckets":[[10,2],[200,1]]})"));
  ASSERT_TRUE(h.ok());
  EXPECT_DOUBLE_EQ(h->MinMs(), 0.010);
  EXPECT_LE(h->MaxMs(), static_cast<double>(Histogram::HighestOf(200)) / 1000.0);
}

TEST(Regression, BinomialTailAndTwoProportions) {
  EXPECT_DOUBLE_EQ(BinomialUpperTail(10, 0, 0.3), 1.0);
  EXPECT_NEAR(BinomialUpperTail(10, 10, 0.5), std::pow(0.5, 10), 1e-12);
  EXPECT_NEAR(BinomialUpperTail(20, 3, 0.05), 1 - 0.3584859 - 0.3773536 - 0.1886768, 1e-6);
  EXPECT_NEAR(BinomialUpperTail(500, 2, 0.001), 1 - std::exp(-0.5) * 1.5, 2e-3);
  EXPECT_DOUBLE_EQ(BinomialUpperTail(5, 6, 0.5), 0.0);
  EXPECT_DOUBLE_EQ(BinomialUpperTail(5, 2, std::nan("")), 0.0);
  // Two shares: 60/500 against 25/500 is far out; equal shares are not.
  EXPECT_LT(ProportionIncreaseP(25, 500, 60, 500), 1e-4);
  EXPECT_NEAR(ProportionIncreaseP(25, 500, 25, 500), 0.5, 1e-9);
  EXPECT_GT(ProportionIncreaseP(25, 500, 10, 500), 0.99);
  EXPECT_EQ(ProportionIncreaseP(0, 0, 5, 10), 1);
  EXPECT_EQ(ProportionIncreaseP(0, 10, 0, 10), 1);
}

// Every term summed, in long double: what the tail must come to.
double ReferenceUpperTail(int n, int k, double p) {
  long double sum = 0;
  for (int i = k; i <= n; ++i) {
    sum += std::exp(static_cast<long double>(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) -
                                             std::lgamma(n - i + 1.0)) +
                    i * std::log(static_cast<long double>(p)) +
                    (n - i) * std::log1p(static_cast<long double>(-p)));
  }
  return static_cast<double>(std::min(sum, 1.0L));
}

TEST(Regression, BinomialTailMatchesTheFullSumOnBothSidesOfTheMean) {
  for (const int n : {1, 2, 7, 50, 333, 2000}) {
    for (const double p : {1e-4, 0.001, 0.02, 0.3, 0.5, 0.9, 0.999}) {
      for (int k = 0; k <= n; k += std::max(1, n / 97)) {
        const double want = ReferenceUpperTail(n, k, p), got = BinomialUpperTail(n, k, p);
        // Absolute near 1, relative in the far tail.
        EXPECT_NEAR(got, want, 1e-12 + want * 1e-9) << "n=" << n << " k=" << k << " p=" << p;
      }
    }
  }
}

TEST(Regression, BinomialTailOfHugeCountsIsAnsweredAtOnce) {
  // A stored baseline may claim any count: a tail far below or far above the
  // mean takes a handful of terms (this one used to sum 5e8 of them).
  EXPECT_DOUBLE_EQ(BinomialUpperTail(500666666666ULL, 2, 0.001), 1.0);
  EXPECT_DOUBLE_EQ(BinomialUpperTail(500666666666ULL, 500666666666ULL, 0.001), 0.0);
  EXPECT_DOUBLE_EQ(BinomialUpperTail(UINT64_MAX, 1, 1e-12), 1.0);
  EXPECT_LT(BinomialUpperTail(UINT64_MAX, UINT64_MAX / 2, 1e-12), 1e-300);
  // P(X >= 1) = 1 - (1 - p)^n: (1 - p) rounded to a double would be off by
  // n * 1e-16 in the exponent, here 1e-3.
  EXPECT_NEAR(BinomialUpperTail(10'000'000'000'000ULL, 1, 1e-13), 1 - std::exp(-1.0), 1e-9);
  EXPECT_NEAR(BinomialUpperTail(10'000'000'000'000ULL, 2, 1e-13), 1 - 2 * std::exp(-1.0), 1e-9);
  // Near the mean the exact sum and the normal approximation past
  // kExactSdLimit agree: sd 99,999 (exact) and 100,001 (approximated), at the
  // mean and two standard deviations above it, for a skewed share too.
  for (const double p : {0.5, 0.01}) {
    for (const double sd : {99999.0, 100001.0}) {
      const double n = std::floor(sd * sd / (p * (1 - p))), mean = n * p;
      const auto at = [&](double z) {
        return BinomialUpperTail(static_cast<std::uint64_t>(n),
                                 static_cast<std::uint64_t>(std::ceil(mean + z * sd)), p);
      };
      const double z2 = (std::ceil(mean + 2 * sd) - mean) / sd;
      EXPECT_NEAR(at(2), 0.5 * std::erfc(z2 / std::sqrt(2.0)), 1e-6) << p << " " << sd;
      // P(X >= mean) is a half and half the term at the mean.
      const double z0 = (std::ceil(mean) - mean) / sd;
      EXPECT_NEAR(at(0), 0.5 * std::erfc(z0 / std::sqrt(2.0)) + 0.5 / (sd * std::sqrt(2 * M_PI)),
                  1e-6)
          << p << " " << sd;
    }
  }
}

RouteSample Sample(std::mt19937_64& rng, int n, double median_us, double sigma, double slower,
                   double error_ratio) {
  std::lognormal_distribution<double> d(std::log(median_us), sigma);
  std::bernoulli_distribution err(error_ratio);
  RouteSample s;
  s.route = "/";
  for (int i = 0; i < n; ++i) {
    ++s.requests;
    if (err(rng)) ++s.failed;
    s.latency.Record(static_cast<std::int64_t>(d(rng) * slower));
  }
  return s;
}

// Same version twice: the gate must stay quiet (alpha = 0.001 per gate run).
TEST(Regression, AHealthyVersionIsAlmostNeverCalledSlower) {
  std::mt19937_64 rng(2026);
  RegressionOptions o;
  o.tolerance = 0;  // the strictest policy: no growth allowed at all
  o.slack_ms = 0;
  int alarms = 0;
  for (int t = 0; t < 2000; ++t) {
    const auto base = Sample(rng, 500, 3000, 0.5, 1.0, 0.0);
    const auto cur = Sample(rng, 500, 3000, 0.5, 1.0, 0.0);
    alarms += CompareRoute(base, cur, o, 3).regressed();
  }
  EXPECT_LE(alarms, 4) << "false alarms in 2000 healthy comparisons";
}

TEST(Regression, RealSlowdownsAndErrorsAreCaughtToleratedOnesAreNot) {
  std::mt19937_64 rng(11);
  RegressionOptions o;  // 10% allowed, 1 ms slack
  int caught = 0, tolerated_alarms = 0, tail_caught = 0;
  for (int t = 0; t < 200; ++t) {
    const auto base = Sample(rng, 500, 5000, 0.4, 1.0, 0.0);
    caught += CompareRoute(base, Sample(rng, 500, 5000, 0.4, 1.5, 0.0), o, 3).regressed();
    tolerated_alarms +=
        CompareRoute(base, Sample(rng, 500, 5000, 0.4, 1.05, 0.0), o, 3).regressed();
    // Same median, a fatter tail: only p95 moves.
    tail_caught += CompareRoute(base, Sample(rng, 500, 5000, 0.8, 1.0, 0.0), o, 3).regressed();
  }
  EXPECT_GE(caught, 198);
  EXPECT_EQ(tolerated_alarms, 0);
  EXPECT_GE(tail_caught, 190);
  const auto base = Sample(rng, 500, 5000, 0.4, 1.0, 0.0);
  const auto v = CompareRoute(base, Sample(rng, 500, 5000, 0.4, 2.0, 0.0), o, 3);
  EXPECT_NE(v.Reason().find("median"), std::string::npos) << v.Reason();
  EXPECT_TRUE(v.ToJson()["regressed"].get<bool>());
  // Errors: 3% failing against a clean baseline.
  const auto e = CompareRoute(base, Sample(rng, 500, 5000, 0.4, 1.0, 0.03), o, 3);
  EXPECT_TRUE(e.errors_regressed);
  EXPECT_NE(e.Reason().find("errors"), std::string::npos);
  // Too few requests: not judged either way.
  const auto few = CompareRoute(base, Sample(rng, 20, 5000, 0.4, 3.0, 0.0), o, 3);
  EXPECT_FALSE(few.judged);
  EXPECT_FALSE(few.regressed());
}

TEST(Regression, RouteSamplesRoundTripAndRefuseNonsense) {
  std::mt19937_64 rng(3);
  const auto s = Sample(rng, 100, 1000, 0.3, 1.0, 0.05);
  auto back = RouteSample::FromJson(s.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->requests, s.requests);
  EXPECT_EQ(back->failed, s.failed);
  EXPECT_EQ(back->latency.count(), s.latency.count());
  Json bad = s.ToJson();
  bad["failed"] = 1000;
  EXPECT_FALSE(RouteSample::FromJson(bad).ok());
  EXPECT_FALSE(RouteSample::FromJson(Json::array()).ok());
}

}  // namespace
}  // namespace ps::load
