// Is a candidate slower than its baseline, measured side by side? The
// performance gate's verdict, from one load that interleaved requests to the
// two versions (LoadOptions::targets): request 2j and 2j+1 of the schedule
// form pair j, one to each version, on the same path, due 1/rate apart, so
// both saw the same machine.
//
// Two latency checks per route, each a sign test on the pairs (one-sided,
// exact), so that a stall of the machine, which slows both requests of a
// pair alike, tells nothing either way:
//
// - The typical request ("pairs"): per pair d = log B - log(A x (1 +
//   tolerance) + slack), tested with Wilcoxon's signed-rank test for d
//   centred above 0. The two requests of a pair are exchangeable (due 1/rate
//   apart, the order alternating), so with the same version on both sides
//   log B - log A is symmetric about 0, and d lies below it: the test is
//   conservative there. A version slower on most requests is caught from a
//   few hundred pairs even when the machine's noise is larger than the
//   change. (The counts of pairs with d > 0 and d <= 0 are reported.)
// - The tail (p95): T is the baseline's p95 in this run, T' = T x (1 +
//   tolerance) + slack. Each pair says whether the baseline's request took
//   longer than T and whether the candidate's took longer than T'; only the
//   discordant pairs count (the candidate's alone above T', the baseline's
//   alone above T). If the candidate were no slower than the baseline grown
//   by the tolerance, the first kind would be no more likely than the second
//   (P(B > T') - P(A > T) is exactly their difference): McNemar's design.
//
// Errors likewise: pairs where only the candidate's request failed against
// pairs where only the baseline's did.
//
// Noise that a shared machine adds — other processes' CPU, I/O stalls,
// scheduling delays — lands on both sides of a pair and cancels; what is
// left is what the candidate itself changed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "load/regression.h"

namespace ps::load {

// One answered (or failed) request of a paired load.
struct PairedRequest {
  std::int64_t seq = 0;  // its place in the schedule (Outcome::seq)
  int side = 0;          // 0: baseline, 1: candidate
  std::size_t route = 0;
  double latency_ms = 0;
  bool answered = true;  // a status was received
  bool failed = false;   // no answer, or 5xx
};

struct PairedOptions {
  double tolerance = 0.10;         // allowed growth of a quantile (policy max_regression_pct)
  double slack_ms = 1.0;           // absolute allowance on top
  double alpha = 0.01;             // false-alarm probability of one gate run, all checks together
  std::uint64_t min_pairs = 50;    // fewer complete pairs on a route: not judged
};

struct PairedQuantile {
  // "pairs": request by request (q = 0.5: the medians are reported);
  // "p95": the tail.
  std::string check;
  double q = 0;
  double baseline_ms = 0, current_ms = 0, threshold_ms = 0;  // threshold: p95 only
  std::uint64_t pairs = 0;
  // pairs: the candidate slower than the baseline grown by the tolerance;
  // p95: the candidate's above T', the baseline's not above T.
  std::uint64_t current_only = 0;
  // pairs: not so; p95: the baseline's above T, the candidate's not above T'.
  std::uint64_t baseline_only = 0;
  double p_value = 1;
  bool regressed = false;
  Json ToJson() const;
};

struct PairedRouteVerdict {
  std::string route;
  RouteSample baseline, current;  // each side's requests of this route
  std::vector<PairedQuantile> quantiles;
  std::uint64_t pairs = 0;          // complete pairs (both sides reported)
  std::uint64_t current_failed_only = 0, baseline_failed_only = 0;
  double error_p_value = 1;
  bool errors_regressed = false;
  bool judged = true;
  std::string note;
  bool regressed() const;
  std::string Reason() const;
  Json ToJson() const;
};

// One-sided p-value of Wilcoxon's signed-rank test that the values are
// centred above 0 (zeros dropped, mid-ranks for ties, normal approximation
// with continuity correction). 1 when empty.
double SignedRankUpperP(std::vector<double> d);

// Splits a paired load's requests by route and side, pairs them by
// schedule, and judges each route. `routes` names the paths in the order of
// LoadOptions::paths. `checks`: how many comparisons share alpha (at least
// routes x 3).
std::vector<PairedRouteVerdict> ComparePaired(const std::vector<PairedRequest>& requests,
                                              const std::vector<std::string>& routes,
                                              const PairedOptions& o, int checks);

// Whether a paired measurement is worth extending: no route regressed, but
// some check is suggestive (p below `below`). The caller that extends tests
// every look at alpha / looks (Bonferroni over the looks).
bool Inconclusive(const std::vector<PairedRouteVerdict>& verdicts, double below);

}  // namespace ps::load
