// The HTTP server (api/server.cc) over real sockets on 127.0.0.1: a run's
// Server-Sent Events resumed again and again (Last-Event-ID, ?after=)
// without a gap or a duplicate, the 410 of a resume point too old,
// heartbeat comments, the graceful stop that ends open streams with a final
// event, keep-alive, the limits (413, 431, 400), problems for unknown routes
// and missing tokens, another tenant's run as a 404, and hundreds of streams
// on a handful of threads. The client is a small blocking HTTP/1.1 one on
// POSIX sockets that decodes chunked bodies. The server reads real time:
// the options keep its timers short.
#include "api/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api/api.h"
#include "api/auth.h"
#include "api/hub.h"
#include "engine/engine_fixture.h"
#include "service/app.h"
#include "service/orgs.h"
#include "targets/target.h"

namespace ps::api {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// --- a small HTTP/1.1 client ------------------------------------------------

// A blocking TCP connection to 127.0.0.1 (reads and writes time out after
// 5 s, so that a server that says nothing fails a test instead of hanging it).
class Conn {
 public:
  explicit Conn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Up to `max` bytes: how many, 0 at the end of the stream, -1 on an error
  // or a timeout (or EAGAIN, once non-blocking).
  ssize_t Read(char* buf, std::size_t max) {
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, max, 0);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }
  void SetNonBlocking() { ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK); }
  // Closes at once with a reset, no goodbye: a client that vanished.
  void Abort() {
    if (fd_ < 0) return;
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// An HTTP/1.1 response decoded as its bytes arrive: the status line, the
// headers, then the body (chunked, by Content-Length, or up to the end).
class ResponseReader {
 public:
  // False when the bytes are not a response.
  bool Feed(std::string_view bytes) {
    buf_.append(bytes);
    for (;;) {
      switch (state_) {
        case State::kHead: {
          const auto end = buf_.find("\r\n\r\n");
          if (end == std::string::npos) return true;
          if (!ParseHead(buf_.substr(0, end))) return false;
          buf_.erase(0, end + 4);
          break;
        }
        case State::kChunkSize: {
          const auto eol = buf_.find("\r\n");
          if (eol == std::string::npos) return true;
          const std::string line = buf_.substr(0, buf_.find_first_of(";\r"));
          buf_.erase(0, eol + 2);
          char* used = nullptr;
          remaining_ = std::strtoull(line.c_str(), &used, 16);
          if (line.empty() || *used != '\0') return false;
          state_ = remaining_ == 0 ? State::kTrailer : State::kChunkData;
          break;
        }
        case State::kChunkData:
        case State::kBody: {
          const std::size_t n = std::min<std::size_t>(remaining_, buf_.size());
          body_.append(buf_, 0, n);
          buf_.erase(0, n);
          remaining_ -= n;
          if (remaining_ > 0) return true;
          state_ = state_ == State::kBody ? State::kDone : State::kChunkEnd;
          break;
        }
        case State::kChunkEnd:
          if (buf_.size() < 2) return true;
          if (buf_.compare(0, 2, "\r\n") != 0) return false;
          buf_.erase(0, 2);
          state_ = State::kChunkSize;
          break;
        case State::kTrailer: {
          const auto eol = buf_.find("\r\n");
          if (eol == std::string::npos) return true;
          buf_.erase(0, eol + 2);
          if (eol == 0) state_ = State::kDone;
          break;
        }
        case State::kUntilEof:
          body_ += buf_;
          buf_.clear();
          return true;
        case State::kDone:
          return true;  // bytes after the response stay in buf_
      }
    }
  }
  void FeedEof() {
    if (state_ == State::kUntilEof) state_ = State::kDone;
  }

  bool headers_done() const { return state_ != State::kHead; }
  bool done() const { return state_ == State::kDone; }
  bool chunked() const { return chunked_; }
  int status() const { return status_; }
  // A header's value ("" when absent); `name` in lower case.
  std::string Header(const std::string& name) const {
    auto it = headers_.find(name);
    return it == headers_.end() ? "" : it->second;
  }
  const std::string& body() const { return body_; }

 private:
  enum class State { kHead, kChunkSize, kChunkData, kChunkEnd, kTrailer, kBody, kUntilEof, kDone };

  bool ParseHead(const std::string& head) {
    std::size_t pos = head.find("\r\n");
    const std::string status_line = head.substr(0, pos);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return false;
    status_ = std::atoi(status_line.c_str() + 9);
    while (pos != std::string::npos) {
      const std::size_t start = pos + 2;
      pos = head.find("\r\n", start);
      const std::string line = head.substr(start, pos == std::string::npos ? pos : pos - start);
      const auto colon = line.find(':');
      if (colon == std::string::npos) return false;
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      headers_[Lower(line.substr(0, colon))] = value;
    }
    if (Lower(Header("transfer-encoding")).find("chunked") != std::string::npos) {
      chunked_ = true;
      state_ = State::kChunkSize;
    } else if (!Header("content-length").empty()) {
      remaining_ = std::stoull(Header("content-length"));
      state_ = remaining_ == 0 ? State::kDone : State::kBody;
    } else {
      state_ = State::kUntilEof;
    }
    return true;
  }

  State state_ = State::kHead;
  std::string buf_;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  bool chunked_ = false;
  std::uint64_t remaining_ = 0;
  std::string body_;
};

// One Server-Sent Events block (the lines up to a blank line).
struct SseBlock {
  std::string id, event, data, retry;
  std::string comment;  // a ": ..." line's text
};

// Splits an event stream's text into blocks; a block counts once its blank
// line arrived.
class SseParser {
 public:
  std::vector<SseBlock> Feed(std::string_view text) {
    buf_.append(text);
    std::vector<SseBlock> out;
    for (auto end = buf_.find("\n\n"); end != std::string::npos; end = buf_.find("\n\n")) {
      SseBlock b;
      std::size_t start = 0;
      while (start < end) {
        std::size_t eol = buf_.find('\n', start);
        if (eol > end) eol = end;
        const std::string line = buf_.substr(start, eol - start);
        start = eol + 1;
        const auto colon = line.find(':');
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.erase(0, 1);
        const std::string field = line.substr(0, colon);
        if (field.empty()) b.comment = value;
        if (field == "id") b.id = value;
        if (field == "event") b.event = value;
        if (field == "data") b.data += value;
        if (field == "retry") b.retry = value;
      }
      out.push_back(std::move(b));
      buf_.erase(0, end + 2);
    }
    return out;
  }

 private:
  std::string buf_;
};

std::string HttpRequest(const std::string& method, const std::string& target,
                        const std::string& headers = "", const std::string& body = "") {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers;
  if (!body.empty()) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

std::string Bearer(const std::string& token) { return "Authorization: Bearer " + token + "\r\n"; }

std::string StreamPath(const std::string& run_id) { return "/v1/runs/" + run_id + "/stream"; }

// Reads one whole response from `c` (false if it ends before, or times out).
bool ReadResponse(Conn& c, ResponseReader& r) {
  char buf[16 * 1024];
  while (!r.done()) {
    const ssize_t n = c.Read(buf, sizeof buf);
    if (n == 0) r.FeedEof();
    if (n <= 0) break;
    if (!r.Feed({buf, static_cast<std::size_t>(n)})) return false;
  }
  return r.done();
}

// Sends `request` on a new connection and reads the response.
ResponseReader Exchange(int port, const std::string& request) {
  Conn c(port);
  ResponseReader r;
  if (c.ok() && c.Send(request)) ReadResponse(c, r);
  return r;
}

// One GET of a run's event stream: the connection, the response, and the
// SSE blocks complete so far.
struct StreamClient {
  StreamClient(int port, const std::string& target, const std::string& headers) : conn(port) {
    sent = conn.ok() && conn.Send(HttpRequest("GET", target, headers));
  }

  // One read of at most `max` bytes: how many (0: the server closed; -1:
  // an error, a timeout, or nothing yet on a non-blocking socket).
  ssize_t Pump(std::size_t max = 64 * 1024) {
    std::vector<char> buf(max);
    const ssize_t n = conn.Read(buf.data(), max);
    if (n == 0) {
      eof = true;
      response.FeedEof();
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      failed = true;
    }
    if (n <= 0) return n;
    const std::size_t before = response.body().size();
    if (!response.Feed({buf.data(), static_cast<std::size_t>(n)})) failed = true;
    for (auto& b : sse.Feed(std::string_view(response.body()).substr(before))) {
      blocks.push_back(std::move(b));
    }
    return n;
  }

  // Reads until a block satisfies `want` (true), or the stream ends or
  // `timeout` passes (false).
  bool ReadUntil(const std::function<bool(const SseBlock&)>& want,
                 std::chrono::milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    for (std::size_t seen = 0;;) {
      for (; seen < blocks.size(); ++seen) {
        if (want(blocks[seen])) return true;
      }
      if (eof || failed || SteadyClock::now() >= deadline || Pump() <= 0) return false;
    }
  }
  // Reads until the server closes the connection (true) or `timeout`.
  bool ReadToClose(std::chrono::milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    while (!eof && !failed && SteadyClock::now() < deadline) {
      if (Pump() < 0) break;
    }
    return eof;
  }

  std::vector<std::int64_t> Ids() const {
    std::vector<std::int64_t> ids;
    for (const auto& b : blocks) {
      if (!b.id.empty()) ids.push_back(std::stoll(b.id));
    }
    return ids;
  }
  // The `end` event's data ("" when none came).
  std::string EndData() const {
    for (const auto& b : blocks) {
      if (b.event == "end") return b.data;
    }
    return "";
  }

  Conn conn;
  bool sent = false;
  ResponseReader response;
  SseParser sse;
  std::vector<SseBlock> blocks;
  bool eof = false;
  bool failed = false;
};

// Polls many non-blocking streams until `done` holds for each (true) or
// `timeout` passes, or a stream not done ended (false).
bool PollUntil(std::vector<std::unique_ptr<StreamClient>>& streams,
               const std::function<bool(const StreamClient&)>& done,
               std::chrono::milliseconds timeout, const std::function<void()>& each_round = {}) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<StreamClient*> who;
    for (auto& s : streams) {
      if (done(*s)) continue;
      if (s->eof || s->failed) return false;
      fds.push_back({s->conn.fd(), POLLIN, 0});
      who.push_back(s.get());
    }
    if (fds.empty()) return true;
    if (SteadyClock::now() >= deadline) return false;
    if (each_round) each_round();
    ::poll(fds.data(), fds.size(), 50);
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      while (who[i]->Pump() > 0) {
      }
    }
  }
}

