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
        std::string_view head(head_.data(), end);
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
        head_.shrink_to_fit();
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

ResponseParser::State ResponseParser::Close() {
  if (phase_ == Phase::kUntilClose) return State::kDone;
  return Fail(status_ == 0 ? "connection closed before a response" : "connection closed mid-body");
}

Json Summary::ToJson() const {
  return {{"sent", sent},
          {"completed", completed},
          {"failed", failed},
          {"errors", errors},
          {"status",
           {{"2xx", status_2xx}, {"3xx", status_3xx}, {"4xx", status_4xx}, {"5xx", status_5xx}}},
          {"duration_s", duration_s},
          {"achieved_rate", achieved_rate},
          {"latency_ms", {{"p50", p50_ms}, {"p90", p90_ms}, {"p99", p99_ms}, {"max", max_ms}}}};
}

LoadGenerator::LoadGenerator(LoadOptions options) : options_(std::move(options)) {
  if (options_.paths.empty()) options_.paths = {"/"};
  options_.connections = std::clamp(options_.connections, 1, 10'000);
  if (!(options_.rate > 0)) options_.rate = 1;
}

LoadGenerator::~LoadGenerator() {
  Stop();
  Wait();
}

void LoadGenerator::Start(std::function<void(const Outcome&)> on_outcome) {
  on_outcome_ = std::move(on_outcome);
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void LoadGenerator::Stop() { stop_ = true; }

void LoadGenerator::Wait() {
  if (thread_.joinable()) thread_.join();
}

Summary LoadGenerator::Summarize() const {
  std::lock_guard lock(mu_);
  Summary s = counts_;
  if (s.duration_s == 0 && start_us_ > 0) {  // still running
    s.duration_s = static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
                                           std::chrono::steady_clock::now().time_since_epoch())
                                           .count() -
                                       start_us_) /
                   1e6;
  }
  std::vector<float> l = latencies_;
  std::sort(l.begin(), l.end());
  auto q = [&](double p) -> double {
    if (l.empty()) return 0;
    auto idx = static_cast<std::size_t>(std::ceil(p * static_cast<double>(l.size()))) - 1;
    return l[std::min(idx, l.size() - 1)];
  };
  s.p50_ms = q(0.50);
  s.p90_ms = q(0.90);
  s.p99_ms = q(0.99);
  s.max_ms = l.empty() ? 0 : l.back();
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
  int fd = -1;
  enum { kClosed, kConnecting, kIdle, kBusy } state = kClosed;
  std::string out;
  std::size_t written = 0;
  ResponseParser parser;
  std::int64_t due_us = 0, sent_us = 0;
};

}  // namespace

