// Small data parallelism: fn(i) for every i of a range on a few threads, the
// caller being one of them. For system-call-bound loops (stat, read) where the
// results land in a slot per index and are used in order afterwards, so that
// output never depends on the schedule.
#pragma once

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace ps {

// Threads worth using for such loops (at most `cap`): the CPUs this process
// may run on (its affinity: `taskset`, a container's cpuset), not all the
// machine has — two threads on one allowed core only take turns. Asked once.
inline unsigned IoThreads(unsigned cap = 4) {
  static const unsigned cores = [] {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
      return static_cast<unsigned>(CPU_COUNT(&set));
    return std::thread::hardware_concurrency();
  }();
  return std::clamp(cores, 1U, cap);
}

// Calls fn(i) for i in [begin, end) on up to `threads` threads. Ranges shorter
// than `min_per_thread` per extra thread run on the caller alone: starting a
// thread costs tens of microseconds.
template <typename Fn>
void ParallelFor(std::size_t begin, std::size_t end, unsigned threads, Fn&& fn,
                 std::size_t min_per_thread = 64) {
  const std::size_t n = end > begin ? end - begin : 0;
  const auto useful = static_cast<unsigned>(std::min<std::size_t>(threads, n / min_per_thread));
  std::atomic<std::size_t> next{begin};
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < end;) fn(i);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < useful; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

}  // namespace ps