int ThreadCount() {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)entry;
    ++n;
  }
  return n;
}

// "" when `got` is `want`; otherwise where they first differ.
std::string FirstDifference(const std::vector<std::int64_t>& got,
                            const std::vector<std::int64_t>& want) {
  for (std::size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    if (i >= got.size())
      return "ids end after " + std::to_string(i) + " of " + std::to_string(want.size()) +
             " (next wanted " + std::to_string(want[i]) + ")";
    if (i >= want.size()) return "extra id " + std::to_string(got[i]) + " at " + std::to_string(i);
    if (got[i] != want[i]) {
      return "at " + std::to_string(i) + ": got " + std::to_string(got[i]) + ", want " +
             std::to_string(want[i]) + (i > 0 ? " (after " + std::to_string(got[i - 1]) + ")" : "");
    }
  }
  return "";
}

constexpr const char* kFinished = R"({"reason":"finished"})";
constexpr const char* kShutdown = R"({"reason":"shutdown"})";
constexpr const char* kProblemJson = "application/problem+json";

// --- the fixture ------------------------------------------------------------

// A store that hands everything to another, and can run a hook before one
// of its reads: to commit something between two reads of one request.
class HookedStore final : public store::Store {
 public:
  explicit HookedStore(store::Store& inner) : inner_(inner) {}

