// Is a candidate slower than its baseline, measured side by side? The
// performance gate's verdict, from one load that interleaved requests to the
// two versions (LoadOptions::targets): request 2j and 2j+1 of the schedule
// form pair j, one to each version, on the same path, due 1/rate apart, so
// both saw the same machine.
//
// For each quantile q checked (the median and p95): T is the baseline's
// q-quantile in this run, T' = T x (1 + tolerance) + slack. Each pair in
// which both answered gives two yes/no facts: "the baseline's request took
// longer than T" and "the candidate's took longer than T'". A stall of the
// machine slows both requests of a pair alike: such a pair says yes twice
// (or no twice) and tells nothing. Only the discordant pairs count — the
// candidate's alone above T', or the baseline's alone above T — and if the
// candidate were no slower than the baseline grown by the tolerance, the
// first kind would be no more likely than the second (P(B > T') - P(A > T)
// is exactly their difference). The count of the first kind among the
// discordant pairs is tested against a fair coin, one-sided and exact (a
// sign test on the pairs, McNemar's design). Errors likewise: pairs where
// only the candidate's request failed against pairs where only the
// baseline's did.
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
  double alpha = 0.001;            // false-alarm probability of one gate run, all checks together
  std::uint64_t min_pairs = 50;    // fewer complete pairs on a route: not judged
};

struct PairedQuantile {
  double q = 0;
  double baseline_ms = 0, current_ms = 0, threshold_ms = 0;
  std::uint64_t pairs = 0;
  std::uint64_t current_only = 0;   // the candidate's above T', the baseline's not above T
  std::uint64_t baseline_only = 0;  // the baseline's above T, the candidate's not above T'
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

// Splits a paired load's requests by route and side, pairs them by
// schedule, and judges each route. `routes` names the paths in the order of
// LoadOptions::paths. `checks`: how many comparisons share alpha (at least
// routes x 3).
std::vector<PairedRouteVerdict> ComparePaired(const std::vector<PairedRequest>& requests,
                                              const std::vector<std::string>& routes,
                                              const PairedOptions& o, int checks);

}  // namespace ps::load
