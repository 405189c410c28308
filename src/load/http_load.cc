#include "load/http_load.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>

#include "core/net.h"

namespace ps::load {

namespace {
constexpr std::size_t kMaxHead = 64 * 1024;
constexpr std::size_t kMaxLine = 4096;

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (Lower(a[i]) != Lower(b[i])) return false;
  return true;
}
bool IContains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (IEquals(hay.substr(i, needle.size()), needle)) return true;
  return false;
}
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}
}  // namespace

ResponseParser::State ResponseParser::Fail(std::string why) {
  error_ = std::move(why);
  return State::kError;
}

ResponseParser::State ResponseParser::Feed(std::string_view data, std::size_t& consumed) {
  consumed = 0;
  if (!error_.empty()) return State::kError;
  std::size_t i = 0;
  while (true) {
    switch (phase_) {
      case Phase::kHead: {
        std::string_view head;
        // The usual case: the whole head in this read, parsed where it lies.
        if (head_.empty()) {
          const std::string_view rest = data.substr(i, std::min(data.size() - i, kMaxHead + 4));
          const auto end = rest.find("\r\n\r\n");
          if (end != std::string_view::npos) {
            head = rest.substr(0, end);
            i += end + 4;
          }
        }
        if (head.data() == nullptr) {
          const std::size_t before = head_.size();
          const std::size_t take = std::min(data.size() - i, kMaxHead + 4 - head_.size());
          head_.append(data.substr(i, take));
          // Search from a little before the old end: the blank line may straddle.
          const std::size_t from = before >= 3 ? before - 3 : 0;
          const auto end = head_.find("\r\n\r\n", from);
          if (end == std::string::npos) {
            i += take;
            if (head_.size() > kMaxHead) return Fail("response headers larger than 64 KiB");
            consumed = i;
            return State::kNeedMore;
          }
          i += end + 4 - before;
          head = std::string_view(head_.data(), end);
        }
        auto nl = head.find("\r\n");
        std::string_view status_line = head.substr(0, nl);
        status_ = ParseStatusLine(status_line);
        if (status_ == 0) return Fail("not an HTTP response");
        keep_alive_ = status_line.substr(0, 8) != "HTTP/1.0";
        bool chunked = false, has_length = false;
        std::uint64_t length = 0;
        std::string_view rest = nl == std::string_view::npos ? "" : head.substr(nl + 2);
        while (!rest.empty()) {
          auto e = rest.find("\r\n");
          std::string_view line = rest.substr(0, e);
          rest = e == std::string_view::npos ? "" : rest.substr(e + 2);
          auto colon = line.find(':');
          if (colon == std::string_view::npos) return Fail("malformed header line");
          std::string_view name = Trim(line.substr(0, colon)), value = Trim(line.substr(colon + 1));
          if (IEquals(name, "content-length")) {
            std::uint64_t v = 0;
            auto r = std::from_chars(value.data(), value.data() + value.size(), v);
            if (r.ec != std::errc() || r.ptr != value.data() + value.size())
              return Fail("bad Content-Length");
            if (has_length && v != length) return Fail("conflicting Content-Length");
            has_length = true;
            length = v;
          } else if (IEquals(name, "transfer-encoding")) {
            chunked = IContains(value, "chunked");
          } else if (IEquals(name, "connection")) {
            if (IContains(value, "close")) keep_alive_ = false;
            if (IContains(value, "keep-alive")) keep_alive_ = true;
          }
        }
        head_.clear();
        if (status_ >= 100 && status_ < 200) {  // interim: the real one follows
          status_ = 0;
          keep_alive_ = true;
          continue;
        }
        if (status_ == 204 || status_ == 304) {
          consumed = i;
          return State::kDone;
        }
        if (chunked) {
          phase_ = Phase::kChunkSize;
        } else if (has_length) {
          remaining_ = length;
          phase_ = Phase::kBody;
        } else {
          keep_alive_ = false;
          phase_ = Phase::kUntilClose;
        }
        continue;
      }
      case Phase::kBody: {
        const std::uint64_t take = std::min<std::uint64_t>(remaining_, data.size() - i);
        remaining_ -= take;
        i += take;
        consumed = i;
        return remaining_ == 0 ? State::kDone : State::kNeedMore;
      }
      case Phase::kChunkSize:
      case Phase::kTrailers:
      case Phase::kChunkCrlf: {
        // Line-oriented phases.
        auto nl = data.find('\n', i);
        if (nl == std::string_view::npos) {
          line_.append(data.substr(i));
          if (line_.size() > kMaxLine) return Fail("chunk line too long");
          consumed = data.size();
          return State::kNeedMore;
        }
        line_.append(data.substr(i, nl - i));
        i = nl + 1;
        if (line_.size() > kMaxLine) return Fail("chunk line too long");
        std::string_view line = Trim(line_);
        if (phase_ == Phase::kChunkCrlf) {
          if (!line.empty()) return Fail("missing CRLF after a chunk");
          phase_ = Phase::kChunkSize;
        } else if (phase_ == Phase::kChunkSize) {
          auto semi = line.find(';');
          std::string_view hex = Trim(line.substr(0, semi));
          std::uint64_t size = 0;
          auto r = std::from_chars(hex.data(), hex.data() + hex.size(), size, 16);
          if (hex.empty() || r.ec != std::errc() || r.ptr != hex.data() + hex.size())
            return Fail("bad chunk size");
          if (size == 0) {
            phase_ = Phase::kTrailers;
          } else {
            remaining_ = size;
            phase_ = Phase::kChunkData;
          }
        } else {  // trailers end with an empty line
          if (line.empty()) {
            line_.clear();
            consumed = i;
            return State::kDone;
          }
        }
        line_.clear();
        continue;
      }
      case Phase::kChunkData: {
        const std::uint64_t take = std::min<std::uint64_t>(remaining_, data.size() - i);
        remaining_ -= take;
        i += take;
        if (remaining_ > 0) {
          consumed = i;
          return State::kNeedMore;
        }
        phase_ = Phase::kChunkCrlf;
        continue;
      }
      case Phase::kUntilClose:
        consumed = data.size();
        return State::kNeedMore;
    }
  }
}