  Status Read(const std::function<Status(store::Tx&)>& fn) override {
    std::function<void()> hook;
    {
      std::lock_guard lock(mu_);
      if (hook_ && when_()) hook = std::exchange(hook_, nullptr);
    }
    if (hook) {
      hook();
      fired_ = true;
    }
    return inner_.Read(fn);
  }
  Status Write(const std::function<Status(store::Tx&)>& fn) override { return inner_.Write(fn); }
  std::string Describe() const override { return inner_.Describe(); }
  int SchemaVersion() override { return inner_.SchemaVersion(); }

  // Runs `hook` before the `nth` read from now on (1: the next one).
  void BeforeRead(int nth, std::function<void()> hook) {
    When([nth]() mutable { return --nth == 0; }, std::move(hook));
  }
  // Runs `hook` before the first read at which `when` holds.
  void When(std::function<bool()> when, std::function<void()> hook) {
    std::lock_guard lock(mu_);
    when_ = std::move(when);
    hook_ = std::move(hook);
    fired_ = false;
  }
  // Forgets the hook; true if it had not run.
  bool Disarm() {
    std::lock_guard lock(mu_);
    return std::exchange(hook_, nullptr) != nullptr;
  }
  bool fired() const { return fired_; }

 private:
  store::Store& inner_;
  std::mutex mu_;
  std::function<bool()> when_;
  std::function<void()> hook_;
  std::atomic<bool> fired_{false};
};

