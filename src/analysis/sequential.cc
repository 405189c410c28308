#include "analysis/sequential.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ps::analysis {

double Mixture::LogRatio() const {
  if (llr_.empty()) return 0;
  const double m = *std::max_element(llr_.begin(), llr_.end());
  double sum = 0;
  for (double v : llr_) sum += std::exp(v - m);
  return m + std::log(sum / static_cast<double>(llr_.size()));
}

ErrorTest::ErrorTest(double alpha, std::vector<double> ratios)
    : ratios_(std::move(ratios)), mix_(ratios_.size()), threshold_(std::log(1.0 / alpha)) {}

void ErrorTest::AddError(bool canary, double share) {
  share = std::clamp(share, 1e-6, 1 - 1e-6);
  (canary ? canary_errors_ : stable_errors_) += 1;
  for (std::size_t i = 0; i < ratios_.size(); ++i) {
    const double r = ratios_[i];
    const double q = r * share / (r * share + 1 - share);
    mix_.Add(i, canary ? std::log(q / share) : std::log((1 - q) / (1 - share)));
  }
}

LatencyTest::LatencyTest(double alpha, double quantile, std::size_t window, std::size_t min_stable,
                         std::vector<double> alternatives, double min_delta_ms)
    : quantile_(quantile),
      window_(window),
      min_stable_(min_stable),
      min_delta_ms_(min_delta_ms),
      alts_(std::move(alternatives)),
      mix_(alts_.size()),
      threshold_(std::log(1.0 / alpha)) {}

void LatencyTest::AddStable(double latency_ms) {
  stable_.push_back(latency_ms);
  sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), latency_ms), latency_ms);
  if (stable_.size() > window_) {
    sorted_.erase(std::lower_bound(sorted_.begin(), sorted_.end(), stable_.front()));
    stable_.pop_front();
  }
}

double LatencyTest::StableQuantile() const {
  if (stable_.size() < min_stable_) return std::numeric_limits<double>::quiet_NaN();
  const auto at =
      static_cast<std::size_t>(std::ceil(quantile_ * static_cast<double>(sorted_.size()))) - 1;
  return sorted_[std::min(at, sorted_.size() - 1)];
}

void LatencyTest::AddCanary(double latency_ms) {
  const double q = StableQuantile();
  if (std::isnan(q)) return;  // no reference yet: the request is not counted
  const bool slow = latency_ms > q + min_delta_ms_;
  ++counted_;
  slow_ += slow;
  // Under no regression a canary request is slower than stable's p95 with
  // probability 1 - quantile (ties count as not slower, which only helps).
  const double p0 = 1 - quantile_;
  for (std::size_t i = 0; i < alts_.size(); ++i) {
    const double p1 = alts_[i];
    mix_.Add(i, slow ? std::log(p1 / p0) : std::log((1 - p1) / (1 - p0)));
  }
}

RateTest::RateTest(double p0, double alpha)
    : p0_(std::clamp(p0, 1e-6, 0.9)), mix_(0), threshold_(std::log(1.0 / alpha)) {
  for (double m : {1.5, 2.0, 3.0, 5.0, 10.0}) {
    if (p0_ * m < 0.999) alts_.push_back(p0_ * m);
  }
  if (alts_.empty()) alts_.push_back((p0_ + 1) / 2);
  mix_ = Mixture(alts_.size());
}

void RateTest::Add(bool event) {
  ++n_;
  k_ += event;
  for (std::size_t i = 0; i < alts_.size(); ++i) {
    const double p1 = alts_[i];
    mix_.Add(i, event ? std::log(p1 / p0_) : std::log((1 - p1) / (1 - p0_)));
  }
}

const char* ToString(Verdict v) {
  switch (v) {
    case Verdict::kContinue:
      return "continue";
    case Verdict::kRollback:
      return "rollback";
    case Verdict::kPromotable:
      return "promotable";
  }
  return "continue";
}

CanaryAnalysis::CanaryAnalysis(AnalysisConfig config)
    : config_(config),
      errors_(config.alpha / static_cast<double>(2 + config.thresholds.size())),
      latency_(config.alpha / static_cast<double>(2 + config.thresholds.size())) {
  const double each = config.alpha / static_cast<double>(2 + config.thresholds.size());
  for (const auto& t : config_.thresholds) limits_.emplace_back(t.max_rate, each);
}