void ResponseParser::Reset() {
  phase_ = Phase::kHead;
  head_.clear();
  line_.clear();
  remaining_ = 0;
  status_ = 0;
  keep_alive_ = true;
  error_.clear();
}

ResponseParser::State ResponseParser::Close() {
  if (phase_ == Phase::kUntilClose) return State::kDone;
  return Fail(status_ == 0 ? "connection closed before a response" : "connection closed mid-body");
}

Json PercentilesJson(const Histogram& h) {
  return {{"p50", h.QuantileMs(0.50)}, {"p90", h.QuantileMs(0.90)},    {"p95", h.QuantileMs(0.95)},
          {"p99", h.QuantileMs(0.99)}, {"p99_9", h.QuantileMs(0.999)}, {"max", h.MaxMs()},
          {"mean", h.MeanMs()}};
}

Json Summary::ToJson() const {
  Json per_route = Json::array();
  for (const auto& r : routes) {
    per_route.push_back({{"route", r.route},
                         {"requests", r.requests},
                         {"failed", r.failed},
                         {"latency_ms", PercentilesJson(r.latency)}});
  }
  return {{"model", closed_loop ? "closed" : "open"},
          {"sent", sent},
          {"completed", completed},
          {"failed", failed},
          {"errors", errors},
          {"status",
           {{"2xx", status_2xx}, {"3xx", status_3xx}, {"4xx", status_4xx}, {"5xx", status_5xx}}},
          {"duration_s", duration_s},
          {"achieved_rate", achieved_rate},
          {"latency_ms", PercentilesJson(latency)},
          {"routes", per_route}};
}