class ServerTest : public engine::EngineTest {
 protected:
  void SetUp() override {
    engine::EngineTest::SetUp();
    // Hundreds of requests from one token in no simulated time: no budget.
    config_.server.rate_token = 1'000'000;
    config_.server.rate_org = 1'000'000;
    hooked_ = std::make_unique<HookedStore>(*store_);
    app_ = std::make_unique<service::App>(
        service::App{config_, *hooked_, *artifacts_, *engine_, targets_, clock_, random_});
    auth_ = std::make_unique<Authenticator>(*store_, clock_, nullptr, jwt::Policy{});
    api_ = std::make_unique<Api>(*app_, *auth_, metrics_, ApiOptions{});
    hub_ = std::make_unique<Hub>(*store_, /*poll_ms=*/5);
    ASSERT_TRUE(hub_->Start().ok());
    auto org = store::ReadValue<store::Org>(
        *store_, [&](store::Tx& tx) { return tx.GetOrg(tenant_.org_id); });
    ASSERT_TRUE(org.ok()) << org.problem().Message();
    token_ = MakeToken(*org);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
    if (!JoinRunner(10s)) {
      std::fprintf(stderr, "Server::Run did not return 10 s after Shutdown\n");
      std::abort();  // joining would hang the suite
    }
    if (hub_) hub_->Stop();
    server_.reset();
  }

  static ServerOptions FastOptions() {
    ServerOptions o;
    o.port = 0;
    o.heartbeat = 200;
    o.read_timeout = 2'000;
    o.idle_timeout = 2'000;
    o.write_timeout = 2'000;
    o.drain_timeout = 3'000;
    return o;
  }

  // Listens on a free port and serves on a thread of its own.
  int Start(ServerOptions o = FastOptions()) {
    server_ = std::make_unique<Server>(*api_, *hub_, std::move(o));
    auto port = server_->Listen();
    EXPECT_TRUE(port.ok()) << port.problem().Message();
    std::promise<void> ran;
    stopped_ = ran.get_future();
    runner_ = std::thread([this, ran = std::move(ran)]() mutable {
      server_->Run();
      ran.set_value();
    });
    return port.ok() ? *port : 0;
  }

  // Waits for Run to return; false after `timeout`.
  bool JoinRunner(std::chrono::milliseconds timeout) {
    if (!runner_.joinable()) return true;
    if (stopped_.wait_for(timeout) != std::future_status::ready) return false;
    runner_.join();
    return true;
  }

  std::string MakeToken(const store::Org& org) {
    const NewSecret secret = MakeTokenSecret();
    auto t = service::CreateToken(*app_, org, "ci", "viewer", "", 0, secret.hash, {"test"});
    EXPECT_TRUE(t.ok()) << t.problem().Message();
    return secret.secret;
  }

  // A running run of the fixture's project, with no events yet.
  std::string NewRun() {
    store::Run r;
    r.id = NewId(clock_, random_);
    r.tenant = tenant_;
    r.project_id = project_id_;
    r.kind = store::RunKind::kReadiness;
    r.status = store::RunStatus::kRunning;
    r.logs_ref = "logs/" + r.id;
    r.created_at = r.updated_at = clock_.Now();
    EXPECT_TRUE(store_->Write([&](store::Tx& tx) { return tx.CreateRun(r); }).ok());
    return r.id;
  }

  // Appends an event to the run; its seq (-1 on a failure). Thread-safe.
  std::int64_t Append(const std::string& run_id, const std::string& name,
                      Json payload = Json::object()) {
    const store::Event e{0, tenant_, project_id_, run_id, name, std::move(payload), kEventTime};
    auto seq =
        store::WriteValue<std::int64_t>(*store_, [&](store::Tx& tx) { return tx.AppendEvent(e); });
    return seq.ok() ? *seq : -1;
  }

