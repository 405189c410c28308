// Time and randomness are injected so that retries, leases, timeouts and
// backoff can be tested in simulated time with fixed seeds.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace ps {

// Milliseconds since the Unix epoch: the unit of every timestamp in the store.
using Millis = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in ms since the epoch.
  virtual Millis Now() = 0;
  // Blocks the calling thread for up to `ms` (simulated clocks may return at
  // once after advancing time).
  virtual void SleepFor(Millis ms) = 0;
  // Milliseconds from an arbitrary origin that never jumps (for durations:
  // a release's pauses and timings); simulated clocks return Now().
  virtual Millis Monotonic() { return Now(); }
};

class SystemClock final : public Clock {
 public:
  Millis Now() override;
  Millis Monotonic() override;
  void SleepFor(Millis ms) override;
  static SystemClock& Instance();
};

// Simulated time: Now() moves only when Advance() or SleepFor() is called.
// Thread-safe.
class SimClock final : public Clock {
 public:
  explicit SimClock(Millis start = 1'700'000'000'000) : now_(start) {}
  Millis Now() override;
  void SleepFor(Millis ms) override { Advance(ms); }
  void Advance(Millis ms);

 private:
  std::mutex mu_;
  Millis now_;
};

// Random numbers; thread-safe. Seeded for tests, from the OS otherwise.
class Random {
 public:
  virtual ~Random() = default;
  virtual std::uint64_t Next() = 0;
  // Uniform in [0, bound); bound > 0.
  std::uint64_t Uniform(std::uint64_t bound);
};

class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed) : gen_(seed) {}
  std::uint64_t Next() override;

 private:
  std::mutex mu_;
  std::mt19937_64 gen_;
};

class SystemRandom final : public Random {
 public:
  std::uint64_t Next() override;
  static SystemRandom& Instance();
};

// ISO 8601 UTC with milliseconds: 2026-11-25T22:57:05.123Z.
std::string FormatTime(Millis ms);

// Parses a duration such as "250ms", "10s", "5m", "2h", "1h30m" into ms.
// Returns -1 if the text is not a duration.
Millis ParseDuration(std::string_view text);
// The shortest exact form of a duration: 1500 -> "1500ms", 60000 -> "1m".
std::string FormatDuration(Millis ms);

}  // namespace ps
