// Release analysis that may look after every request: mixture sequential
// probability ratio tests (mSPRT; Robbins, Johari et al. 2017) whose
// false-rollback rate is at most alpha however often they are read (Ville's
// inequality: a nonnegative martingale passes 1/alpha with probability at
// most alpha). docs/RELEASE.md ("The analysis") derives each test.
//
// Errors: conditioned on a request having failed, it came from the canary
// with probability s (the canary's traffic share) if both versions fail
// alike, and q(r) = r*s / (r*s + 1 - s) if the canary fails r times as often.
// Latency: each canary request is "slower than the stable version's current
// p95" with probability 0.05 when there is no regression.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "core/json.h"

namespace ps::analysis {

// A likelihood ratio averaged over a discrete prior on the alternative,
// kept in logs. Each alternative's log-likelihood ratio accumulates; the
// mixture is log(mean(exp(llr_i))).
class Mixture {
 public:
  explicit Mixture(std::size_t alternatives) : llr_(alternatives, 0.0) {}
  void Add(std::size_t i, double log_ratio) { llr_[i] += log_ratio; }
  double LogRatio() const;
  std::size_t size() const { return llr_.size(); }

 private:
  std::vector<double> llr_;
};

// "The canary fails more often than stable", from which version served
// each failed request and the canary's share when it did.
class ErrorTest {
 public:
  // `ratios`: the alternatives r > 1 (equal prior weight).
  explicit ErrorTest(double alpha = 0.01,
                     std::vector<double> ratios = {1.5, 2, 3, 5, 10, 20, 50, 100});
  // One failed request: `canary` if the canary served it, `share` the
  // canary's traffic share (0 < share < 1) at that moment.
  void AddError(bool canary, double share);
  bool Rejected() const { return mix_.LogRatio() >= threshold_; }
  double LogRatio() const { return mix_.LogRatio(); }
  std::int64_t canary_errors() const { return canary_errors_; }
  std::int64_t stable_errors() const { return stable_errors_; }

 private:
  std::vector<double> ratios_;
  Mixture mix_;
  double threshold_;
  std::int64_t canary_errors_ = 0, stable_errors_ = 0;
};

// "Canary requests are slower than stable's p95 more often than 5% of the
// time". Stable latencies form a sliding window; a canary request counts
// only once the window holds `min_stable` samples. "Slower" means by more
// than `min_delta_ms` (1 ms: HAProxy logs whole milliseconds, and a fresh
// process's first sub-millisecond answers differ by noise nobody feels).
class LatencyTest {
 public:
  explicit LatencyTest(double alpha = 0.01, double quantile = 0.95, std::size_t window = 2000,
                       std::size_t min_stable = 100,
                       std::vector<double> alternatives = {0.1, 0.2, 0.35, 0.5, 0.7, 0.9},
                       double min_delta_ms = 1.0);
  void AddStable(double latency_ms);
  void AddCanary(double latency_ms);
  bool Rejected() const { return mix_.LogRatio() >= threshold_; }
  double LogRatio() const { return mix_.LogRatio(); }
  double StableQuantile() const;  // current threshold (NaN before min_stable)
  std::int64_t canary_counted() const { return counted_; }
  std::int64_t canary_slow() const { return slow_; }

 private:
  double quantile_;
  std::size_t window_, min_stable_;
  double min_delta_ms_;
  std::vector<double> alts_;
  Mixture mix_;
  double threshold_;
  std::deque<double> stable_;   // arrival order, for the window
  std::vector<double> sorted_;  // the same values, sorted (kept in step)
  std::int64_t counted_ = 0, slow_ = 0;
};

// "The canary's rate of some event is above p0" (a Flagger-like threshold,
// made sequential): each canary request is one Bernoulli draw; the mixture
// is over p1 = p0 x {1.5, 2, 3, 5, 10} (below 1).
class RateTest {
 public:
  RateTest(double p0, double alpha);
  void Add(bool event);
  bool Rejected() const { return mix_.LogRatio() >= threshold_; }
  double LogRatio() const { return mix_.LogRatio(); }
  std::int64_t n() const { return n_; }
  std::int64_t k() const { return k_; }

 private:
  double p0_;
  std::vector<double> alts_;
  Mixture mix_;
  double threshold_;
  std::int64_t n_ = 0, k_ = 0;
};

// An absolute limit on the canary (release.analysis.metrics): its error
// rate at most `max_rate`, or its `quantile` latency at most `latency_ms`
// (then max_rate = 1 - quantile: the share of requests allowed above it).
struct Threshold {
  std::string name;
  double max_rate = 0.01;
  double latency_ms = 0;  // 0: an error-rate threshold
};

// What the analysis says after the latest request.
enum class Verdict { kContinue, kRollback, kPromotable };
const char* ToString(Verdict v);

struct AnalysisConfig {
  double alpha = 0.01;                    // false rollbacks, over the whole release
  std::int64_t min_canary_requests = 50;  // before "promotable"
  double max_canary_error_rate = 0.01;    // promotable only if the bound is below
  std::vector<Threshold> thresholds;      // absolute limits, each its own test
};

// A canary step's analysis: errors and latency, read after every request.
// Rollback when any test rejects (the comparison tests and each threshold
// at alpha / (2 + thresholds), so the release's false rollback rate is at
// most alpha). Promotable when the canary has served
// enough requests and an always-valid upper bound on its error rate (the
// same mixture idea: a Bernoulli confidence sequence) is below the tolerance.
class CanaryAnalysis {
 public:
  explicit CanaryAnalysis(AnalysisConfig config = {});
  // One request: who served it, whether it failed (5xx or no response), its
  // latency, and the canary's share at the time.
  Verdict Observe(bool canary, bool failed, double latency_ms, double share);
  Verdict verdict() const { return verdict_; }
  std::int64_t canary_requests() const { return canary_; }
  // The statistics behind the verdict, for the release row and events.
  Json Stats() const;

 private:
  double ErrorRateUpperBound() const;

  AnalysisConfig config_;
  ErrorTest errors_;
  LatencyTest latency_;
  std::vector<RateTest> limits_;  // one per threshold, in config order
  std::int64_t canary_ = 0, stable_ = 0, canary_failed_ = 0, stable_failed_ = 0;
  Verdict verdict_ = Verdict::kContinue;
  std::string reason_;
};

}  // namespace ps::analysis
