// The server's metrics in the Prometheus text format (0.0.4): requests by
// route and status, latency histograms by route, open event streams, and
// whatever gauges the server samples when scraped (runs by state, queue
// depth). Written by hand: a few counters need no library.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ps::api {

class Metrics {
 public:
  // One request answered: its route's pattern ("" when none matched).
  void Observe(const std::string& method, const std::string& route, int status, double seconds);
  // A stage attempt finished (stage.done), taking `seconds`.
  void ObserveStage(const std::string& stage, double seconds);
  void StreamOpened() { ++open_streams_; }
  void StreamClosed() { --open_streams_; }
  long OpenStreams() const { return open_streams_; }
  // Gauges sampled at scrape time: name -> (help, samples of labels -> value).
  using Sampler = std::function<std::vector<std::pair<std::string, double>>()>;
  void AddGauge(const std::string& name, const std::string& help, Sampler sample);
  // The exposition text.
  std::string Render() const;

  static constexpr std::array<double, 10> kStageBuckets = {0.1, 0.5, 1,   5,    10,
                                                           30,  60,  300, 1800, 7200};
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1,    2.5,   10};

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;
  std::map<std::string, Histogram> stages_;
  std::atomic<long> open_streams_{0};
  struct Gauge {
    std::string name, help;
    Sampler sample;
  };
  std::vector<Gauge> gauges_;
};

}  // namespace ps::api