void LoadGenerator::Loop() {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(options_.port));
  inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Conn> conns(static_cast<std::size_t>(options_.connections));
  std::deque<std::int64_t> pending;  // due times of requests waiting for a connection
  std::size_t next_path = 0;
  const std::int64_t start = NowUs();
  start_us_ = start;
  const double interval_us = 1e6 / options_.rate;
  std::int64_t scheduled = 0;
  const std::int64_t end =
      options_.duration_ms > 0 ? start + options_.duration_ms * 1000 : INT64_MAX;

  auto finish = [&](Conn& c, int status, const char* error) {
    Outcome o;
    o.due_us = c.due_us;
    const std::int64_t now = NowUs();
    o.latency_ms = static_cast<double>(now - c.due_us) / 1000.0;
    o.service_ms = static_cast<double>(now - c.sent_us) / 1000.0;
    o.status = status;
    o.error = error ? error : "";
    {
      std::lock_guard lock(mu_);
      ++counts_.completed;
      if (error) ++counts_.errors;
      if (o.failed()) ++counts_.failed;
      if (status >= 200 && status < 300)
        ++counts_.status_2xx;
      else if (status >= 300 && status < 400)
        ++counts_.status_3xx;
      else if (status >= 400 && status < 500)
        ++counts_.status_4xx;
      else if (status >= 500)
        ++counts_.status_5xx;
      latencies_.push_back(static_cast<float>(o.latency_ms));
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
    c.parser.Reset();
  };
  auto open_conn = [&](Conn& c, std::size_t index) -> bool {
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return false;
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int r = connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (r != 0 && errno != EINPROGRESS) {
      close(c.fd);
      c.fd = -1;
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    ev.data.u64 = index;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    c.state = Conn::kConnecting;
    return true;
  };
  auto try_write = [&](Conn& c) -> bool {
    while (c.written < c.out.size()) {
      ssize_t n = send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
      if (n > 0) {
        c.written += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EAGAIN) {
        return true;
      } else {
        return false;
      }
    }
    return true;
  };
  auto dispatch = [&](Conn& c, std::size_t index, std::int64_t due) {
    const std::string& path = options_.paths[next_path++ % options_.paths.size()];
    c.out = "GET " + path + " HTTP/1.1\r\nHost: " + options_.host + ":" +
            std::to_string(options_.port) + "\r\nUser-Agent: prodsprint-load\r\n\r\n";
    c.written = 0;
    c.due_us = due;
    c.sent_us = NowUs();
    c.parser.Reset();
    {
      std::lock_guard lock(mu_);
      ++counts_.sent;
    }
    if (c.state == Conn::kClosed && !open_conn(c, index)) {
      finish(c, 0, "connect");
      return;
    }
    if (c.state == Conn::kIdle) {
      c.state = Conn::kBusy;
      if (!try_write(c)) {
        finish(c, 0, "reset");
        close_conn(c);
      }
    }
    // kConnecting: written when the socket becomes writable.
  };

  std::vector<epoll_event> events(256);
  char buf[65536];
  while (!stop_.load(std::memory_order_relaxed)) {
    std::int64_t now = NowUs();
    if (now >= end) break;
    // Due requests join the queue; free connections take them in order.
    while (start + static_cast<std::int64_t>(static_cast<double>(scheduled) * interval_us) <= now) {
      pending.push_back(start +
                        static_cast<std::int64_t>(static_cast<double>(scheduled) * interval_us));
      ++scheduled;
    }
    for (std::size_t i = 0; i < conns.size() && !pending.empty(); ++i) {
      Conn& c = conns[i];
      if (c.state == Conn::kIdle || c.state == Conn::kClosed) {
        const std::int64_t due = pending.front();
        pending.pop_front();
        if (c.state == Conn::kClosed) {
          c.due_us = due;  // remembered while connecting
        }
        dispatch(c, i, due);
      }
    }
    // Timeouts.
    now = NowUs();
    for (auto& c : conns) {
      if ((c.state == Conn::kBusy || c.state == Conn::kConnecting) && c.fd >= 0 &&
          now - c.sent_us > options_.timeout_ms * 1000) {
        finish(c, 0, c.state == Conn::kConnecting ? "connect" : "timeout");
        close_conn(c);
      }
    }
    const std::int64_t next_due =
        start + static_cast<std::int64_t>(static_cast<double>(scheduled) * interval_us);
    int wait_ms =
        static_cast<int>(std::clamp<std::int64_t>((next_due - NowUs() + 999) / 1000, 0, 50));
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
          continue;
        }
        if (ev & EPOLLOUT) {
          c.state = Conn::kBusy;
          epoll_event mod{};
          mod.events = EPOLLIN | EPOLLRDHUP;
          mod.data.u64 = index;
          epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &mod);
          if (!try_write(c)) {
            finish(c, 0, "reset");
            close_conn(c);
            continue;
          }
        }
      }
      if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        bool closed = false;
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
              if (keep && used == data.size()) {
                c.state = Conn::kIdle;
              } else {
                closed = true;
                break;
              }
            } else if (st == ResponseParser::State::kError) {
              finish(c, 0, "protocol");
              closed = true;
              break;
            }
          } else if (r == 0) {
            if (c.state == Conn::kBusy) {
              if (c.parser.Close() == ResponseParser::State::kDone) {
                finish(c, c.parser.status(), nullptr);
              } else {
                finish(c, 0, "reset");
              }
            }
            closed = true;
            break;
          } else {
            if (errno == EAGAIN) break;
            if (c.state == Conn::kBusy) finish(c, 0, "reset");
            closed = true;
            break;
          }
        }
        if (closed) close_conn(c);
      }
    }
  }
  for (auto& c : conns) close_conn(c);
  close(ep);
  std::lock_guard lock(mu_);
  counts_.duration_s = static_cast<double>(std::min(NowUs(), end) - start) / 1e6;
}

}  // namespace ps::load