  // Marks the run done and appends its run.done in one transaction, as the
  // engine does; the event's seq (-1 on a failure). Thread-safe.
  std::int64_t Finish(const std::string& run_id) {
    const store::Event e{0, tenant_, project_id_, run_id, "run.done", Json::object(), kEventTime};
    auto seq = store::WriteValue<std::int64_t>(*store_, [&](store::Tx& tx) -> Result<std::int64_t> {
      PS_ASSIGN(store::Run r, tx.GetRun(tenant_, run_id));
      r.status = store::RunStatus::kDone;
      r.updated_at = kEventTime;
      PS_TRY(tx.UpdateRun(r));
      return tx.AppendEvent(e);
    });
    return seq.ok() ? *seq : -1;
  }

  std::vector<std::int64_t> Seqs(const std::string& run_id) {
    std::vector<std::int64_t> seqs;
    for (const auto& e : Events(run_id)) seqs.push_back(e.seq);
    return seqs;
  }

  static constexpr Millis kEventTime = 1'700'000'000'000;

  targets::Targets targets_;
  std::unique_ptr<HookedStore> hooked_;  // the API's store
  std::unique_ptr<service::App> app_;
  std::unique_ptr<Authenticator> auth_;
  Metrics metrics_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<Hub> hub_;
  std::string token_;  // a viewer of the fixture's org
  std::unique_ptr<Server> server_;
  std::thread runner_;
  std::future<void> stopped_;
};

// --- event streams ----------------------------------------------------------

TEST_F(ServerTest, SseResumesWithoutGapOrDuplicate) {
  const int port = Start();
  const std::string run = NewRun();
  std::atomic<bool> write_failed{false};
  std::thread writer([&] {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> pause_us(0, 600);
    for (int i = 0; i < 1000; ++i) {
      if (Append(run, "stage.progress", {{"i", i}}) < 0) write_failed = true;
      std::this_thread::sleep_for(std::chrono::microseconds(pause_us(rng)));
    }
    if (Finish(run) < 0) write_failed = true;
  });

  // Connect, read a random number of bytes (cutting an event anywhere),
  // vanish, and resume from the last whole event seen; until the end.
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> budget_of(1, 8 * 1024);
  std::vector<std::int64_t> seen;
  std::string last, end;
  int connections = 0, with_blocks = 0, retry_first = 0;
  const auto deadline = SteadyClock::now() + 20s;
  while (end.empty() && SteadyClock::now() < deadline) {
    ++connections;
    StreamClient s(port, StreamPath(run),
                   Bearer(token_) + (last.empty() ? "" : "Last-Event-ID: " + last + "\r\n"));
    ASSERT_TRUE(s.sent) << "connection " << connections;
    for (std::size_t budget = budget_of(rng); budget > 0;) {
      const ssize_t n = s.Pump(budget);
      if (n <= 0) break;
      budget -= static_cast<std::size_t>(n);
    }
    ASSERT_FALSE(s.failed) << "connection " << connections;
    if (s.response.headers_done()) {
      ASSERT_EQ(s.response.status(), 200) << s.response.body();
      EXPECT_EQ(s.response.Header("content-type"), "text/event-stream");
      EXPECT_TRUE(s.response.chunked());
    }
    if (!s.blocks.empty()) {
      ++with_blocks;
      retry_first += s.blocks.front().retry == "3000";
    }
    for (const auto& b : s.blocks) {
      if (b.event == "end") {
        end = b.data;
        break;
      }
      if (!b.id.empty()) {
        seen.push_back(std::stoll(b.id));
        last = b.id;
      }
    }
    s.conn.Abort();
  }
  writer.join();
  ASSERT_FALSE(write_failed);
  EXPECT_EQ(end, kFinished);
  const std::vector<std::int64_t> want = Seqs(run);
  ASSERT_EQ(want.size(), 1001u);
  EXPECT_EQ(FirstDifference(seen, want), "");
  // The stream was cut many times, and each began with its retry advice.
  EXPECT_GT(connections, 20);
  EXPECT_GT(with_blocks, 0);
  EXPECT_EQ(retry_first, with_blocks);
}

