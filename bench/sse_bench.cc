// Event fan-out to many live streams (issue 18), the client half of
// bench/sse_bench.py: opens N event streams on one run of a running
// `prodsprint serve` (one epoll thread, non-blocking sockets), then appends
// events to that run straight into the server's store (another process, as
// a worker elsewhere would), each carrying its wall-clock time in µs, and
// measures for every stream and event how long after the append it arrived.
//
//   sse_bench --port P --token T --db STATE.db --project ID [--clients 5000]
//             [--events 100] [--rate 10]
//
// With --clients 0 it only writes (tests/api/eventsource_test.sh follows the
// run with a client of its own).
//
// Prints one JSON line: delivered/expected, fan-out latency percentiles (ms).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "store/sqlite/sqlite_store.h"
#include "store/tenancy.h"

namespace {

using namespace ps;

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Client {
  int fd = -1;
  std::string out;     // request left to send
  std::string in;      // bytes not yet split into lines
  bool ready = false;  // the stream began (its `retry:` line arrived)
  bool ended = false;
  int events = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  int clients = 5000;
  int events = 100;
  double rate = 10;
  std::string token, db, project;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--port") port = std::stoi(v);
    if (k == "--token") token = v;
    if (k == "--db") db = v;
    if (k == "--project") project = v;
    if (k == "--clients") clients = std::stoi(v);
    if (k == "--events") events = std::stoi(v);
    if (k == "--rate") rate = std::stod(v);
  }
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);

  // The run the streams follow, made in the server's store.
  auto opened = store::sqlite::SqliteStore::Open(db);
  if (!opened.ok()) {
    std::cerr << opened.problem().Message() << "\n";
    return 1;
  }
  auto st = std::move(opened).value();
  SystemClock& clock = SystemClock::Instance();
  SystemRandom& random = SystemRandom::Instance();
  auto tenant = store::FindTenant(*st, "default", "default");
  if (!tenant.ok()) {
    std::cerr << tenant.problem().Message() << "\n";
    return 1;
  }
  store::Run run;
  run.id = NewId(clock, random);
  run.tenant = *tenant;
  run.project_id = project;
  run.kind = store::RunKind::kRelease;
  run.status = store::RunStatus::kRunning;
  run.created_at = run.updated_at = clock.Now();
  if (!st->Write([&](store::Tx& tx) { return tx.CreateRun(run); }).ok()) {
    std::cerr << "cannot create the run\n";
    return 1;
  }

  const int ep = epoll_create1(0);
  std::vector<Client> cs(static_cast<std::size_t>(clients));
  const std::string request = "GET /v1/runs/" + run.id +
                              "/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                              token + "\r\nAccept: text/event-stream\r\n\r\n";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(clients) * static_cast<std::size_t>(events));
  int connected_ok = 0;
  int ready = 0;
  int ended = 0;
  int failed = 0;

  auto open_one = [&](std::size_t i) {
    Client& c = cs[i];
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    c.out = request;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  };

  auto pump = [&](int timeout_ms) {
    epoll_event evs[512];
    const int n = epoll_wait(ep, evs, 512, timeout_ms);
    const std::int64_t now = NowUs();
    for (int k = 0; k < n; ++k) {
      Client& c = cs[evs[k].data.u64];
      if (c.fd < 0) continue;
      if ((evs[k].events & EPOLLOUT) && !c.out.empty()) {
        const ssize_t w = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (w > 0) c.out.erase(0, static_cast<std::size_t>(w));
        if (c.out.empty()) {
          ++connected_ok;
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u64 = evs[k].data.u64;
          epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        }
      }
      if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        char buf[16384];
        for (;;) {
          const ssize_t r = recv(c.fd, buf, sizeof buf, 0);
          if (r <= 0) {
            if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
              if (!c.ended) ++failed;
              close(c.fd);
              c.fd = -1;
            }
            break;
          }
          c.in.append(buf, static_cast<std::size_t>(r));
        }
        std::size_t start = 0;
        for (;;) {
          const auto nl = c.in.find('\n', start);
          if (nl == std::string::npos) break;
          const std::string_view line(c.in.data() + start, nl - start);
          if (!c.ready && line.rfind("retry:", 0) == 0) {
            c.ready = true;
            ++ready;
          } else if (line.rfind("event: end", 0) == 0) {
            if (!c.ended) ++ended;
            c.ended = true;
          } else if (line.rfind("data: ", 0) == 0) {
            const auto at = line.find("\"t_us\":");
            if (at != std::string_view::npos) {
              const std::int64_t t = std::atoll(std::string(line.substr(at + 7, 20)).c_str());
              latencies.push_back(static_cast<double>(now - t) / 1000.0);
              ++c.events;
            }
          }
          start = nl + 1;
        }
        c.in.erase(0, start);
      }
    }
  };

  // Connect in waves (the listen backlog is finite), then wait for every
  // stream to begin.
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < cs.size(); ++i) {
    open_one(i);
    if (i % 200 == 199) pump(1);
  }
  while (ready + failed < clients &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(120)) {
    pump(50);
  }
  const double connect_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cerr << "streams open: " << ready << "/" << clients << " in " << connect_s << " s\n";
  std::fflush(stdout);
  std::cout << "{\"phase\":\"open\",\"streams\":" << ready << ",\"run\":\"" << run.id << "\"}"
            << std::endl;

  // The writer: events at `rate` per second, then run.done.
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    const auto period = std::chrono::microseconds(static_cast<std::int64_t>(1e6 / rate));
    auto next = std::chrono::steady_clock::now();
    for (int e = 0; e <= events; ++e) {
      std::this_thread::sleep_until(next);
      next += period;
      store::Event ev;
      ev.tenant = run.tenant;
      ev.project_id = run.project_id;
      ev.run_id = run.id;
      ev.name = e < events ? "release.progress" : "run.done";
      ev.payload = {{"t_us", NowUs()}, {"n", e}};
      ev.created_at = clock.Now();
      (void)st->Write([&](store::Tx& tx) -> Status {
        PS_TRY(tx.AppendEvent(ev));
        return Ok();
      });
    }
    writing = false;
  });
  const auto t1 = std::chrono::steady_clock::now();
  while ((writing || ended + failed < ready) &&
         std::chrono::steady_clock::now() - t1 <
             std::chrono::seconds(static_cast<int>(events / rate) + 60)) {
    pump(20);
  }
  writer.join();

  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    if (latencies.empty()) return -1.0;
    return latencies[std::min(latencies.size() - 1,
                              static_cast<std::size_t>(p * static_cast<double>(latencies.size())))];
  };
  const long expected = static_cast<long>(ready) * (events + 1);
  std::cout << "{\"phase\":\"done\",\"clients\":" << clients << ",\"streams\":" << ready
            << ",\"ended\":" << ended << ",\"failed\":" << failed
            << ",\"delivered\":" << latencies.size() << ",\"expected\":" << expected
            << ",\"p50_ms\":" << pct(0.5) << ",\"p90_ms\":" << pct(0.9)
            << ",\"p99_ms\":" << pct(0.99)
            << ",\"max_ms\":" << (latencies.empty() ? -1 : latencies.back())
            << ",\"connect_s\":" << connect_s << "}" << std::endl;
  return 0;
}
