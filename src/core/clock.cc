#include "core/clock.h"

#include <fmt/format.h>
#include <sys/random.h>

#include <cctype>
#include <ctime>
#include <thread>

namespace ps {

Millis SystemClock::Now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Millis SystemClock::Monotonic() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void SystemClock::SleepFor(Millis ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

Millis SimClock::Now() {
  std::lock_guard lock(mu_);
  return now_;
}

void SimClock::Advance(Millis ms) {
  std::lock_guard lock(mu_);
  if (ms > 0) now_ += ms;
}

std::uint64_t Random::Uniform(std::uint64_t bound) {
  if (bound <= 1) return 0;
  // Rejection sampling keeps the distribution exactly uniform.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  std::uint64_t x;
  do {
    x = Next();
  } while (x >= limit);
  return x % bound;
}

std::uint64_t SeededRandom::Next() {
  std::lock_guard lock(mu_);
  return gen_();
}

std::uint64_t SystemRandom::Next() {
  std::uint64_t x = 0;
  while (getrandom(&x, sizeof x, 0) != static_cast<ssize_t>(sizeof x)) {
  }
  return x;
}

SystemRandom& SystemRandom::Instance() {
  static SystemRandom r;
  return r;
}

std::string FormatTime(Millis ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

Millis ParseDuration(std::string_view text) {
  if (text.empty()) return -1;
  Millis total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
    Millis n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i] - '0');
      if (n > 1'000'000'000'000) return -1;
      ++i;
    }
    std::size_t j = i;
    while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
    std::string_view unit = text.substr(i, j - i);
    Millis mult;
    if (unit == "ms") {
      mult = 1;
    } else if (unit == "s") {
      mult = 1000;
    } else if (unit == "m") {
      mult = 60'000;
    } else if (unit == "h") {
      mult = 3'600'000;
    } else if (unit == "d") {
      mult = 86'400'000;
    } else {
      return -1;
    }
    total += n * mult;
    if (total > 100LL * 365 * 86'400'000) return -1;
    i = j;
  }
  return total;
}

std::string FormatDuration(Millis ms) {
  if (ms != 0 && ms % 3'600'000 == 0) return fmt::format("{}h", ms / 3'600'000);
  if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
  if (ms != 0 && ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

}  // namespace ps
