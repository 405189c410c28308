#include "load/regression.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace ps::load {

namespace {

// log(x!) - log(sqrt(2 pi x) (x/e)^x): what Stirling's formula leaves out,
// small and known to double precision without the cancellation that
// lgamma(n + 1) - lgamma(x + 1) - ... suffers once n is in the billions.
double StirlingError(double x) {
  if (x <= 15) {
    return std::lgamma(x + 1) - (x + 0.5) * std::log(x) + x - 0.5 * std::log(2 * M_PI);
  }
  constexpr double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188;
  const double xx = x * x;
  if (x > 500) return (s0 - s1 / xx) / x;
  if (x > 80) return (s0 - (s1 - s2 / xx) / xx) / x;
  if (x > 35) return (s0 - (s1 - (s2 - s3 / xx) / xx) / xx) / x;
  return (s0 - (s1 - (s2 - (s3 - s4 / xx) / xx) / xx) / xx) / x;
}

// x log(x / m) + m - x, by its series when x is near m (where the direct
// form cancels).
double Deviance(double x, double m) {
  if (std::fabs(x - m) < 0.1 * (x + m)) {
    double v = (x - m) / (x + m);
    double sum = (x - m) * v, e = 2 * x * v;
    v *= v;
    for (int j = 1; j < 1000; ++j) {
      e *= v;
      const double next = sum + e / (2 * j + 1);
      if (next == sum) return next;
      sum = next;
    }
    return sum;
  }
  return x * std::log(x / m) + m - x;
}

// log(a), given also 1 - a as exactly as the caller has it: whichever of the
// two is smaller carries the digits.
double LogOf(double a, double one_minus_a) {
  return a < 0.5 ? std::log(a) : std::log1p(-one_minus_a);
}

// log of P(X = x) for X ~ Binomial(n, p), 0 <= x <= n, 0 < p < 1, q = 1 - p:
// Loader's saddle-point form ("Fast and accurate computation of binomial
// probabilities", 2000), accurate for any n.
double LogBinomialTerm(double n, double x, double p, double q) {
  if (x == 0) return n * LogOf(q, p);
  if (x == n) return n * LogOf(p, q);
  const double lc = StirlingError(n) - StirlingError(x) - StirlingError(n - x) -
                    Deviance(x, n * p) - Deviance(n - x, n * q);
  return lc - 0.5 * (std::log(2 * M_PI) + std::log(x) + std::log1p(-x / n));
}

// P(X >= k) for k above the mean, where the terms only fall: each from the
// last by their ratio, relative to the first (no underflow), until they no
// longer matter. That is a few standard deviations of terms, whatever n is.
double TailAboveMean(std::uint64_t n, std::uint64_t k, double p, double q) {
  const double nn = static_cast<double>(n);
  double term = 1, sum = 1;
  for (std::uint64_t i = k; i < n; ++i) {
    const double x = static_cast<double>(i);
    term *= (nn - x) / (x + 1) * (p / q);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return std::min(1.0, std::exp(LogBinomialTerm(nn, static_cast<double>(k), p, q) + std::log(sum)));
}

// Past this standard deviation the terms that matter number in the millions:
// the normal approximation is then closer than the level it is compared with
// (its error falls as 1/sd) and takes no time.
constexpr double kExactSdLimit = 1e5;

}  // namespace

double BinomialUpperTail(std::uint64_t n, std::uint64_t k, double p) {
  if (k == 0) return 1;
  if (k > n) return 0;
  if (!(p > 0)) return 0;
  if (p >= 1) return 1;
  const double nn = static_cast<double>(n), kk = static_cast<double>(k);
  const double q = 1 - p, mean = nn * p, sd = std::sqrt(nn * p * q);
  if (sd > kExactSdLimit) {
    return 0.5 * std::erfc((kk - 0.5 - mean) / sd / std::sqrt(2.0));
  }
  // Summed from the side of k away from the mean. At or below it, that is
  // one minus P(X <= k - 1) = P(n - X >= n - k + 1), n - X ~ Binomial(n, q).
  if (kk > mean) return TailAboveMean(n, k, p, q);
  return std::clamp(1 - TailAboveMean(n, n - k + 1, q, p), 0.0, 1.0);
}

double ProportionIncreaseP(std::uint64_t k1, std::uint64_t n1, std::uint64_t k2, std::uint64_t n2) {
  if (n1 == 0 || n2 == 0) return 1;
  const double a = static_cast<double>(n1), b = static_cast<double>(n2);
  const double p1 = static_cast<double>(k1) / a, p2 = static_cast<double>(k2) / b;
  const double p = (static_cast<double>(k1) + static_cast<double>(k2)) / (a + b);
  const double se = std::sqrt(p * (1 - p) * (1 / a + 1 / b));
  if (se == 0) return p2 > p1 ? 0 : 1;
  return 0.5 * std::erfc((p2 - p1) / se / std::sqrt(2.0));
}

Json RouteSample::ToJson() const {
  return {
      {"route", route}, {"requests", requests}, {"failed", failed}, {"latency", latency.ToJson()}};
}

Result<RouteSample> RouteSample::FromJson(const Json& j) {
  if (!j.is_object() || !j.value("route", Json()).is_string() ||
      !j.value("requests", Json()).is_number_unsigned() ||
      !j.value("failed", Json()).is_number_unsigned() || !j.contains("latency")) {
    return problems::InvalidInput(
        "not a route measurement (route, requests, failed and latency are required)");
  }
  RouteSample s;
  s.route = j["route"].get<std::string>();
  s.requests = j["requests"].get<std::uint64_t>();
  s.failed = j["failed"].get<std::uint64_t>();
  PS_ASSIGN(s.latency, Histogram::FromJson(j["latency"]));
  if (s.failed > s.requests) return problems::InvalidInput("more failed requests than requests");
  return s;
}

Json QuantileCheck::ToJson() const {
  return {{"q", q},
          {"baseline_ms", baseline_ms},
          {"baseline_above", baseline_above},
          {"baseline_n", baseline_n},
          {"current_ms", current_ms},
          {"threshold_ms", threshold_ms},
          {"above", above},
          {"n", n},
          {"p_value", p_value},
          {"regressed", regressed}};
}

bool RouteVerdict::regressed() const {
  if (errors_regressed) return true;
  for (const auto& c : quantiles) {
    if (c.regressed) return true;
  }
  return false;
}

std::string RouteVerdict::Reason() const {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : "; ") + s; };
  for (const auto& c : quantiles) {
    if (!c.regressed) continue;
    const std::string name =
        c.q == 0.5 ? "median" : "p" + std::to_string(static_cast<int>(std::lround(c.q * 100)));
    std::ostringstream p;
    p.precision(2);
    p << c.p_value;
    add(name + " " + FormatMs(c.current_ms) + " vs baseline " + FormatMs(c.baseline_ms) + ": " +
        std::to_string(c.above) + " of " + std::to_string(c.n) + " requests above " +
        FormatMs(c.threshold_ms) + " against " + std::to_string(c.baseline_above) + " of " +
        std::to_string(c.baseline_n) + " above " + FormatMs(c.baseline_ms) + " (p = " + p.str() +
        ")");
  }
  if (errors_regressed) {
    std::ostringstream s;
    s.precision(2);
    s << std::fixed << "errors " << current_error_ratio * 100 << "% vs baseline "
      << baseline_error_ratio * 100 << "%";
    add(s.str());
  }
  return route + ": " + out;
}

