#include "load/paired.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace ps::load {

namespace {

// The q-quantile of sorted values: the value at rank ceil(q * n), as the
// histograms define it.
double QuantileOf(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(q * n));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::string Pvalue(double p) {
  std::ostringstream s;
  s.precision(2);
  s << p;
  return s.str();
}

struct Pair {
  const PairedRequest* side[2] = {nullptr, nullptr};
};

}  // namespace

double SignedRankUpperP(std::vector<double> d) {
  d.erase(std::remove(d.begin(), d.end(), 0.0), d.end());
  const std::size_t n = d.size();
  if (n == 0) return 1;
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return std::fabs(d[a]) < std::fabs(d[b]); });
  // Mid-ranks for ties of |d|, and the ties' correction of the variance.
  double w_plus = 0, tie_term = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j + 1 < n && std::fabs(d[order[j + 1]]) == std::fabs(d[order[i]])) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1;
    const double t = static_cast<double>(j - i + 1);
    tie_term += t * t * t - t;
    for (std::size_t k = i; k <= j; ++k) {
      if (d[order[k]] > 0) w_plus += rank;
    }
    i = j + 1;
  }
  const double nn = static_cast<double>(n);
  const double mean = nn * (nn + 1) / 4;
  const double var = nn * (nn + 1) * (2 * nn + 1) / 24 - tie_term / 48;
  if (!(var > 0)) return w_plus > mean ? 0 : 1;
  // Normal approximation with continuity correction (n >= 50 where it is used).
  const double z = (w_plus - mean - 0.5) / std::sqrt(var);
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

namespace {

}  // namespace

Json PairedQuantile::ToJson() const {
  return {{"check", check},
          {"q", q},
          {"baseline_ms", baseline_ms},
          {"current_ms", current_ms},
          {"threshold_ms", threshold_ms},
          {"pairs", pairs},
          {"current_only_above", current_only},
          {"baseline_only_above", baseline_only},
          {"p_value", p_value},
          {"regressed", regressed}};
}

bool PairedRouteVerdict::regressed() const {
  if (errors_regressed) return true;
  for (const auto& c : quantiles) {
    if (c.regressed) return true;
  }
  return false;
}

std::string PairedRouteVerdict::Reason() const {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : "; ") + s; };
  for (const auto& c : quantiles) {
    if (!c.regressed) continue;
    if (c.check == "pairs") {
      add("median " + FormatMs(c.current_ms) + " vs baseline " + FormatMs(c.baseline_ms) +
          " measured at the same time: in " + std::to_string(c.current_only) + " of " +
          std::to_string(c.current_only + c.baseline_only) +
          " request pairs the new version took longer than the baseline beyond the tolerance"
          " (p = " +
          Pvalue(c.p_value) + ")");
      continue;
    }
    add("p95 " + FormatMs(c.current_ms) + " vs baseline " + FormatMs(c.baseline_ms) +
        " measured at the same time: in " + std::to_string(c.current_only) +
        " request pairs only the new version was above " + FormatMs(c.threshold_ms) + ", in " +
        std::to_string(c.baseline_only) + " only the baseline above " + FormatMs(c.baseline_ms) +
        " (p = " + Pvalue(c.p_value) + ")");
  }
  if (errors_regressed) {
    add("errors: in " + std::to_string(current_failed_only) +
        " request pairs only the new version failed, in " + std::to_string(baseline_failed_only) +
        " only the baseline (p = " + Pvalue(error_p_value) + ")");
  }
  return route + ": " + out;
}

Json PairedRouteVerdict::ToJson() const {
  Json qs = Json::array();
  for (const auto& c : quantiles) qs.push_back(c.ToJson());
  Json j = {{"route", route},
            {"paired", true},
            {"judged", judged},
            {"regressed", regressed()},
            {"pairs", pairs},
            {"quantiles", qs},
            {"errors",
             {{"baseline_failed", baseline.failed},
              {"current_failed", current.failed},
              {"current_only_failed", current_failed_only},
              {"baseline_only_failed", baseline_failed_only},
              {"p_value", error_p_value},
              {"regressed", errors_regressed}}}};
  if (!note.empty()) j["note"] = note;
  if (regressed()) j["reason"] = Reason();
  return j;
}

