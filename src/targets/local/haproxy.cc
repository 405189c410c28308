#include "targets/local/haproxy.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

namespace ps::targets::local {

std::string RenderHaproxyConfig(const RouterConfig& c) {
  std::string o;
  o += "# Written by ProdSprint for the local target. Weights here are kept equal to the\n";
  o += "# live ones set through the runtime API, so a restart keeps the traffic split.\n";
  o += "global\n";
  o += "  maxconn 4096\n";
  // expose-fd: a reload hands the listening sockets to the new worker, so
  // no connection attempt meets a closed port.
  o += "  stats socket " + c.admin_socket + " mode 600 level admin expose-fd listeners\n";
  o += "  hard-stop-after 30s\n";
  o += "  log " + c.log_socket + " len 1024 format raw local0\n";
  o += "\ndefaults\n";
  o += "  mode http\n";
  o += "  log global\n";
  o += "  log-format \"ps1 %b %s %ST %Tr %Ta %tsc\"\n";
  o += "  option dontlognull\n";
  o += "  timeout connect 2s\n";
  o += "  timeout client 60s\n";
  o += "  timeout server 60s\n";
  o += "  timeout http-keep-alive 10s\n";
  o += "  timeout queue 5s\n";
  // A connection refused or a response that never started (an instance that
  // died) is retried on another server; an answer, even a 500, is not.
  o += "  retries 2\n";
  o += "  option redispatch 1\n";
  o += "  retry-on conn-failure empty-response\n";
  o += "  default-server inter 1s fastinter 100ms downinter 200ms fall 2 rise 1\n";
  if (c.metrics_port > 0) {
    o += "\nfrontend prodsprint_metrics\n";
    o += "  bind 127.0.0.1:" + std::to_string(c.metrics_port) + "\n";
    o += "  no log\n";
    o += "  http-request use-service prometheus-exporter if { path /metrics }\n";
    o += "  stats enable\n";
    o += "  stats uri /\n";
  }
  for (const auto& b : c.backends) {
    o += "\nfrontend " + b.name + "\n";
    o += "  bind 127.0.0.1:" + std::to_string(b.frontend_port) + "\n";
    o += "  default_backend " + b.name + "\n";
    o += "\nbackend " + b.name + "\n";
    o += "  balance roundrobin\n";
    if (!b.health_path.empty()) o += "  option httpchk GET " + b.health_path + "\n";
    for (const auto& s : b.slots) {
      o += "  server " + s.name + " 127.0.0.1:" + std::to_string(s.port > 0 ? s.port : 1) +
           " weight " + std::to_string(s.port > 0 ? s.weight : 0) + " check\n";
    }
  }
  return o;
}

namespace {

bool Int(std::string_view s, int& out) {
  if (s == "-1") {
    out = -1;
    return true;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool NameChars(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char ch : s) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.' ||
          ch == '<' || ch == '>')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<RequestRecord> ParseRequestLog(std::string_view d) {
  // A syslog header ("<134>Nov 26 04:15:44 haproxy[1]: ") may precede it.
  auto at = d.find("ps1 ");
  if (at == std::string_view::npos) return std::nullopt;
  d.remove_prefix(at + 4);
  while (!d.empty() && (d.back() == '\n' || d.back() == '\r' || d.back() == '\0'))
    d.remove_suffix(1);
  std::string_view f[6];
  for (int i = 0; i < 6; ++i) {
    auto sp = d.find(' ');
    if (i < 5) {
      if (sp == std::string_view::npos) return std::nullopt;
      f[i] = d.substr(0, sp);
      d.remove_prefix(sp + 1);
    } else {
      if (sp != std::string_view::npos) return std::nullopt;
      f[i] = d;
    }
  }
  RequestRecord r;
  if (!NameChars(f[0]) || !NameChars(f[1])) return std::nullopt;
  r.backend = f[0];
  r.server = f[1];
  if (!Int(f[2], r.status) || !Int(f[3], r.response_ms) || !Int(f[4], r.total_ms)) {
    return std::nullopt;
  }
  if (r.status < -1 || r.status > 599 || f[5].size() > 8) return std::nullopt;
  r.termination = f[5];
  return r;
}

namespace {

int ConnectUnix(const std::string& path, int type) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return -1;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

Result<std::string> HaproxyAdmin::Command(const std::string& command, Millis timeout_ms) const {
  int fd = ConnectUnix(path_, SOCK_STREAM);
  if (fd < 0) {
    return Problem::Make(
        "router-unavailable", "HAProxy is not answering", 503,
        "cannot connect to its runtime API at " + path_ + ": " + std::strerror(errno));
  }
  const std::string line = command + "\n";
  if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    close(fd);
    return Problem::Make("router-unavailable", "HAProxy is not answering", 503,
                         "the runtime API closed the connection");
  }
  std::string out;
  char buf[8192];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) != 1) {
      close(fd);
      return problems::Timeout("HAProxy's runtime API did not answer '" + command + "'");
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return out;
}

namespace {
// The runtime API answers commands that change nothing with an empty line,
// and errors in words.
Status Check(const Result<std::string>& answer, const std::string& command) {
  if (!answer.ok()) return answer.problem();
  std::string_view a = *answer;
  for (const char* bad : {"No such", "Unknown", "Require", "failed", "Invalid", "invalid"}) {
    if (a.find(bad) != std::string_view::npos) {
      std::string text(a);
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      return Problem::Make("router-error", "HAProxy refused a command", 502,
                           "'" + command + "': " + text);
    }
  }
  return Ok();
}
}  // namespace

Status HaproxyAdmin::SetWeight(const std::string& backend, const std::string& server,
                               int weight) const {
  const std::string cmd =
      "set server " + backend + "/" + server + " weight " + std::to_string(weight);
  return Check(Command(cmd), cmd);
}

Status HaproxyAdmin::PointSlot(const std::string& backend, const std::string& server,
                               int port) const {
  const std::string s = backend + "/" + server;
  const std::string cmd = "set server " + s + " addr 127.0.0.1 port " + std::to_string(port) +
                          "; set server " + s + " state ready; set server " + s + " health up";
  return Check(Command(cmd), cmd);
}

Status HaproxyAdmin::ParkSlot(const std::string& backend, const std::string& server) const {
  const std::string s = backend + "/" + server;
  const std::string cmd = "set server " + s + " weight 0; set server " + s + " state maint";
  return Check(Command(cmd), cmd);
}

Result<std::map<std::string, std::string>> HaproxyAdmin::ServerStat(
    const std::string& backend, const std::string& server) const {
  PS_ASSIGN(auto csv, Command("show stat"));
  // "# pxname,svname,qcur,qmax,scur,..." — columns found by name.
  std::vector<std::string> header;
  std::size_t pos = 0;
  while (pos < csv.size()) {
    auto nl = csv.find('\n', pos);
    if (nl == std::string::npos) nl = csv.size();
    std::string_view line(csv.data() + pos, nl - pos);
    pos = nl + 1;
    const bool is_header = line.rfind("# ", 0) == 0;
    std::vector<std::string> cols;
    std::size_t a = is_header ? 2 : 0;
    while (a <= line.size()) {
      auto c = line.find(',', a);
      if (c == std::string_view::npos) c = line.size();
      cols.emplace_back(line.substr(a, c - a));
      a = c + 1;
    }
    if (is_header) {
      header = std::move(cols);
      continue;
    }
    if (header.size() < 2 || cols.size() < 2 || cols[0] != backend || cols[1] != server) continue;
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size() && i < cols.size(); ++i) row[header[i]] = cols[i];
    return row;
  }
  return problems::NotFound("server", backend + "/" + server);
}

Result<int> HaproxyAdmin::CurrentSessions(const std::string& backend,
                                          const std::string& server) const {
  PS_ASSIGN(auto row, ServerStat(backend, server));
  int v = -1;
  Int(row["scur"], v);
  return v;
}

bool HaproxyAdmin::Alive() const {
  auto r = Command("show info", 1000);
  return r.ok() && r->find("Name: HAProxy") != std::string::npos;
}

RequestLogReader::~RequestLogReader() {
  if (fd_ >= 0) {
    close(fd_);
    unlink(path_.c_str());
  }
}

Status RequestLogReader::Open(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return problems::InvalidInput("socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  unlink(path.c_str());
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    return Problem::Make("router-log-unavailable", "Cannot read HAProxy's request log", 500,
                         path + ": " + std::strerror(err));
  }
  int size = 8 << 20;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  path_ = path;
  return Ok();
}

std::vector<RequestRecord> RequestLogReader::Read(Millis timeout_ms) {
  std::vector<RequestRecord> out;
  if (fd_ < 0) return out;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout_ms)) != 1) return out;
  char buf[2048];
  while (true) {
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    if (auto r = ParseRequestLog(std::string_view(buf, static_cast<std::size_t>(n)))) {
      out.push_back(std::move(*r));
    } else {
      ++malformed_;
    }
  }
  return out;
}

}  // namespace ps::targets::local
