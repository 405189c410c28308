// `prodsprint load`: an HTTP/1.1 load generator with coordinated-omission
// corrected latency.
#include <arpa/inet.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "cli/command.h"
#include "load/http_load.h"

namespace ps::cli {
namespace {

struct LoadArgs {
  std::vector<std::string> urls;  // one host:port; each path is a route
  double rate = 100;
  double duration_s = 10;
  double warmup_s = 0;
  int connections = 16;
  int threads = 1;
  bool closed = false;
  bool json = false;
};
Result<int> CmdLoad(const LoadArgs& a) {
  // http://ADDRESS:PORT/path only: a load generator for addresses it can
  // reach without name resolution.
  load::LoadOptions lo;
  lo.paths.clear();
  for (const auto& url : a.urls) {
    const std::string prefix = "http://";
    if (url.rfind(prefix, 0) != 0)
      return problems::InvalidInput("the URL must start with http://: " + url);
    std::string rest = url.substr(prefix.size());
    const auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash),
                path = slash == std::string::npos ? "/" : rest.substr(slash);
    const auto colon = hostport.rfind(':');
    std::string host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
    if (host == "localhost") host = "127.0.0.1";
    int port = 80;
    if (colon != std::string::npos) {
      const std::string p = hostport.substr(colon + 1);
      auto r = std::from_chars(p.data(), p.data() + p.size(), port);
      if (r.ec != std::errc() || r.ptr != p.data() + p.size() || port < 1 || port > 65535)
        return problems::InvalidInput("bad port in " + url);
    }
    in_addr probe{};
    if (inet_pton(AF_INET, host.c_str(), &probe) != 1) {
      return problems::InvalidInput("give an IPv4 address (no name resolution): " + url);
    }
    if (path.find_first_of(" \r\n") != std::string::npos)
      return problems::InvalidInput("a path may not hold spaces or line breaks: " + url);
    if (lo.paths.empty()) {
      lo.host = host;
      lo.port = port;
    } else if (host != lo.host || port != lo.port) {
      return problems::InvalidInput("every URL must name the same host and port: " + url);
    }
    lo.paths.push_back(path);
  }
  lo.rate = a.rate;
  lo.closed_loop = a.closed;
  lo.connections = a.connections;
  lo.threads = std::min(a.threads, a.connections);
  lo.warmup_ms = static_cast<std::int64_t>(a.warmup_s * 1000);
  lo.duration_ms = static_cast<std::int64_t>((a.duration_s + a.warmup_s) * 1000);
  load::LoadGenerator gen(lo);
  gen.Start();
  // Until the duration passes or Ctrl-C: then the summary of what was sent.
  const Term term = Term::Detect();
  const bool live = !a.json && isatty(STDERR_FILENO);
  const auto begin = std::chrono::steady_clock::now();
  const auto end = begin + std::chrono::milliseconds(lo.duration_ms);
  auto last = begin;
  while (std::chrono::steady_clock::now() < end && !g_interrupted) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto now = std::chrono::steady_clock::now();
    if (live && now - last >= std::chrono::seconds(1)) {
      last = now;
      const auto s = gen.Summarize();
      const double elapsed = std::chrono::duration<double>(now - begin).count();
      std::fprintf(stderr, "\r  %4.0fs/%.0fs  %lld requests  %.0f/s  p99 %.2f ms  %lld failed   ",
                   elapsed, a.duration_s + a.warmup_s, static_cast<long long>(s.completed),
                   s.achieved_rate, s.p99_ms, static_cast<long long>(s.failed));
    }
  }
  if (live) std::fprintf(stderr, "\r%78s\r", "");
  gen.Stop();
  gen.Wait();
  const auto s = gen.Summarize();
  // Nothing answered well: the target is down or wrong, not "measured".
  const bool every_failed = s.completed == 0 || s.failed >= s.completed;
  if (a.json) {
    Json j = s.ToJson();
    j["connections"] = lo.connections;
    j["threads"] = lo.threads;
    if (!lo.closed_loop) j["rate"] = lo.rate;
    std::cout << Dump(j, 2) << std::endl;
    return every_failed ? kExitFailed : kExitOk;
  }
  std::printf("%s %s loop, %d connection(s) on %d thread(s)%s\n", term.Bold("Load").c_str(),
              lo.closed_loop ? "closed" : "open", lo.connections, lo.threads,
              lo.closed_loop ? "" : (", " + FormatNumber(lo.rate) + " requests/s offered").c_str());
  std::printf(
      "  %lld requests in %.1fs: %.1f/s, %lld failed (2xx %lld, 3xx %lld, 4xx %lld, 5xx "
      "%lld, no answer %lld)\n",
      static_cast<long long>(s.completed), s.duration_s, s.achieved_rate,
      static_cast<long long>(s.failed), static_cast<long long>(s.status_2xx),
      static_cast<long long>(s.status_3xx), static_cast<long long>(s.status_4xx),
      static_cast<long long>(s.status_5xx), static_cast<long long>(s.errors));
  std::printf("  latency %s   p50 %8s  p90 %8s  p95 %8s  p99 %8s  p99.9 %8s  max %8s\n",
              lo.closed_loop ? "(service)  " : "(from due) ", load::FormatMs(s.p50_ms).c_str(),
              load::FormatMs(s.p90_ms).c_str(), load::FormatMs(s.p95_ms).c_str(),
              load::FormatMs(s.p99_ms).c_str(), load::FormatMs(s.p999_ms).c_str(),
              load::FormatMs(s.max_ms).c_str());
  if (s.routes.size() > 1) {
    for (const auto& r : s.routes) {
      const auto& h = r.latency;
      std::printf(
          "  %-22s p50 %8s  p90 %8s  p95 %8s  p99 %8s  p99.9 %8s  max %8s  (%llu, %llu "
          "failed)\n",
          r.route.size() > 22 ? (r.route.substr(0, 21) + "~").c_str() : r.route.c_str(),
          load::FormatMs(h.QuantileMs(0.5)).c_str(), load::FormatMs(h.QuantileMs(0.9)).c_str(),
          load::FormatMs(h.QuantileMs(0.95)).c_str(), load::FormatMs(h.QuantileMs(0.99)).c_str(),
          load::FormatMs(h.QuantileMs(0.999)).c_str(), load::FormatMs(h.MaxMs()).c_str(),
          static_cast<unsigned long long>(r.requests), static_cast<unsigned long long>(r.failed));
    }
  }
  if (every_failed) {
    std::fprintf(stderr, "every request failed: is the service up at that address?\n");
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

void RegisterLoad(Commands& commands) {
  auto a = std::make_shared<LoadArgs>();
  auto* load = commands.app().add_subcommand(
      "load",
      "Load-test an HTTP/1.1 server over keep-alive connections and report throughput, errors\n"
      "and latency percentiles (p50 p90 p95 p99 p99.9 max), overall and per URL. Open loop by\n"
      "default: requests are due at --rate per second whatever the server does, and latency\n"
      "counts from when each was due (corrected for coordinated omission). --closed: each\n"
      "connection sends its next request when the last is answered (wrk's model).");
  load->add_option("URL", a->urls,
                   "http://127.0.0.1:PORT/path; several URLs (same host and port) are requested "
                   "in turn")
      ->required();
  load->add_option("--rate", a->rate, "Requests per second (open loop)")
      ->check(CLI::Range(0.1, 1e7))
      ->capture_default_str();
  load->add_option("--duration", a->duration_s, "Seconds")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  load->add_option("--warmup", a->warmup_s, "Seconds at the start not counted")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  load->add_option("--connections", a->connections, "Connections")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  load->add_option("--threads", a->threads, "Event-loop threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  load->add_flag("--closed", a->closed, "Closed loop: as fast as the server answers");
  load->add_flag("--json", a->json, "Machine-readable output");

  commands.Add(
      load, [a] { return CmdLoad(*a); }, std::shared_ptr<const bool>(a, &a->json));
}

}  // namespace ps::cli