std::vector<PairedRouteVerdict> ComparePaired(const std::vector<PairedRequest>& requests,
                                              const std::vector<std::string>& routes,
                                              const PairedOptions& o, int checks) {
  const double alpha = o.alpha / std::max(checks, 1);
  std::vector<PairedRouteVerdict> out(routes.size());
  std::vector<std::vector<Pair>> pairs(routes.size());
  std::vector<std::vector<double>> lat[2];
  lat[0].resize(routes.size());
  lat[1].resize(routes.size());
  for (std::size_t r = 0; r < routes.size(); ++r) {
    out[r].route = routes[r];
    out[r].baseline.route = routes[r];
    out[r].current.route = routes[r];
  }
  // Each side's sample, per route.
  for (const auto& q : requests) {
    if (q.route >= routes.size() || (q.side != 0 && q.side != 1)) continue;
    RouteSample& s = q.side == 0 ? out[q.route].baseline : out[q.route].current;
    ++s.requests;
    if (q.failed) ++s.failed;
    if (q.answered) {
      const double us = std::max(0.0, q.latency_ms * 1000.0);
      s.latency.Record(static_cast<std::int64_t>(std::min(us, 3.6e9)));
      if (!q.failed) lat[q.side][q.route].push_back(q.latency_ms);
    }
  }
  // Pairs: requests 2j and 2j+1 of the schedule, one of each side, one route.
  std::vector<const PairedRequest*> by_seq;
  by_seq.reserve(requests.size());
  for (const auto& q : requests) {
    if (q.seq >= 0 && q.route < routes.size() && (q.side == 0 || q.side == 1))
      by_seq.push_back(&q);
  }
  std::sort(by_seq.begin(), by_seq.end(),
            [](const PairedRequest* a, const PairedRequest* b) { return a->seq < b->seq; });
  for (std::size_t i = 0; i + 1 < by_seq.size(); ++i) {
    const PairedRequest* a = by_seq[i];
    const PairedRequest* b = by_seq[i + 1];
    if (a->seq / 2 != b->seq / 2 || a->seq == b->seq || a->side == b->side ||
        a->route != b->route) {
      continue;
    }
    Pair p;
    p.side[a->side] = a;
    p.side[b->side] = b;
    pairs[a->route].push_back(p);
    ++i;
  }

  for (std::size_t r = 0; r < routes.size(); ++r) {
    PairedRouteVerdict& v = out[r];
    v.pairs = pairs[r].size();
    // Errors: pairs where one side alone failed.
    for (const auto& p : pairs[r]) {
      const bool fa = p.side[0]->failed, fb = p.side[1]->failed;
      if (fb && !fa) ++v.current_failed_only;
      if (fa && !fb) ++v.baseline_failed_only;
    }
    const std::uint64_t discordant_errors = v.current_failed_only + v.baseline_failed_only;
    if (discordant_errors > 0) {
      v.error_p_value = BinomialUpperTail(discordant_errors, v.current_failed_only, 0.5);
      v.errors_regressed = v.error_p_value < alpha;
    }
    for (auto& side : {&lat[0][r], &lat[1][r]}) std::sort(side->begin(), side->end());
    std::uint64_t latency_pairs = 0;
    for (const auto& p : pairs[r]) latency_pairs += !p.side[0]->failed && !p.side[1]->failed;
    if (latency_pairs < o.min_pairs) {
      v.judged = false;
      v.note = "too few request pairs answered by both versions to compare (" +
               std::to_string(latency_pairs) + "; " + std::to_string(o.min_pairs) + " needed)";
      continue;
    }
    {
      // Request by request: d = log B - log(A x (1 + tolerance) + slack),
      // Wilcoxon's signed-rank test that d is centred above 0 (it weighs how
      // much slower, not only whether: half again the power of counting).
      PairedQuantile c;
      c.check = "pairs";
      c.q = 0.5;
      c.baseline_ms = QuantileOf(lat[0][r], 0.5);
      c.current_ms = QuantileOf(lat[1][r], 0.5);
      std::vector<double> d;
      for (const auto& p : pairs[r]) {
        if (p.side[0]->failed || p.side[1]->failed) continue;
        ++c.pairs;
        const double grown = p.side[0]->latency_ms * (1 + o.tolerance) + o.slack_ms;
        const double b = std::max(p.side[1]->latency_ms, 1e-6);
        if (b > grown) {
          ++c.current_only;
        } else {
          ++c.baseline_only;
        }
        const double x = std::log(b) - std::log(grown);
        if (x != 0) d.push_back(x);
      }
      c.p_value = SignedRankUpperP(d);
      c.regressed = c.p_value < alpha;
      v.quantiles.push_back(c);
    }
    for (const double q : {0.95}) {
      PairedQuantile c;
      c.check = "p95";
      c.q = q;
      c.baseline_ms = QuantileOf(lat[0][r], q);
      c.current_ms = QuantileOf(lat[1][r], q);
      c.threshold_ms = c.baseline_ms * (1 + o.tolerance) + o.slack_ms;
      for (const auto& p : pairs[r]) {
        if (p.side[0]->failed || p.side[1]->failed) continue;
        ++c.pairs;
        const bool a = p.side[0]->latency_ms > c.baseline_ms;
        const bool b = p.side[1]->latency_ms > c.threshold_ms;
        if (b && !a) ++c.current_only;
        if (a && !b) ++c.baseline_only;
      }
      const std::uint64_t n = c.current_only + c.baseline_only;
      c.p_value = n ? BinomialUpperTail(n, c.current_only, 0.5) : 1.0;
      c.regressed = c.p_value < alpha;
      v.quantiles.push_back(c);
    }
  }
  return out;
}

bool Inconclusive(const std::vector<PairedRouteVerdict>& verdicts, double below) {
  bool suggestive = false;
  for (const auto& v : verdicts) {
    if (v.regressed()) return false;
    for (const auto& q : v.quantiles) suggestive = suggestive || q.p_value < below;
    suggestive = suggestive || (v.error_p_value < below && v.current_failed_only > 0);
  }
  return suggestive;
}

}  // namespace ps::load
