// The release analysis on synthetic request streams with fixed seeds: its
// false-rollback rate on healthy canaries (goal: at most 1%) and how many
// requests it needs to catch a bad one, measured over many trials.
#include "analysis/sequential.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace ps::analysis {
namespace {

struct Version {
  double error_rate;
  double latency_ms;  // median
  double jitter;      // lognormal sigma
};

struct Outcome {
  Verdict verdict = Verdict::kContinue;
  std::int64_t canary_requests = 0;  // until the verdict
};

// Requests at `share` to the canary until a rollback, or `max_requests`.
Outcome RunTrial(std::uint64_t seed, const Version& stable, const Version& canary, double share,
                 std::int64_t max_requests, bool stop_at_promotable = false,
                 AnalysisConfig config = {}) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> z(0, 1);
  CanaryAnalysis a(config);
  Outcome o;
  for (std::int64_t i = 0; i < max_requests; ++i) {
    const bool to_canary = u(rng) < share;
    const Version& v = to_canary ? canary : stable;
    const bool failed = u(rng) < v.error_rate;
    const double latency = v.latency_ms * std::exp(v.jitter * z(rng));
    o.canary_requests += to_canary;
    const Verdict d = a.Observe(to_canary, failed, latency, share);
    if (d == Verdict::kRollback || (stop_at_promotable && d == Verdict::kPromotable)) {
      o.verdict = d;
      return o;
    }
  }
  o.verdict = a.verdict();
  return o;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST(ErrorTest, TwoCanaryErrorsAtTenPercentShareAreNotYetEnoughButFiveAre) {
  ErrorTest t(0.01);
  t.AddError(true, 0.1);
  t.AddError(true, 0.1);
  EXPECT_FALSE(t.Rejected());  // log LR about 3.3 with the mixture; threshold log(100) = 4.6
  for (int i = 0; i < 3; ++i) t.AddError(true, 0.1);
  EXPECT_TRUE(t.Rejected());
  ErrorTest even(0.01);
  for (int i = 0; i < 100; ++i) even.AddError(i % 10 == 0, 0.1);  // the canary's fair share
  EXPECT_FALSE(even.Rejected());
}

TEST(LatencyTest, CountsOnlyOnceStableHasAReference) {
  LatencyTest t(0.01, 0.95, 100, 20);
  t.AddCanary(1000);
  EXPECT_EQ(t.canary_counted(), 0);
  for (int i = 1; i <= 20; ++i) t.AddStable(i);
  EXPECT_EQ(t.StableQuantile(), 19);
  for (int i = 0; i < 10; ++i) t.AddCanary(500);
  EXPECT_EQ(t.canary_slow(), 10);
  EXPECT_TRUE(t.Rejected());
}

// Healthy canaries, also beside noisy stable versions: rolled back in at
// most 1% of trials (alpha = 1% bounds it for any number of looks).
TEST(CanaryAnalysis, FalseRollbacksOfHealthyCanariesStayUnderOnePercent) {
  int rollbacks = 0, trials = 0;
  for (double base : {0.0, 0.001, 0.01}) {
    for (std::uint64_t seed = 1; seed <= 400; ++seed) {
      Version v{base, 5, 0.3};
      auto o = RunTrial(seed * 7919 + static_cast<std::uint64_t>(base * 1e6), v, v, 0.1, 3000);
      rollbacks += o.verdict == Verdict::kRollback;
      ++trials;
    }
  }
  const double rate = static_cast<double>(rollbacks) / trials;
  RecordProperty("false_rollback_rate", std::to_string(rate));
  EXPECT_LE(rate, 0.01) << rollbacks << " of " << trials;
}

// The scenario: 100 requests/s, 10% to the canary. 5% canary
// errors: caught in a median of a few seconds' worth of canary requests.
TEST(CanaryAnalysis, CatchesFivePercentErrorsWithinSeconds) {
  std::vector<double> canary_requests;
  int caught = 0;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    auto o = RunTrial(seed, {0.0, 5, 0.3}, {0.05, 5, 0.3}, 0.1, 20000);
    caught += o.verdict == Verdict::kRollback;
    if (o.verdict == Verdict::kRollback)
      canary_requests.push_back(static_cast<double>(o.canary_requests));
  }
  EXPECT_EQ(caught, 300);
  // At 10 canary requests/s: the median delay in seconds is this / 10.
  const double median_s = Median(canary_requests) / 10;
  RecordProperty("median_seconds_5pct_errors", std::to_string(median_s));
  EXPECT_LE(median_s, 15.0);
}