Json RouteVerdict::ToJson() const {
  Json qs = Json::array();
  for (const auto& c : quantiles) qs.push_back(c.ToJson());
  Json j = {{"route", route},
            {"judged", judged},
            {"regressed", regressed()},
            {"quantiles", qs},
            {"errors",
             {{"baseline_ratio", baseline_error_ratio},
              {"current_ratio", current_error_ratio},
              {"p_value", error_p_value},
              {"regressed", errors_regressed}}}};
  if (!note.empty()) j["note"] = note;
  if (regressed()) j["reason"] = Reason();
  return j;
}

RouteVerdict CompareRoute(const RouteSample& baseline, const RouteSample& current,
                          const RegressionOptions& o, int checks) {
  RouteVerdict v;
  v.route = current.route;
  checks = std::max(checks, 1);
  const double alpha = o.alpha / checks;
  v.baseline_error_ratio = baseline.requests ? static_cast<double>(baseline.failed) /
                                                   static_cast<double>(baseline.requests)
                                             : 0;
  v.current_error_ratio =
      current.requests ? static_cast<double>(current.failed) / static_cast<double>(current.requests)
                       : 0;
  if (baseline.latency.count() < o.min_requests || current.latency.count() < o.min_requests) {
    v.judged = false;
    v.note = "too few answered requests to compare (" + std::to_string(baseline.latency.count()) +
             " in the baseline, " + std::to_string(current.latency.count()) + " now; " +
             std::to_string(o.min_requests) + " needed)";
  } else {
    for (const double q : {0.5, 0.95}) {
      QuantileCheck c;
      c.q = q;
      c.n = current.latency.count();
      c.baseline_ms = baseline.latency.QuantileMs(q);
      c.baseline_n = baseline.latency.count();
      c.baseline_above = baseline.latency.CountAboveMs(c.baseline_ms);
      c.current_ms = current.latency.QuantileMs(q);
      c.threshold_ms = c.baseline_ms * (1 + o.tolerance) + o.slack_ms;
      c.above = current.latency.CountAboveMs(c.threshold_ms);
      c.p_value = ProportionIncreaseP(c.baseline_above, c.baseline_n, c.above, c.n);
      c.regressed = c.p_value < alpha;
      v.quantiles.push_back(c);
    }
  }
  if (current.requests >= o.min_requests) {
    const double p0 = std::max(v.baseline_error_ratio, o.error_floor);
    v.error_p_value = BinomialUpperTail(current.requests, current.failed, p0);
    v.errors_regressed = current.failed > 0 && v.error_p_value < alpha;
  }
  return v;
}

}  // namespace ps::load
