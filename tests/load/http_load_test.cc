// The load generator: its response parser (every framing HTTP/1.1 allows,
// split at every byte) and the fixed arrival rate against a real server.
#include "load/http_load.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <chrono>
#include <thread>

namespace ps::load {
namespace {

// Feeds `text` split at `cut`; returns the state, status, and bytes used.
struct Fed {
  ResponseParser::State state;
  int status;
  std::size_t used;
};
Fed FeedSplit(const std::string& text, std::size_t cut) {
  ResponseParser p;
  std::size_t used = 0;
  auto st = p.Feed(std::string_view(text).substr(0, cut), used);
  std::size_t total = used;
  if (st == ResponseParser::State::kNeedMore) {
    st = p.Feed(std::string_view(text).substr(cut), used);
    total = cut + used;
  }
  return {st, p.status(), total};
}

TEST(ResponseParser, ContentLengthChunkedAndEmptyBodiesAtEverySplit) {
  const std::string next = "HTTP/1.1 200 OK\r\n";  // bytes of the next response
  const std::vector<std::pair<std::string, int>> cases = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200},
      {"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n", 500},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\n"
       "Trailer: x\r\n\r\n",
       200},
      {"HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n", 204},
      {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", 201},
  };
  for (const auto& [text, status] : cases) {
    const std::string both = text + next;
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      Fed f = FeedSplit(both, cut);
      ASSERT_EQ(f.state, ResponseParser::State::kDone) << text << " cut " << cut;
      EXPECT_EQ(f.status, status);
      EXPECT_EQ(f.used, text.size()) << "the next response's bytes are not consumed";
    }
  }
}

TEST(ResponseParser, BodyUntilCloseAndConnectionClose) {
  ResponseParser p;
  std::size_t used = 0;
  EXPECT_EQ(p.Feed("HTTP/1.0 200 OK\r\n\r\npartial body", used), ResponseParser::State::kNeedMore);
  EXPECT_EQ(p.Close(), ResponseParser::State::kDone);
  EXPECT_FALSE(p.keep_alive());
  ResponseParser q;
  EXPECT_EQ(q.Feed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", used),
            ResponseParser::State::kDone);
  EXPECT_FALSE(q.keep_alive());
}

TEST(ResponseParser, MalformedResponsesAreErrorsNotCrashes) {
  for (const std::string& bad :
       {std::string("SSH-2.0-OpenSSH\r\n\r\n"), std::string("HTTP/1.1 abc OK\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nno colon\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        "HTTP/1.1 200 OK\r\nX: " + std::string(70'000, 'a')}) {
    ResponseParser p;
    std::size_t used = 0;
    EXPECT_EQ(p.Feed(bad, used), ResponseParser::State::kError) << bad.substr(0, 40);
    EXPECT_FALSE(p.error().empty());
  }
  ResponseParser p;
  std::size_t used = 0;
  EXPECT_EQ(p.Feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", used),
            ResponseParser::State::kNeedMore);
  EXPECT_EQ(p.Close(), ResponseParser::State::kError);
}

// A keep-alive HTTP server, a thread per connection: every 10th request
// answers 500. With `stall_ms`, the whole server stops answering for that
// long once `stall_after` requests were answered (a GC pause, say).
class TinyServer {
 public:
  explicit TinyServer(int stall_after = 0, int stall_ms = 0)
      : stall_after_(stall_after), stall_ms_(stall_ms) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 64);
    accept_ = std::thread([this] {
      while (true) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        conns_.emplace_back([this, c] {
          char buf[4096];
          std::string in;
          while (true) {
            ssize_t n = recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            in.append(buf, static_cast<std::size_t>(n));
            std::size_t end;
            while ((end = in.find("\r\n\r\n")) != std::string::npos) {
              in.erase(0, end + 4);
              const int nth = ++count_;
              if (stall_ms_ > 0 && nth == stall_after_) {
                stall_until_ =
                    std::chrono::steady_clock::now() + std::chrono::milliseconds(stall_ms_);
                stalling_ = true;
              }
              if (stalling_) std::this_thread::sleep_until(stall_until_.load());
              const bool fail = nth % 10 == 0;
              const std::string body = fail ? "no" : "ok";
              std::string r = std::string("HTTP/1.1 ") + (fail ? "500 Oops" : "200 OK") +
                              "\r\nContent-Length: 2\r\n\r\n" + body;
              send(c, r.data(), r.size(), MSG_NOSIGNAL);
            }
          }
          close(c);
        });
      }
    });
  }
  ~TinyServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    accept_.join();
    for (auto& t : conns_) t.join();
  }
  int port() const { return port_; }
  int count() const { return count_; }

 private:
  int fd_ = -1, port_ = 0;
  int stall_after_ = 0, stall_ms_ = 0;
  std::atomic<bool> stalling_{false};
  std::atomic<std::chrono::steady_clock::time_point> stall_until_{};
  std::atomic<int> count_{0};
  std::thread accept_;
  std::vector<std::thread> conns_;
};