namespace {

// Evidence that the canary's error rate is below p0: "p >= p0" tested
// against a mixture of lower rates on its n requests with k failures. An
// always-valid test (it may be read after every request) at level 5%.
bool BelowRate(double n, double k, double p0) {
  double m = -std::numeric_limits<double>::infinity();
  double llr[5];
  int i = 0;
  for (double ratio : {1.25, 1.5, 2.0, 4.0, 10.0}) {
    const double p1 = p0 / ratio;
    llr[i] = k * std::log(p1 / p0) + (n - k) * std::log((1 - p1) / (1 - p0));
    m = std::max(m, llr[i]);
    ++i;
  }
  double sum = 0;
  for (double v : llr) sum += std::exp(v - m);
  return m + std::log(sum / 5.0) >= std::log(1.0 / 0.05);
}

}  // namespace

// The smallest rate on a grid (0.01% to 50%) that the record bounds the
// canary's error rate by.
double CanaryAnalysis::ErrorRateUpperBound() const {
  const double n = static_cast<double>(canary_), k = static_cast<double>(canary_failed_);
  for (double p0 = 0.0001; p0 <= 0.5; p0 *= 1.1) {
    if (BelowRate(n, k, p0)) return p0;
  }
  return 1.0;
}

Verdict CanaryAnalysis::Observe(bool canary, bool failed, double latency_ms, double share) {
  if (verdict_ == Verdict::kRollback) return verdict_;  // a rollback is final
  if (canary) {
    ++canary_;
    canary_failed_ += failed;
    if (!failed) latency_.AddCanary(latency_ms);
  } else {
    ++stable_;
    stable_failed_ += failed;
    if (!failed) latency_.AddStable(latency_ms);
  }
  if (failed) errors_.AddError(canary, share);
  std::string over;
  if (canary) {
    for (std::size_t i = 0; i < limits_.size(); ++i) {
      const Threshold& t = config_.thresholds[i];
      if (t.latency_ms > 0) {
        if (!failed) limits_[i].Add(latency_ms > t.latency_ms);
      } else {
        limits_[i].Add(failed);
      }
      if (over.empty() && limits_[i].Rejected()) over = t.name;
    }
  }
  if (errors_.Rejected()) {
    verdict_ = Verdict::kRollback;
    reason_ = "the canary fails more often than stable";
  } else if (!over.empty()) {
    verdict_ = Verdict::kRollback;
    reason_ = "the canary is over its threshold " + over;
  } else if (latency_.Rejected()) {
    verdict_ = Verdict::kRollback;
    reason_ = "the canary is slower than stable's p95 more often than 5% of the time";
  } else if (canary_ >= config_.min_canary_requests &&
             BelowRate(static_cast<double>(canary_), static_cast<double>(canary_failed_),
                       config_.max_canary_error_rate)) {
    verdict_ = Verdict::kPromotable;
    reason_ = "enough canary requests, error rate bounded below the tolerance";
  } else {
    verdict_ = Verdict::kContinue;
    reason_.clear();
  }
  return verdict_;
}

Json CanaryAnalysis::Stats() const {
  const double q = latency_.StableQuantile();
  return {{"verdict", ToString(verdict_)},
          {"reason", reason_},
          {"requests", {{"canary", canary_}, {"stable", stable_}}},
          {"errors",
           {{"canary", canary_failed_},
            {"stable", stable_failed_},
            {"log_likelihood_ratio", errors_.LogRatio()},
            {"threshold",
             std::log(static_cast<double>(2 + config_.thresholds.size()) / config_.alpha)}}},
          {"latency",
           {{"stable_p95_ms", std::isnan(q) ? Json(nullptr) : Json(q)},
            {"canary_counted", latency_.canary_counted()},
            {"canary_slower_than_p95", latency_.canary_slow()},
            {"log_likelihood_ratio", latency_.LogRatio()}}},
          {"canary_error_rate_upper_bound", ErrorRateUpperBound()},
          {"thresholds",
           [&] {
             Json a = Json::array();
             for (std::size_t i = 0; i < limits_.size(); ++i) {
               a.push_back({{"name", config_.thresholds[i].name},
                            {"requests", limits_[i].n()},
                            {"over", limits_[i].k()},
                            {"log_likelihood_ratio", limits_[i].LogRatio()}});
             }
             return a;
           }()},
          {"alpha", config_.alpha}};
}

}  // namespace ps::analysis
