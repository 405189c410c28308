#include "core/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dirent.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>

namespace ps {
namespace {

using Steady = std::chrono::steady_clock;

int Remaining(Steady::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()).count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}

// A connected non-blocking socket, or -1.
int Connect(const std::string& host, int port, Steady::time_point deadline) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (port <= 0 || port > 65535 || inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      close(fd);
      return -1;
    }
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, Remaining(deadline)) != 1) {
      close(fd);
      return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      close(fd);
      return -1;
    }
  }
  return fd;
}

}  // namespace

bool TcpAccepts(const std::string& host, int port, Millis timeout_ms) {
  int fd = Connect(host, port, Steady::now() + std::chrono::milliseconds(timeout_ms));
  if (fd < 0) return false;
  close(fd);
  return true;
}

int ParseStatusLine(std::string_view line) {
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/") return 0;
  auto sp = line.find(' ');
  if (sp == std::string_view::npos || sp + 4 > line.size()) return 0;
  int code = 0;
  for (std::size_t i = sp + 1; i < sp + 4; ++i) {
    if (line[i] < '0' || line[i] > '9') return 0;
    code = code * 10 + (line[i] - '0');
  }
  if (sp + 4 < line.size() && line[sp + 4] != ' ' && line[sp + 4] != '\r') return 0;
  return code >= 100 && code <= 599 ? code : 0;
}

int HttpGetStatus(const std::string& host, int port, const std::string& path, Millis timeout_ms) {
  const auto deadline = Steady::now() + std::chrono::milliseconds(timeout_ms);
  int fd = Connect(host, port, deadline);
  if (fd < 0) return 0;
  std::string req = "GET " + (path.empty() || path[0] != '/' ? "/" + path : path) +
                    " HTTP/1.0\r\nHost: " + host + ":" + std::to_string(port) +
                    "\r\nUser-Agent: prodsprint-health\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, Remaining(deadline)) == 1) continue;
    }
    close(fd);
    return 0;
  }
  std::string head;
  char buf[512];
  while (head.find('\n') == std::string::npos && head.size() < 4096) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, Remaining(deadline)) != 1) break;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return ParseStatusLine(head.substr(0, head.find('\n')));
}

namespace {

// Binds 127.0.0.1:port (0: the kernel's choice) and returns the port bound,
// or 0.
int TryBind(int want) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(want));
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// The low end of the kernel's range for outgoing connections' ports.
int EphemeralLow() {
  int low = 32768;
  if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "re")) {
    if (std::fscanf(f, "%d", &low) != 1) low = 32768;
    std::fclose(f);
  }
  return low;
}

}  // namespace

int FreeLoopbackPort() {
  // Below the ephemeral range: the kernel's own choice comes from the range
  // every outgoing connection takes its port from, so on a busy machine a
  // client socket can take the port between this check and the service's
  // bind. A random port under the range is free of that race.
  const int high = EphemeralLow();
  if (high > 21'000) {
    static std::mt19937 rng{std::random_device{}()};
    static std::mutex mu;
    for (int i = 0; i < 64; ++i) {
      int want = 0;
      {
        std::lock_guard lock(mu);
        want = std::uniform_int_distribution<int>(20'000, high - 1)(rng);
      }
      if (TryBind(want) == want) return want;
    }
  }
  return TryBind(0);
}

std::vector<unsigned long> ListeningSocketInodes(int port) {
  std::vector<unsigned long> out;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::FILE* f = std::fopen(table, "re");
    if (!f) continue;
    char line[512];
    if (!std::fgets(line, sizeof line, f)) {  // the header
      std::fclose(f);
      continue;
    }
    while (std::fgets(line, sizeof line, f)) {
      // "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout
      // inode"
      char local[128], remote[128];
      unsigned state = 0, uid = 0, timeout = 0;
      unsigned long inode = 0;
      int sl = 0;
      char queues[64], timer[64], retr[32];
      if (std::sscanf(line, " %d: %127s %127s %x %63s %63s %31s %u %u %lu", &sl, local, remote,
                      &state, queues, timer, retr, &uid, &timeout, &inode) != 10) {
        continue;
      }
      const char* colon = std::strrchr(local, ':');
      if (!colon || state != 0x0A) continue;  // 0A: LISTEN
      if (static_cast<int>(std::strtol(colon + 1, nullptr, 16)) == port) out.push_back(inode);
    }
    std::fclose(f);
  }
  return out;
}

std::vector<unsigned long> SocketInodesOfGroup(int pgid) {
  std::vector<unsigned long> out;
  if (pgid <= 0) return out;
  DIR* proc = ::opendir("/proc");
  if (!proc) return out;
  while (const dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    const std::string pid = e->d_name;
    // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces.
    std::FILE* f = std::fopen(("/proc/" + pid + "/stat").c_str(), "re");
    if (!f) continue;
    char buf[1024];
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* close = std::strrchr(buf, ')');
    int ppid = 0, pgrp = 0;
    char st = 0;
    if (!close || std::sscanf(close + 1, " %c %d %d", &st, &ppid, &pgrp) != 3 || pgrp != pgid) {
      continue;
    }
    const std::string fd_dir = "/proc/" + pid + "/fd";
    DIR* fds = ::opendir(fd_dir.c_str());
    if (!fds) continue;
    while (const dirent* fe = ::readdir(fds)) {
      if (fe->d_name[0] == '.') continue;
      char target[64];
      const ssize_t len = ::readlinkat(::dirfd(fds), fe->d_name, target, sizeof target - 1);
      if (len <= 0) continue;
      target[len] = '\0';
      unsigned long inode = 0;
      if (std::sscanf(target, "socket:[%lu]", &inode) == 1) out.push_back(inode);
    }
    ::closedir(fds);
  }
  ::closedir(proc);
  return out;
}

}  // namespace ps