TEST_F(ServerTest, ResumeWithAfterQueryParam) {
  const int port = Start();
  const std::string run = NewRun();
  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 10; ++i) seqs.push_back(Append(run, "stage.progress", {{"i", i}}));
  seqs.push_back(Finish(run));
  const std::vector<std::int64_t> rest(seqs.begin() + 5, seqs.end());

  StreamClient after(port, StreamPath(run) + "?after=" + std::to_string(seqs[4]), Bearer(token_));
  ASSERT_TRUE(after.ReadToClose(5s));
  EXPECT_EQ(after.response.status(), 200);
  EXPECT_TRUE(after.response.done());  // the last chunk came
  EXPECT_EQ(after.Ids(), rest);
  EXPECT_EQ(after.EndData(), kFinished);

  // The same as Last-Event-ID.
  StreamClient header(port, StreamPath(run),
                      Bearer(token_) + "Last-Event-ID: " + std::to_string(seqs[4]) + "\r\n");
  ASSERT_TRUE(header.ReadToClose(5s));
  EXPECT_EQ(header.Ids(), rest);
  EXPECT_EQ(header.EndData(), kFinished);

  // Not a sequence number: 400.
  const ResponseReader bad =
      Exchange(port, HttpRequest("GET", StreamPath(run) + "?after=x", Bearer(token_)));
  EXPECT_EQ(bad.status(), 400);
}

TEST_F(ServerTest, TooOldResumePointIs410) {
  ServerOptions o = FastOptions();
  o.max_replay = 10;
  const int port = Start(o);
  const std::string run = NewRun();
  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 50; ++i) seqs.push_back(Append(run, "stage.progress", {{"i", i}}));

  Conn c(port);
  ASSERT_TRUE(c.Send(HttpRequest("GET", StreamPath(run), Bearer(token_) + "Last-Event-ID: 0\r\n")));
  ResponseReader r;
  ASSERT_TRUE(ReadResponse(c, r));
  EXPECT_EQ(r.status(), 410);
  EXPECT_EQ(r.Header("content-type"), kProblemJson);
  EXPECT_FALSE(r.chunked());  // one response, not a stream
  const Json problem = Json::parse(r.body(), nullptr, false);
  ASSERT_TRUE(problem.is_object()) << r.body();
  EXPECT_EQ(problem["status"], 410);
  // Nothing follows it: the server closes the connection.
  char byte = 0;
  EXPECT_EQ(c.Read(&byte, 1), 0);

  // Within max_replay: a stream of what is left.
  StreamClient recent(port, StreamPath(run) + "?after=" + std::to_string(seqs[44]), Bearer(token_));
  ASSERT_TRUE(
      recent.ReadUntil([&](const SseBlock& b) { return b.id == std::to_string(seqs[49]); }, 5s));
  EXPECT_EQ(recent.response.status(), 200);
  EXPECT_EQ(recent.Ids(), std::vector<std::int64_t>(seqs.begin() + 45, seqs.end()));
}

TEST_F(ServerTest, HeartbeatComments) {
  ServerOptions o = FastOptions();
  o.heartbeat = 100;
  const int port = Start(o);
  const std::string run = NewRun();
  StreamClient s(port, StreamPath(run), Bearer(token_));
  const auto start = SteadyClock::now();
  ASSERT_TRUE(s.ReadUntil([](const SseBlock& b) { return b.comment == "keep-alive"; }, 3s))
      << s.response.body();
  EXPECT_LT(SteadyClock::now() - start, 2s);
  EXPECT_TRUE(s.Ids().empty());
  EXPECT_EQ(s.blocks.front().retry, "3000");
}

TEST_F(ServerTest, GracefulShutdownEndsStreams) {
  const int port = Start();
  const std::string run = NewRun();
  const std::int64_t started = Append(run, "stage.started");
  std::vector<std::unique_ptr<StreamClient>> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back(std::make_unique<StreamClient>(port, StreamPath(run), Bearer(token_)));
    ASSERT_TRUE(streams.back()->ReadUntil(
        [&](const SseBlock& b) { return b.id == std::to_string(started); }, 5s));
  }
  EXPECT_EQ(server_->open_streams(), 3);

  std::thread stopper([this] { server_->Shutdown(); });
  for (auto& s : streams) {
    EXPECT_TRUE(s->ReadToClose(5s));
    EXPECT_TRUE(s->response.done()) << "the stream's last chunk";
    EXPECT_EQ(s->EndData(), kShutdown);
    EXPECT_EQ(s->blocks.back().event, "end");
  }
  stopper.join();
  ASSERT_TRUE(JoinRunner(5s)) << "Server::Run returns once the streams ended";
  EXPECT_EQ(server_->open_streams(), 0);
  // Draining: /readyz says 503 (balancers stop sending).
  EXPECT_TRUE(api_->draining());
  Request ready;
  ready.method = "GET";
  ready.path = "/readyz";
  EXPECT_EQ(api_->Handle(ready).status, 503);
}