TEST(CanaryAnalysis, Catches200MsSlowerCanaryInAHandfulOfRequests) {
  std::vector<double> canary_requests;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    auto o = RunTrial(seed, {0.0, 5, 0.3}, {0.0, 205, 0.3}, 0.1, 20000);
    ASSERT_EQ(o.verdict, Verdict::kRollback) << seed;
    canary_requests.push_back(static_cast<double>(o.canary_requests));
  }
  // The stable reference needs 100 stable requests first (about 1 s at
  // 90 stable requests/s); then a handful of slow canary requests decide.
  RecordProperty("median_seconds_200ms_slower", std::to_string(Median(canary_requests) / 10));
  EXPECT_LE(Median(canary_requests) / 10, 3.0);
}

TEST(CanaryAnalysis, AHealthyCanaryBecomesPromotableAndStatsExplainWhy) {
  auto o = RunTrial(42, {0.0, 5, 0.3}, {0.0, 5, 0.3}, 0.5, 20000, true);
  EXPECT_EQ(o.verdict, Verdict::kPromotable);
  EXPECT_LT(o.canary_requests, 2000);
  CanaryAnalysis a;
  for (int i = 0; i < 400; ++i) a.Observe(i % 2 == 0, false, 5, 0.5);
  EXPECT_EQ(a.verdict(), Verdict::kContinue);  // 200 clean canary requests bound the rate near 2%
  for (int i = 0; i < 1000; ++i) a.Observe(i % 2 == 0, false, 5, 0.5);
  Json s = a.Stats();
  EXPECT_EQ(s["verdict"], "promotable");
  EXPECT_LE(s["canary_error_rate_upper_bound"].get<double>(), 0.01);
  EXPECT_EQ(s["requests"]["canary"], 700);
  // A rollback is final.
  CanaryAnalysis b;
  for (int i = 0; i < 200; ++i) b.Observe(true, i % 2 == 0, 5, 0.1);
  EXPECT_EQ(b.verdict(), Verdict::kRollback);
  EXPECT_EQ(b.Observe(true, false, 5, 0.1), Verdict::kRollback);
  EXPECT_FALSE(b.Stats()["reason"].get<std::string>().empty());
}

// A threshold (release.analysis.metrics) is a sequential test too: a rate
// exactly at its limit is rarely called over it, however long it is watched,
// and a rate three times over is caught.
TEST(RateTest, HoldsItsLevelAtTheLimitAndCatchesThreeTimesOver) {
  int false_alarms = 0;
  std::vector<double> needed;
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    RateTest at(0.02, 0.01), over(0.02, 0.01);
    for (int i = 0; i < 5000; ++i) at.Add(u(rng) < 0.02);
    false_alarms += at.Rejected();
    int n = 0;
    while (!over.Rejected() && n < 5000) {
      over.Add(u(rng) < 0.06);
      ++n;
    }
    needed.push_back(n);
  }
  EXPECT_LE(false_alarms, 4) << "at most 1% of 400";
  RecordProperty("median_requests_3x_over", std::to_string(Median(needed)));
  EXPECT_LE(Median(needed), 600);
}

TEST(CanaryAnalysis, ThresholdsRollBackWhatIsOverTheLimitOnly) {
  AnalysisConfig c;
  c.thresholds = {{"latency p99 <= 300 ms", 0.01, 300}, {"error-rate <= 0.1", 0.1, 0}};
  // 400 ms for everyone: no worse than stable, but over the p99 limit.
  auto slow = RunTrial(3, {0.0, 400, 0.05}, {0.0, 400, 0.05}, 0.1, 20000, false, c);
  EXPECT_EQ(slow.verdict, Verdict::kRollback);
  EXPECT_LT(slow.canary_requests, 100);
  // 100 ms: inside the limits, and promotable.
  auto fine = RunTrial(3, {0.0, 100, 0.3}, {0.0, 100, 0.3}, 0.1, 20000, true, c);
  EXPECT_EQ(fine.verdict, Verdict::kPromotable);
  CanaryAnalysis a(c);
  a.Observe(true, false, 100, 0.1);
  const Json st = a.Stats();
  ASSERT_EQ(st["thresholds"].size(), 2u);
  EXPECT_EQ(st["thresholds"][0]["name"], "latency p99 <= 300 ms");
  EXPECT_NEAR(st["errors"]["threshold"].get<double>(), std::log(4 / 0.01), 1e-9);
}

}  // namespace
}  // namespace ps::analysis