LoadGenerator::LoadGenerator(LoadOptions options) : options_(std::move(options)) {
  if (options_.paths.empty()) options_.paths = {"/"};
  options_.connections = std::clamp(options_.connections, 1, 10'000);
  options_.threads = std::clamp(options_.threads, 1, std::min(64, options_.connections));
  if (!(options_.rate > 0)) options_.rate = 1;
  for (int t = 0; t < options_.threads; ++t) {
    stats_.push_back(std::make_unique<Stats>());
    stats_.back()->s.closed_loop = options_.closed_loop;
    for (const auto& p : options_.paths) stats_.back()->s.routes.push_back({p, {}, 0, 0});
  }
}

LoadGenerator::~LoadGenerator() {
  Stop();
  Wait();
}

void LoadGenerator::Start(std::function<void(const Outcome&)> on_outcome) {
  on_outcome_ = std::move(on_outcome);
  stop_ = false;
  start_us_ = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now().time_since_epoch())
                  .count();
  for (int t = 0; t < options_.threads; ++t) threads_.emplace_back([this, t] { Loop(t); });
}

void LoadGenerator::Stop() { stop_ = true; }

void LoadGenerator::Wait() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

Summary LoadGenerator::Summarize() const {
  Summary s;
  s.closed_loop = options_.closed_loop;
  for (const auto& p : options_.paths) s.routes.push_back({p, {}, 0, 0});
  for (const auto& st : stats_) {
    std::lock_guard lock(st->mu);
    const Summary& t = st->s;
    s.sent += t.sent;
    s.completed += t.completed;
    s.failed += t.failed;
    s.errors += t.errors;
    s.status_2xx += t.status_2xx;
    s.status_3xx += t.status_3xx;
    s.status_4xx += t.status_4xx;
    s.status_5xx += t.status_5xx;
    s.latency.Merge(t.latency);
    for (std::size_t i = 0; i < s.routes.size(); ++i) {
      s.routes[i].requests += t.routes[i].requests;
      s.routes[i].failed += t.routes[i].failed;
      s.routes[i].latency.Merge(t.routes[i].latency);
    }
  }
  const std::int64_t start = start_us_, end = end_us_;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  // Counted time: from the end of the warm-up to the end (or now).
  std::int64_t from = start + options_.warmup_ms * 1000;
  std::int64_t to = end > 0 ? end : now;
  if (options_.duration_ms > 0) to = std::min(to, start + options_.duration_ms * 1000);
  s.duration_s = start > 0 && to > from ? static_cast<double>(to - from) / 1e6 : 0;
  s.p50_ms = s.latency.QuantileMs(0.50);
  s.p90_ms = s.latency.QuantileMs(0.90);
  s.p95_ms = s.latency.QuantileMs(0.95);
  s.p99_ms = s.latency.QuantileMs(0.99);
  s.p999_ms = s.latency.QuantileMs(0.999);
  s.max_ms = s.latency.MaxMs();
  s.mean_ms = s.latency.MeanMs();
  s.achieved_rate = s.duration_s > 0 ? static_cast<double>(s.completed) / s.duration_s : 0;
  return s;
}

namespace {

using Steady = std::chrono::steady_clock;
std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Steady::now().time_since_epoch())
      .count();
}

struct Conn {
  std::size_t target = 0;  // which server it talks to
  std::int64_t seq = -1;   // the request's place in the schedule
  int fd = -1;
  enum { kClosed, kConnecting, kIdle, kBusy } state = kClosed;
  const std::string* out = nullptr;  // the request being sent
  std::size_t written = 0;
  bool want_write = false;  // registered for EPOLLOUT
  ResponseParser parser;
  std::int64_t due_us = 0, sent_us = 0;
  std::size_t route = 0;
};

}  // namespace

