#include "api/metrics.h"

#include <sstream>
#include <tuple>

namespace ps::api {

namespace {

// Label values escaped as the text format wants: backslash, quote, newline.
std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  std::ostringstream o;
  o.precision(10);
  o << v;
  return o.str();
}

}  // namespace

void Metrics::Observe(const std::string& method, const std::string& route, int status,
                      double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{method, route, status}];
  Histogram& h = latency_[{method, route}];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::ObserveStage(const std::string& stage, double seconds) {
  std::lock_guard lock(mu_);
  Histogram& h = stages_[stage];
  for (std::size_t i = 0; i < kStageBuckets.size(); ++i) {
    if (seconds <= kStageBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::AddGauge(const std::string& name, const std::string& help, Sampler sample) {
  std::lock_guard lock(mu_);
  gauges_.push_back({name, help, std::move(sample)});
}

std::string Metrics::Render() const {
  std::ostringstream o;
  std::vector<Gauge> gauges;
  {
    std::lock_guard lock(mu_);
    o << "# HELP prodsprint_http_requests_total HTTP requests answered, by route and status.\n"
         "# TYPE prodsprint_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      const auto& [method, route, status] = key;
      o << "prodsprint_http_requests_total{method=\"" << Escape(method) << "\",route=\""
        << Escape(route) << "\",status=\"" << status << "\"} " << n << "\n";
    }
    o << "# HELP prodsprint_http_request_duration_seconds Time to answer, by route.\n"
         "# TYPE prodsprint_http_request_duration_seconds histogram\n";
    for (const auto& [key, h] : latency_) {
      const std::string labels =
          "method=\"" + Escape(key.first) + "\",route=\"" + Escape(key.second) + "\"";
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        o << "prodsprint_http_request_duration_seconds_bucket{" << labels << ",le=\""
          << Number(kBuckets[i]) << "\"} " << h.counts[i] << "\n";
      }
      o << "prodsprint_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} "
        << h.count << "\n";
      o << "prodsprint_http_request_duration_seconds_sum{" << labels << "} " << Number(h.sum)
        << "\n";
      o << "prodsprint_http_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
    }
    o << "# HELP prodsprint_stage_duration_seconds Time a stage attempt took, by stage.\n"
         "# TYPE prodsprint_stage_duration_seconds histogram\n";
    for (const auto& [stage, h] : stages_) {
      const std::string labels = "stage=\"" + Escape(stage) + "\"";
      for (std::size_t i = 0; i < kStageBuckets.size(); ++i) {
        o << "prodsprint_stage_duration_seconds_bucket{" << labels << ",le=\""
          << Number(kStageBuckets[i]) << "\"} " << h.counts[i] << "\n";
      }
      o << "prodsprint_stage_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count
        << "\n";
      o << "prodsprint_stage_duration_seconds_sum{" << labels << "} " << Number(h.sum) << "\n";
      o << "prodsprint_stage_duration_seconds_count{" << labels << "} " << h.count << "\n";
    }
    gauges = gauges_;
  }
  o << "# HELP prodsprint_sse_open_streams Event streams open now.\n"
       "# TYPE prodsprint_sse_open_streams gauge\n"
       "prodsprint_sse_open_streams "
    << open_streams_.load() << "\n";
  // Sampled outside the lock: a sampler may read the store.
  for (const auto& g : gauges) {
    o << "# HELP " << g.name << " " << g.help << "\n# TYPE " << g.name << " gauge\n";
    for (const auto& [labels, v] : g.sample()) {
      o << g.name << (labels.empty() ? "" : "{" + labels + "}") << " " << Number(v) << "\n";
    }
  }
  return o.str();
}

}  // namespace ps::api
