// Worker threads that serve an Engine until stopped. Each worker loops: reap
// expired leases, claim a ready stage, run it; when idle it sleeps until a
// local commit makes work ready, the next retry's backoff ends, or the poll
// interval passes (work submitted by other processes).
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"

namespace ps::engine {

class WorkerPool {
 public:
  // `id` names this process's workers: "<id>/<n>".
  WorkerPool(Engine& engine, int workers, std::string id);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Start();
  // Asks workers to stop after their current stage, and joins them.
  void Stop();
  // The first failure of the store a worker could not get past (a full
  // disk, a read-only or damaged state: not a busy one, which passes): the
  // run cannot record its progress, and whoever drives it must say so
  // rather than wait.
  std::optional<Problem> Failure() const;

 private:
  void Loop(const std::string& worker);

  Engine& engine_;
  int count_;
  std::string id_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  mutable std::mutex failure_mu_;
  std::optional<Problem> failure_;
};

// A worker id unique to this process: host:pid.
std::string ProcessWorkerId();

// For EngineDeps::owner_alive: a worker of this host is alive while its
// process exists; workers of other hosts are presumed alive (their leases
// expire if not).
bool LocalOwnerAlive(const std::string& owner);

}  // namespace ps::engine
