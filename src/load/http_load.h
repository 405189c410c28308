// An HTTP/1.1 load generator: keep-alive connections multiplexed on a few
// epoll threads. Open loop by default: requests sent at a fixed arrival rate
// (the schedule does not wait for slow answers), latency measured from when
// each request was due, not when it was sent — the correction for
// coordinated omission that wrk2 made well known. Closed loop on request
// (wrk's model). Latency in log-linear histograms, per route. The release
// driver, the performance gate and `prodsprint load` use it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/json.h"
#include "load/histogram.h"
#include "load/regression.h"

namespace ps::load {

// Incremental parser of one HTTP/1.1 response (status line, headers, body
// by Content-Length, chunked encoding, or until close). Untrusted bytes:
// bounded, never throws.
class ResponseParser {
 public:
  enum class State { kNeedMore, kDone, kError };
  // Consumes bytes; on kDone, `consumed` says how many belonged to this
  // response (the rest start the next one).
  State Feed(std::string_view data, std::size_t& consumed);
  // The peer closed: completes a response delimited by the close.
  State Close();
  // Ready for the next response; buffers keep their capacity (no
  // allocation per response on a keep-alive connection).
  void Reset();
  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }
  const std::string& error() const { return error_; }

 private:
  State Fail(std::string why);
  enum class Phase { kHead, kBody, kChunkSize, kChunkData, kChunkCrlf, kTrailers, kUntilClose };
  Phase phase_ = Phase::kHead;
  std::string head_;  // header bytes so far (bounded)
  std::string line_;  // a chunk-size or trailer line so far
  std::uint64_t remaining_ = 0;
  int status_ = 0;
  bool keep_alive_ = true;
  std::string error_;
};

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::vector<std::string> paths = {"/"};  // requested in turn; each is a route in the summary
  // Open loop (the default): requests are due at `rate` per second whatever
  // the answers do, and latency counts from when each was due. Closed loop:
  // each connection sends its next request as soon as the last is answered
  // (wrk's model; `rate` is ignored and latency is the service time).
  bool closed_loop = false;
  double rate = 100;  // requests per second, all threads together
  int connections = 16;
  int threads = 1;               // connections are spread over these event loops
  std::int64_t duration_ms = 0;  // 0: until Stop()
  std::int64_t warmup_ms = 0;    // requests due before this are sent but not counted
  std::int64_t timeout_ms = 5000;
  // Several servers measured side by side under the same conditions (a
  // baseline and a candidate): when set, `port` is ignored and the schedule
  // goes to them in blocks of one request each, the order reversed every
  // other block (A B, B A, A B...) so that neither is always first, each
  // block on one path. `connections` is then per target.
  std::vector<int> targets;
};

struct Outcome {
  std::int64_t due_us = 0;  // when the schedule said to send (steady clock, us)
  double latency_ms = 0;    // from due to the end of the response
  double service_ms = 0;    // from the actual send to the end
  int status = 0;           // 0 when no response
  std::string error;        // "connect", "timeout", "reset", "protocol" or empty
  std::size_t route = 0;    // index into LoadOptions::paths
  std::size_t target = 0;   // index into LoadOptions::targets (0 with one server)
  std::int64_t seq = -1;    // the request's place in the open-loop schedule (-1: closed loop)
  bool failed() const { return status == 0 || status >= 500; }
};

struct Summary {
  std::int64_t sent = 0, completed = 0, failed = 0, errors = 0;
  std::int64_t status_2xx = 0, status_3xx = 0, status_4xx = 0, status_5xx = 0;
  double duration_s = 0, achieved_rate = 0;
  double p50_ms = 0, p90_ms = 0, p95_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0, mean_ms = 0;
  bool closed_loop = false;
  Histogram latency;                // every counted request
  std::vector<RouteSample> routes;  // per path, in the order of LoadOptions::paths
  Json ToJson() const;
};

// Latency percentiles of a histogram as JSON: p50, p90, p95, p99, p99.9, max, mean.
Json PercentilesJson(const Histogram& h);

class LoadGenerator {
 public:
  explicit LoadGenerator(LoadOptions options);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;
  // Starts the threads; `on_outcome` (optional) runs on them after each
  // counted request (concurrently when threads > 1).
  void Start(std::function<void(const Outcome&)> on_outcome = {});
  // Stops sending; requests in flight are abandoned (not counted as failed).
  void Stop();
  // Blocks until the duration has passed (or Stop()).
  void Wait();
  Summary Summarize() const;

 private:
  struct Stats {
    mutable std::mutex mu;
    Summary s;  // counts, latency, routes
  };
  void Loop(int thread_index);

  LoadOptions options_;
  std::function<void(const Outcome&)> on_outcome_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<Stats>> stats_;  // one per thread
  std::atomic<std::int64_t> start_us_{0};
  std::atomic<std::int64_t> end_us_{0};  // set when the last thread ends
};

}  // namespace ps::load
