#include "engine/worker_pool.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cstdlib>

namespace ps::engine {

WorkerPool::WorkerPool(Engine& engine, int workers, std::string id)
    : engine_(engine), count_(std::max(1, workers)), id_(std::move(id)) {}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  stop_ = false;
  for (int i = 0; i < count_; ++i) {
    threads_.emplace_back([this, i] { Loop(id_ + "/" + std::to_string(i)); });
  }
}

void WorkerPool::Stop() {
  stop_ = true;
  engine_.Notify();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void WorkerPool::Loop(const std::string& worker) {
  const Millis poll = engine_.config().engine.poll;
  while (!stop_) {
    auto ran = engine_.RunOnce(worker);
    if (stop_) break;
    if (!ran.ok()) {
      // A failure that retrying will not cure (a full disk, a read-only or
      // damaged state); busy, lost leases and I/O hiccups are retried.
      if (!ran.problem().retryable && !ran.problem().Is("lease-lost")) {
        std::lock_guard lock(failure_mu_);
        if (!failure_) failure_ = ran.problem();
      }
      // The store was busy or failed: back off one poll and try again.
      engine_.WaitForWork(poll);
      continue;
    }
    if (!*ran) engine_.WaitForWork(poll);
  }
}

std::optional<Problem> WorkerPool::Failure() const {
  std::lock_guard lock(failure_mu_);
  return failure_;
}

std::string ProcessWorkerId() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

bool LocalOwnerAlive(const std::string& owner) {
  // owner: "host:pid" or "host:pid/n"
  const auto colon = owner.rfind(':');
  if (colon == std::string::npos) return true;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  if (owner.substr(0, colon) != host) return true;
  const std::string rest = owner.substr(colon + 1);
  char* end = nullptr;
  const long pid = std::strtol(rest.c_str(), &end, 10);
  if (end == rest.c_str() || pid <= 0) return true;
  if (::kill(static_cast<pid_t>(pid), 0) == 0) return true;
  return errno == EPERM;  // exists, owned by someone else
}

}  // namespace ps::engine