void LoadGenerator::Loop(int thread_index) {
  Stats& stats = *stats_[static_cast<std::size_t>(thread_index)];
  const std::vector<int> ports =
      options_.targets.empty() ? std::vector<int>{options_.port} : options_.targets;
  const std::size_t ntargets = ports.size();
  std::vector<sockaddr_in> addrs(ntargets);
  for (std::size_t t = 0; t < ntargets; ++t) {
    addrs[t].sin_family = AF_INET;
    addrs[t].sin_port = htons(static_cast<uint16_t>(ports[t]));
    inet_pton(AF_INET, options_.host.c_str(), &addrs[t].sin_addr);
  }
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  // This thread's connections (to each target): every threads-th, starting
  // at its index.
  const int nthreads = options_.threads;
  const auto mine =
      static_cast<std::size_t>((options_.connections - thread_index + nthreads - 1) / nthreads);
  std::vector<Conn> conns(mine * ntargets);
  // Per target, the connections that are idle or closed, taken from the back.
  std::vector<std::vector<std::size_t>> free_conns(ntargets);
  for (std::size_t i = conns.size(); i-- > 0;) {
    conns[i].target = i / std::max<std::size_t>(mine, 1);
    free_conns[conns[i].target].push_back(i);
  }
  // The requests, built once: per target, per path.
  std::vector<std::vector<std::string>> requests(ntargets);
  for (std::size_t t = 0; t < ntargets; ++t) {
    for (const auto& p : options_.paths) {
      requests[t].push_back("GET " + p + " HTTP/1.1\r\nHost: " + options_.host + ":" +
                            std::to_string(ports[t]) +
                            "\r\nUser-Agent: prodsprint-load\r\n\r\n");
    }
  }
  const std::size_t npaths = options_.paths.size();
  struct Due {
    std::int64_t due_us, seq;
    std::size_t route;
  };
  // Per target, requests due and waiting for a connection.
  std::vector<std::deque<Due>> pending(ntargets);
  std::size_t next_route = static_cast<std::size_t>(thread_index);
  const std::int64_t start = start_us_;
  const std::int64_t counted_from = start + options_.warmup_ms * 1000;
  // The threads' schedules interleave: each sends every threads-th request.
  const double interval_us = 1e6 / options_.rate * nthreads;
  const double offset_us = 1e6 / options_.rate * thread_index;
  auto due_of = [&](std::int64_t k) {
    return start + static_cast<std::int64_t>(offset_us + static_cast<double>(k) * interval_us);
  };
  std::int64_t scheduled = 0;
  const std::int64_t end =
      options_.duration_ms > 0 ? start + options_.duration_ms * 1000 : INT64_MAX;
  std::int64_t last_sweep = start;

  auto finish = [&](Conn& c, int status, const char* error) {
    const std::int64_t now = NowUs();
    if (c.due_us < counted_from) return;  // warm-up
    Outcome o;
    o.due_us = c.due_us;
    o.latency_ms = static_cast<double>(now - c.due_us) / 1000.0;
    o.service_ms = static_cast<double>(now - c.sent_us) / 1000.0;
    o.status = status;
    o.route = c.route;
    o.target = c.target;
    o.seq = c.seq;
    if (error) o.error = error;
    {
      std::lock_guard lock(stats.mu);
      Summary& s = stats.s;
      ++s.completed;
      if (error) ++s.errors;
      const bool failed = o.failed();
      if (failed) ++s.failed;
      if (status >= 200 && status < 300)
        ++s.status_2xx;
      else if (status >= 300 && status < 400)
        ++s.status_3xx;
      else if (status >= 400 && status < 500)
        ++s.status_4xx;
      else if (status >= 500)
        ++s.status_5xx;
      RouteSample& r = s.routes[c.route];
      ++r.requests;
      if (failed) ++r.failed;
      // Latency of answered requests (a refused connection is fast, not good).
      if (status != 0) {
        s.latency.Record(now - c.due_us);
        r.latency.Record(now - c.due_us);
      }
    }
    if (on_outcome_) on_outcome_(o);
  };
  auto close_conn = [&](Conn& c) {
    if (c.fd >= 0) {
      epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
    }
    c.fd = -1;
    c.state = Conn::kClosed;
    c.want_write = false;
    c.parser.Reset();
  };
  auto watch = [&](Conn& c, std::size_t index, bool write) {
    if (c.want_write == write) return;
    epoll_event mod{};
    mod.events = EPOLLIN | EPOLLRDHUP | (write ? EPOLLOUT : 0u);
    mod.data.u64 = index;
    epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &mod);
    c.want_write = write;
  };
  auto open_conn = [&](Conn& c, std::size_t index) -> bool {
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return false;
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int r = connect(c.fd, reinterpret_cast<sockaddr*>(&addrs[c.target]), sizeof addrs[c.target]);
    if (r != 0 && errno != EINPROGRESS) {
      close(c.fd);
      c.fd = -1;
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    ev.data.u64 = index;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    c.want_write = true;
    c.state = Conn::kConnecting;
    return true;
  };
  // Sends what is left of the request: false when the connection broke.
  auto try_write = [&](Conn& c, std::size_t index) -> bool {
    while (c.written < c.out->size()) {
      ssize_t n = send(c.fd, c.out->data() + c.written, c.out->size() - c.written, MSG_NOSIGNAL);
      if (n > 0) {
        c.written += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EAGAIN) {
        watch(c, index, true);
        return true;
      } else {
        return false;
      }
    }
    watch(c, index, false);
    return true;
  };
  // Starts a request due at `due` on a free connection. False when it ended
  // at once (the connection could not be made or broke): the connection is
  // free again.
  auto dispatch = [&](std::size_t index, const Due& d) -> bool {
    Conn& c = conns[index];
    c.route = d.route;
    c.seq = d.seq;
    c.out = &requests[c.target][c.route];
    c.written = 0;
    const std::int64_t due = d.due_us;
    c.due_us = due;
    c.sent_us = NowUs();
    c.parser.Reset();
    if (due >= counted_from) {
      std::lock_guard lock(stats.mu);
      ++stats.s.sent;
    }
    if (c.state == Conn::kClosed && !open_conn(c, index)) {
      finish(c, 0, "connect");
      return false;
    }
    if (c.state == Conn::kIdle) {
      c.state = Conn::kBusy;
      if (!try_write(c, index)) {
        finish(c, 0, "reset");
        close_conn(c);
        return false;
      }
    }
    // kConnecting: written when the socket becomes writable.
    return true;
  };
  // A connection became free (answered, or closed): closed loop sends the
  // next request at once; open loop takes the next due one, if any.
  auto release = [&](std::size_t index) {
    const std::size_t t = conns[index].target;
    if (options_.closed_loop) {
      const std::int64_t now = NowUs();
      if (now < end && !stop_.load(std::memory_order_relaxed)) {
        if (dispatch(index, {now, -1, next_route++ % npaths})) return;
      }
    } else if (!pending[t].empty()) {
      const Due d = pending[t].front();
      pending[t].pop_front();
      if (dispatch(index, d)) return;
    }
    free_conns[t].push_back(index);
  };
  // Where the schedule's request number k of this thread goes. One target:
  // the paths in turn. Several: blocks of one request per target on one
  // path, the order within a block reversed every other block.
  auto schedule = [&](std::int64_t k) {
    const std::int64_t g = thread_index + k * nthreads;  // its place in the whole schedule
    if (ntargets == 1) {
      pending[0].push_back({due_of(k), g, next_route++ % npaths});
      return;
    }
    const auto n = static_cast<std::int64_t>(ntargets);
    const std::int64_t block = g / n;
    const std::int64_t within = g % n;
    const auto t = static_cast<std::size_t>(block % 2 == 0 ? within : n - 1 - within);
    pending[t].push_back(
        {due_of(k), g, static_cast<std::size_t>(block % static_cast<std::int64_t>(npaths))});
  };

  if (options_.closed_loop) {
    // Every connection starts with a request; each answer sends the next.
    for (auto& list : free_conns) {
      while (!list.empty()) {
        const std::size_t i = list.back();
        list.pop_back();
        if (!dispatch(i, {start, -1, next_route++ % npaths})) break;  // refused: retried below
      }
    }
  }

  std::vector<epoll_event> events(256);
  char buf[65536];
  while (!stop_.load(std::memory_order_relaxed)) {
    std::int64_t now = NowUs();
    if (now >= end) break;
    if (!options_.closed_loop) {
      // Due requests join their target's queue; free connections take them
      // in order.
      while (due_of(scheduled) <= now) schedule(scheduled++);
      for (std::size_t t = 0; t < ntargets; ++t) {
        while (!pending[t].empty() && !free_conns[t].empty()) {
          const std::size_t i = free_conns[t].back();
          free_conns[t].pop_back();
          const Due d = pending[t].front();
          pending[t].pop_front();
          if (!dispatch(i, d)) free_conns[t].push_back(i);
        }
      }
    }
    // Timeouts (and, closed loop, reconnecting refused connections), every
    // 10 ms rather than every turn.
    if (now - last_sweep >= 10'000) {
      last_sweep = now;
      for (std::size_t i = 0; i < conns.size(); ++i) {
        Conn& c = conns[i];
        if ((c.state == Conn::kBusy || c.state == Conn::kConnecting) && c.fd >= 0 &&
            now - c.sent_us > options_.timeout_ms * 1000) {
          finish(c, 0, c.state == Conn::kConnecting ? "connect" : "timeout");
          close_conn(c);
          release(i);
        }
      }
      if (options_.closed_loop) {
        for (auto& list : free_conns) {
          std::vector<std::size_t> retry;
          retry.swap(list);
          for (const std::size_t i : retry) release(i);
        }
      }
    }
    int wait_ms = 10;
    if (!options_.closed_loop) {
      bool any_free = true;
      for (const auto& list : free_conns) any_free = any_free && !list.empty();
      wait_ms = static_cast<int>(std::clamp<std::int64_t>(
          (due_of(scheduled) - NowUs() + 999) / 1000, 0, any_free ? 50 : 10));
    }
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), wait_ms);
    for (int k = 0; k < n; ++k) {
      const std::size_t index = events[k].data.u64;
      Conn& c = conns[index];
      if (c.fd < 0) continue;
      const auto ev = events[k].events;
      if (c.state == Conn::kConnecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (ev & (EPOLLERR | EPOLLHUP))) {
          finish(c, 0, "connect");
          close_conn(c);
          release(index);
          continue;
        }
        if (!(ev & EPOLLOUT)) continue;
        c.state = Conn::kBusy;
      }
      if ((ev & EPOLLOUT) && c.state == Conn::kBusy && c.written < c.out->size()) {
        if (!try_write(c, index)) {
          finish(c, 0, "reset");
          close_conn(c);
          release(index);
          continue;
        }
      } else if ((ev & EPOLLOUT) && c.want_write) {
        watch(c, index, false);
      }
      if (!(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) continue;
      bool closed = false, answered = false;
      while (true) {
        ssize_t r = recv(c.fd, buf, sizeof buf, 0);
        if (r > 0) {
          if (c.state != Conn::kBusy) {  // bytes nobody asked for
            closed = true;
            break;
          }
          std::string_view data(buf, static_cast<std::size_t>(r));
          std::size_t used = 0;
          auto st = c.parser.Feed(data, used);
          if (st == ResponseParser::State::kDone) {
            const bool keep = c.parser.keep_alive();
            finish(c, c.parser.status(), nullptr);
            c.parser.Reset();
            answered = true;
            if (keep && used == data.size()) {
              c.state = Conn::kIdle;
            } else {
              closed = true;
            }
            // One request at a time per connection: nothing more to read.
            break;
          }
          if (st == ResponseParser::State::kError) {
            finish(c, 0, "protocol");
            closed = true;
            break;
          }
          if (static_cast<std::size_t>(r) < sizeof buf) break;  // the rest comes later
        } else if (r == 0) {
          if (c.state == Conn::kBusy) {
            if (c.parser.Close() == ResponseParser::State::kDone) {
              finish(c, c.parser.status(), nullptr);
            } else {
              finish(c, 0, "reset");
            }
            answered = true;
          }
          closed = true;
          break;
        } else {
          if (errno == EAGAIN || errno == EINTR) break;
          if (c.state == Conn::kBusy) {
            finish(c, 0, "reset");
            answered = true;
          }
          closed = true;
          break;
        }
      }
      if (closed) close_conn(c);
      if (answered || closed) {
        // An idle connection that the peer closed was already free.
        const auto& list = free_conns[c.target];
        if (answered || std::find(list.begin(), list.end(), index) == list.end()) release(index);
      }
    }
  }
  for (auto& c : conns) close_conn(c);
  close(ep);
  std::int64_t expected = 0;
  end_us_.compare_exchange_strong(expected, std::min(NowUs(), end));
}

}  // namespace ps::load
