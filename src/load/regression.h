// Is a version slower than its baseline, for real? The performance gate's
// statistics, pure functions of two measurements.
//
// For each quantile q checked (the median and p95): T is the baseline's
// q-quantile, and T' = T x (1 + allowed regression) + a fixed slack for
// sub-millisecond noise. If the new version were no slower than the
// baseline grown that way, the share of its requests above T' would be no
// larger than the share of the baseline's above T (about 1 - q). The two
// shares are compared with a one-sided two-sample test of proportions (both
// are samples: the baseline's quantile is an estimate too). A regression is
// a difference so large that it happens by chance with probability below
// alpha (split over the routes and quantiles checked). Errors: the new
// version's failed requests against Binomial(n, max(baseline ratio, error
// floor)).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "load/histogram.h"

namespace ps::load {

struct RouteSample {
  std::string route;
  Histogram latency;
  std::uint64_t requests = 0, failed = 0;
  Json ToJson() const;
  static Result<RouteSample> FromJson(const Json& j);
};

struct RegressionOptions {
  double tolerance = 0.10;     // allowed growth of a quantile (policy max_regression_pct)
  double slack_ms = 1.0;       // absolute allowance on top (scheduling noise of a fresh process)
  double alpha = 0.001;        // false-alarm probability of one gate run, all checks together
  double error_floor = 0.001;  // error ratio tolerated even when the baseline had none
  std::uint64_t min_requests = 50;  // fewer: not judged
};

struct QuantileCheck {
  double q = 0;
  double baseline_ms = 0, current_ms = 0, threshold_ms = 0;
  std::uint64_t baseline_above = 0, baseline_n = 0;  // the baseline's requests above baseline_ms
  std::uint64_t above = 0, n = 0;                    // the new version's above threshold_ms
  double p_value = 1;
  bool regressed = false;
  Json ToJson() const;
};

struct RouteVerdict {
  std::string route;
  std::vector<QuantileCheck> quantiles;
  double baseline_error_ratio = 0, current_error_ratio = 0, error_p_value = 1;
  bool errors_regressed = false;
  bool judged = true;  // false: too few requests on one side
  std::string note;
  bool regressed() const;
  // One line for a blocker: which quantile, by how much, how sure.
  std::string Reason() const;
  Json ToJson() const;
};

// P(X >= k) for X ~ Binomial(n, p).
double BinomialUpperTail(std::uint64_t n, std::uint64_t k, double p);
// One-sided p-value that the share k2/n2 exceeds k1/n1 by chance (pooled
// two-proportion z-test). 1 when either sample is empty.
double ProportionIncreaseP(std::uint64_t k1, std::uint64_t n1, std::uint64_t k2, std::uint64_t n2);

// `checks`: how many comparisons share alpha (routes x 3); at least 1.
RouteVerdict CompareRoute(const RouteSample& baseline, const RouteSample& current,
                          const RegressionOptions& o, int checks);

}  // namespace ps::load