// The run finishes while a stream is being opened (before any one of the
// request's reads of the store): the stream still carries run.done, then
// its end.
TEST_F(ServerTest, RunEndingWhileAStreamOpensStillSendsItsLastEvent) {
  const int port = Start();
  for (int nth = 1; nth <= 6; ++nth) {
    SCOPED_TRACE("the run ends before the API's read " + std::to_string(nth));
    const std::string run = NewRun();
    Append(run, "stage.started");
    std::atomic<std::int64_t> done{0};
    hooked_->BeforeRead(nth, [&] { done = Finish(run); });
    StreamClient s(port, StreamPath(run), Bearer(token_));
    ASSERT_TRUE(s.ReadUntil([](const SseBlock& b) { return !b.retry.empty(); }, 5s));
    if (hooked_->Disarm()) done = Finish(run);  // fewer reads: it ends now
    ASSERT_TRUE(s.ReadToClose(5s));
    EXPECT_EQ(s.EndData(), kFinished);
    EXPECT_EQ(FirstDifference(s.Ids(), Seqs(run)), "");
    EXPECT_EQ(s.Ids().back(), done.load());
  }
}

// Shutdown while a stream catches up on the past (its request answered,
// its first bytes not yet written): it still gets its final event.
TEST_F(ServerTest, StreamOpeningDuringShutdownStillEnds) {
  const int port = Start();
  const std::string run = NewRun();
  const std::int64_t started = Append(run, "stage.started");
  hooked_->When(
      [this] { return metrics_.Render().find("/v1/runs/{id}/stream") != std::string::npos; },
      [this] {
        server_->Shutdown();
        std::this_thread::sleep_for(100ms);
      });
  StreamClient s(port, StreamPath(run), Bearer(token_));
  EXPECT_TRUE(s.ReadToClose(3s));
  EXPECT_TRUE(hooked_->fired());
  EXPECT_EQ(s.Ids(), std::vector<std::int64_t>{started});
  EXPECT_EQ(s.EndData(), kShutdown);
}

// --- HTTP -------------------------------------------------------------------

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  const int port = Start();
  Conn c(port);
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE("request " + std::to_string(i + 1));
    ASSERT_TRUE(c.Send(HttpRequest("GET", "/healthz")));
    ResponseReader r;
    ASSERT_TRUE(ReadResponse(c, r));
    EXPECT_EQ(r.status(), 200);
    EXPECT_NE(Lower(r.Header("connection")), "close");
    const Json body = Json::parse(r.body(), nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body();
    EXPECT_EQ(body["status"], "ok");
  }
}

TEST_F(ServerTest, BodyTooLargeIs413) {
  ServerOptions o = FastOptions();
  o.body_limit = 64;
  const int port = Start(o);
  const ResponseReader r =
      Exchange(port, HttpRequest("POST", "/v1/orgs/acme/workspaces",
                                 Bearer(token_) + "Content-Type: application/json\r\n",
                                 std::string(1000, 'x')));
  EXPECT_EQ(r.status(), 413);
  EXPECT_EQ(r.Header("content-type"), kProblemJson);
  // A body under the limit gets through to the API.
  const ResponseReader small = Exchange(
      port,
      HttpRequest("POST", "/v1/orgs/acme/workspaces", "Content-Type: application/json\r\n", "{}"));
  EXPECT_EQ(small.status(), 401);
}

TEST_F(ServerTest, HeadersTooLargeIs431) {
  ServerOptions o = FastOptions();
  o.header_limit = 1024;
  const int port = Start(o);
  const ResponseReader r =
      Exchange(port, HttpRequest("GET", "/healthz", "X-Big: " + std::string(4000, 'a') + "\r\n"));
  EXPECT_EQ(r.status(), 431);
  EXPECT_EQ(r.Header("content-type"), kProblemJson);
  EXPECT_EQ(Exchange(port, HttpRequest("GET", "/healthz")).status(), 200);
}

