// Fan-out of run events to live streams. One thread reads the store's
// outbox after a cursor (all tenants: a [system] read) and hands each event
// to the subscribers of its run, so 5,000 streams cost one query per poll,
// not 5,000. Subscribers get every event committed after they subscribed;
// what came before, they read from the store themselves (EventsAfter), and
// drop duplicates by sequence number: subscribe first, then catch up, and
// nothing falls between the two.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "store/store.h"

namespace ps::api {

// An event as streams send it: rendered once for all of them.
struct HubEvent {
  store::Event event;
  std::string sse;  // "id: SEQ\nevent: NAME\ndata: JSON\n\n"
};
// The SSE text of one event (one data line: the JSON has no raw newlines).
std::string RenderSse(const store::Event& e);

class Hub {
 public:
  // Called on the hub's thread; must not block (post to your own executor).
  using Deliver = std::function<void(const std::shared_ptr<const HubEvent>&)>;

  Hub(store::Store& store, Millis poll_ms = 5);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Starts after the newest event in the store.
  Status Start();
  void Stop();
  // Look now instead of at the next poll (after this process wrote events).
  void Poke();

  // Called with every event of every run, on the hub's thread (metrics).
  // Set before Start.
  void SetObserver(std::function<void(const store::Event&)> observe) {
    observe_ = std::move(observe);
  }

  std::uint64_t Subscribe(const std::string& run_id, Deliver deliver);
  void Unsubscribe(std::uint64_t id);
  std::int64_t cursor() const { return cursor_; }
  std::size_t subscribers() const;

 private:
  void Loop();
  Status PollOnce();

  store::Store& store_;
  Millis poll_ms_;
  std::atomic<std::int64_t> cursor_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool poked_ = false;
  std::uint64_t next_id_ = 1;
  std::multimap<std::string, std::pair<std::uint64_t, Deliver>> by_run_;
  std::map<std::uint64_t, std::string> runs_of_;
  std::function<void(const store::Event&)> observe_;
  std::thread thread_;
};

}  // namespace ps::api