TEST(LoadGenerator, SendsAtTheFixedRateOverKeepAliveConnections) {
  std::atomic<int> outcomes{0};
  {
    TinyServer server;
    LoadOptions o;
    o.port = server.port();
    o.rate = 200;
    o.connections = 4;
    o.duration_ms = 1000;
    o.paths = {"/a", "/b"};
    LoadGenerator gen(o);
    gen.Start([&](const Outcome&) { ++outcomes; });
    gen.Wait();
    const Summary s = gen.Summarize();
    // 200 requests due in one second, give or take the last tick.
    EXPECT_GE(s.completed, 195);
    EXPECT_LE(s.completed, 201);
    EXPECT_EQ(s.completed, outcomes.load());
    EXPECT_EQ(s.errors, 0);
    EXPECT_NEAR(s.status_5xx, s.completed / 10, 1);
    EXPECT_EQ(s.failed, s.status_5xx);
    EXPECT_GT(s.p50_ms, 0);
  }
}

TEST(LoadGenerator, ClosedLoopKeepsEveryConnectionBusyOnEveryThread) {
  TinyServer server;
  LoadOptions o;
  o.port = server.port();
  o.closed_loop = true;
  o.connections = 4;
  o.threads = 2;
  o.duration_ms = 500;
  o.paths = {"/a", "/b", "/c"};
  LoadGenerator gen(o);
  gen.Start();
  gen.Wait();
  const Summary s = gen.Summarize();
  EXPECT_GT(s.completed, 200);  // as fast as the server answers, far above any rate
  EXPECT_EQ(s.errors, 0);
  ASSERT_EQ(s.routes.size(), 3u);
  std::int64_t per_route = 0;
  for (const auto& r : s.routes) {
    EXPECT_GT(r.requests, static_cast<std::uint64_t>(s.completed) / 4) << r.route;
    per_route += static_cast<std::int64_t>(r.requests);
  }
  EXPECT_EQ(per_route, s.completed);
  EXPECT_EQ(static_cast<std::int64_t>(s.latency.count()), s.completed);
  EXPECT_EQ(s.ToJson()["model"], "closed");
  EXPECT_TRUE(s.ToJson()["latency_ms"].contains("p99_9"));
}

// The server stalls for 600 ms while requests keep falling due at 200/s:
// the ~120 requests due in the stall wait up to 600 ms each, so about one
// request in ten is slower than 300 ms. Counting from the send instead of
// the due time would hide them (the queue waits outside the measurement).
TEST(LoadGenerator, OpenLoopLatencyCountsTheWaitCausedByAStall) {
  TinyServer server(/*stall_after=*/60, /*stall_ms=*/600);
  LoadOptions o;
  o.port = server.port();
  o.rate = 200;
  o.connections = 8;
  o.duration_ms = 1500;
  LoadGenerator gen(o);
  gen.Start();
  gen.Wait();
  const Summary s = gen.Summarize();
  EXPECT_GE(s.max_ms, 550);
  EXPECT_GE(s.p90_ms, 200) << Dump(s.ToJson());
  // Only 8 requests (one per connection) were in flight when it stalled:
  // far fewer than the requests the latency counts as delayed.
  EXPECT_GT(s.latency.CountAboveMs(200), 40u);
}

// Two servers side by side: the schedule alternates between them in blocks
// of one request each, the order reversed every other block, both requests
// of a block on one path; connections are per server.
TEST(LoadGenerator, TargetsShareOneScheduleInAlternatingPairs) {
  TinyServer a, b;
  LoadOptions o;
  o.targets = {a.port(), b.port()};
  o.rate = 200;  // both together
  o.connections = 2;
  o.duration_ms = 1000;
  o.paths = {"/x", "/y", "/z"};
  std::mutex mu;
  std::vector<Outcome> seen;
  LoadGenerator gen(o);
  gen.Start([&](const Outcome& out) {
    std::lock_guard lock(mu);
    seen.push_back(out);
  });
  gen.Wait();
  ASSERT_GE(seen.size(), 190u);
  EXPECT_NEAR(a.count(), b.count(), 2);
  std::sort(seen.begin(), seen.end(),
            [](const Outcome& x, const Outcome& y) { return x.seq < y.seq; });
  int blocks = 0;
  for (std::size_t i = 0; i + 1 < seen.size(); ++i) {
    const Outcome& x = seen[i];
    const Outcome& y = seen[i + 1];
    if (x.seq % 2 != 0 || y.seq != x.seq + 1) continue;
    ++blocks;
    const std::int64_t block = x.seq / 2;
    EXPECT_EQ(x.target, block % 2 == 0 ? 0u : 1u) << "block " << block;
    EXPECT_NE(x.target, y.target);
    EXPECT_EQ(x.route, y.route);
    EXPECT_EQ(x.route, static_cast<std::size_t>(block % 3));
    EXPECT_LE(y.due_us - x.due_us, 5000 + 100);  // 1/rate apart
  }
  EXPECT_GE(blocks, 90);
  EXPECT_EQ(gen.Summarize().completed, static_cast<std::int64_t>(seen.size()));
}

TEST(LoadGenerator, ARefusedConnectionIsAnErrorNotAHang) {
  LoadOptions o;
  o.port = 1;  // nothing listens
  o.rate = 50;
  o.connections = 2;
  o.duration_ms = 200;
  LoadGenerator gen(o);
  gen.Start();
  gen.Wait();
  const Summary s = gen.Summarize();
  EXPECT_GT(s.completed, 0);
  EXPECT_EQ(s.errors, s.completed);
  EXPECT_EQ(s.failed, s.completed);
}

}  // namespace
}  // namespace ps::load
