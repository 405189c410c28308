#include "api/hub.h"

#include <vector>

#include "store/model_json.h"

namespace ps::api {

std::string RenderSse(const store::Event& e) {
  return "id: " + std::to_string(e.seq) + "\nevent: " + e.name +
         "\ndata: " + Dump(store::ToJson(e)) + "\n\n";
}

Hub::Hub(store::Store& store, Millis poll_ms) : store_(store), poll_ms_(poll_ms) {}

Hub::~Hub() { Stop(); }

Status Hub::Start() {
  // From now on: streams catch up on the past from the store.
  std::int64_t newest = 0;
  for (;;) {
    PS_ASSIGN(auto page, store::ReadValue<std::vector<store::Event>>(store_, [&](store::Tx& tx) {
                return tx.ListAllEvents(newest, 10'000);
              }));
    if (page.empty()) break;
    newest = page.back().seq;
  }
  cursor_ = newest;
  thread_ = std::thread([this] { Loop(); });
  return Ok();
}

void Hub::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Hub::Poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

std::uint64_t Hub::Subscribe(const std::string& run_id, Deliver deliver) {
  std::lock_guard lock(mu_);
  const std::uint64_t id = next_id_++;
  by_run_.emplace(run_id, std::make_pair(id, std::move(deliver)));
  runs_of_[id] = run_id;
  return id;
}

void Hub::Unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = runs_of_.find(id);
  if (it == runs_of_.end()) return;
  auto [a, b] = by_run_.equal_range(it->second);
  for (auto i = a; i != b; ++i) {
    if (i->second.first == id) {
      by_run_.erase(i);
      break;
    }
  }
  runs_of_.erase(it);
}

std::size_t Hub::subscribers() const {
  std::lock_guard lock(mu_);
  return runs_of_.size();
}

Status Hub::PollOnce() {
  for (;;) {
    const std::int64_t after = cursor_;
    PS_ASSIGN(auto page, store::ReadValue<std::vector<store::Event>>(
                             store_, [&](store::Tx& tx) { return tx.ListAllEvents(after, 1000); }));
    if (page.empty()) return Ok();
    if (observe_) {
      for (const auto& e : page) observe_(e);
    }
    {
      // Delivering under the lock keeps a subscriber from being removed
      // (and its callback's target freed) while it is called; callbacks
      // only post, so this is short.
      std::lock_guard lock(mu_);
      for (const auto& e : page) {
        auto [a, b] = by_run_.equal_range(e.run_id);
        if (a == b) continue;
        auto shared = std::make_shared<const HubEvent>(HubEvent{e, RenderSse(e)});
        for (auto i = a; i != b; ++i) i->second.second(shared);
      }
    }
    cursor_ = page.back().seq;
    if (page.size() < 1000) return Ok();
  }
}

void Hub::Loop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(poll_ms_), [&] { return stop_ || poked_; });
      if (stop_) return;
      poked_ = false;
    }
    // A store error (busy, locked) is tried again at the next poll.
    (void)PollOnce();
  }
}

}  // namespace ps::api