TEST_F(ServerTest, MalformedRequestIs400) {
  const int port = Start();
  const ResponseReader r = Exchange(port, "this is not HTTP at all\r\n\r\n");
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(r.Header("content-type"), kProblemJson);
}

TEST_F(ServerTest, UnknownRouteIs404ProblemJson) {
  const int port = Start();
  const ResponseReader r = Exchange(port, HttpRequest("GET", "/v1/no-such-thing"));
  EXPECT_EQ(r.status(), 404);
  EXPECT_EQ(r.Header("content-type"), kProblemJson);
  const Json problem = Json::parse(r.body(), nullptr, false);
  ASSERT_TRUE(problem.is_object()) << r.body();
  EXPECT_EQ(problem["status"], 404);
}

TEST_F(ServerTest, NoTokenIs401WithWwwAuthenticate) {
  const int port = Start();
  const std::string run = NewRun();
  const ResponseReader r = Exchange(port, HttpRequest("GET", StreamPath(run)));
  EXPECT_EQ(r.status(), 401);
  EXPECT_EQ(r.Header("content-type"), kProblemJson);
  EXPECT_EQ(r.Header("www-authenticate").rfind("Bearer ", 0), 0u) << r.Header("www-authenticate");
  // A token that is not one: 401 too, and the challenge says so.
  const ResponseReader wrong =
      Exchange(port, HttpRequest("GET", StreamPath(run), Bearer("pst_nope")));
  EXPECT_EQ(wrong.status(), 401);
  EXPECT_NE(wrong.Header("www-authenticate").find("invalid_token"), std::string::npos);
}

// --- tenancy and scale ------------------------------------------------------

TEST_F(ServerTest, AnotherTenantsRunIs404) {
  const int port = Start();
  const std::string run = NewRun();
  Append(run, "stage.started");
  auto beta = service::CreateOrg(*app_, "beta", "user:b", {"test"});
  ASSERT_TRUE(beta.ok()) << beta.problem().Message();
  const std::string other = MakeToken(*beta);
  const ResponseReader r = Exchange(port, HttpRequest("GET", StreamPath(run), Bearer(other)));
  EXPECT_EQ(r.status(), 404);
  EXPECT_EQ(r.Header("content-type"), kProblemJson);
  EXPECT_EQ(r.body().find("stage.started"), std::string::npos);
  // The run's own org sees it.
  StreamClient own(port, StreamPath(run), Bearer(token_));
  EXPECT_TRUE(own.ReadUntil([](const SseBlock& b) { return b.event == "stage.started"; }, 5s));
}

TEST_F(ServerTest, ManyStreamsFewThreads) {
  ServerOptions o = FastOptions();
  o.io_threads = 1;
  o.handler_threads = 2;
  o.heartbeat = 1'000;
  const int port = Start(o);
  const std::string run = NewRun();
  constexpr int kStreams = 300;
  std::vector<std::unique_ptr<StreamClient>> streams;
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(std::make_unique<StreamClient>(port, StreamPath(run), Bearer(token_)));
    ASSERT_TRUE(streams.back()->sent) << "stream " << i;
    streams.back()->conn.SetNonBlocking();
  }
  int most_threads = 0;
  auto count_threads = [&] { most_threads = std::max(most_threads, ThreadCount()); };
  // Each stream open: its first block (retry) came, so it is subscribed.
  ASSERT_TRUE(PollUntil(
      streams, [](const StreamClient& s) { return !s.blocks.empty(); }, 15s, count_threads));
  EXPECT_EQ(server_->open_streams(), kStreams);
  EXPECT_EQ(hub_->subscribers(), static_cast<std::size_t>(kStreams));

  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 19; ++i) seqs.push_back(Append(run, "stage.progress", {{"i", i}}));
  seqs.push_back(Finish(run));
  ASSERT_TRUE(PollUntil(
      streams, [](const StreamClient& s) { return s.eof; }, 15s, count_threads));
  count_threads();
  for (std::size_t i = 0; i < streams.size(); ++i) {
    SCOPED_TRACE("stream " + std::to_string(i));
    EXPECT_EQ(streams[i]->response.status(), 200);
    EXPECT_EQ(FirstDifference(streams[i]->Ids(), seqs), "");
    EXPECT_EQ(streams[i]->EndData(), kFinished);
    if (HasFailure()) break;
  }
  EXPECT_LT(most_threads, 60);
}

}  // namespace
}  // namespace ps::api
