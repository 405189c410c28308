// HAProxy as the local target's traffic router: the configuration ProdSprint
// writes, its runtime API (weights and server addresses change at once, no
// reload, no dropped connection), and its per-request log stream.
//
// Each HTTP service has a frontend on a stable loopback port and a backend
// with two colours of server slots, blue0..blueN-1 and green0..greenN-1. A
// release points the idle colour's slots at the new instances
// (`set server ... addr`) and moves weight between colours. The weights in
// the file are kept equal to the live ones, so an HAProxy restarted by the
// supervisor comes back with the same split.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/problem.h"

namespace ps::targets::local {

struct RouterSlot {
  std::string name;  // blue0, green1...
  int port = 0;      // 0: not pointed at anything yet
  int weight = 0;    // 0..256
};

struct RouterBackend {
  std::string name;  // the service
  int frontend_port = 0;
  std::string health_path;  // empty: TCP checks
  std::vector<RouterSlot> slots;
};

struct RouterConfig {
  std::string admin_socket;  // stats socket, level admin
  std::string log_socket;    // unix datagram socket the request log goes to
  int metrics_port = 0;      // Prometheus exporter and stats page; 0: none
  std::vector<RouterBackend> backends;
};

// The haproxy.cfg text. Deterministic.
std::string RenderHaproxyConfig(const RouterConfig& config);

// One line of the request log: `ps1 BACKEND SERVER STATUS TR TA TERM`.
struct RequestRecord {
  std::string backend, server;
  int status = 0;           // -1 when no response was received
  int response_ms = 0;      // %Tr: server's time to the response headers (-1 if none)
  int total_ms = 0;         // %Ta: the whole request
  std::string termination;  // %tsc, "----" for a normal end
  // A request the client saw fail: 5xx, or no response.
  bool failed() const { return status >= 500 || status < 0; }
};

// Parses one datagram (raw format, optionally with a syslog header); nullopt
// for anything else. Never throws: the bytes come from a socket.
std::optional<RequestRecord> ParseRequestLog(std::string_view datagram);

// The runtime API over the admin socket.
class HaproxyAdmin {
 public:
  explicit HaproxyAdmin(std::string socket_path) : path_(std::move(socket_path)) {}
  // Sends commands (joined with ';' on one connection), returns the answer.
  Result<std::string> Command(const std::string& command, Millis timeout_ms = 2000) const;
  Status SetWeight(const std::string& backend, const std::string& server, int weight) const;
  // Points a slot at 127.0.0.1:port and makes it ready.
  Status PointSlot(const std::string& backend, const std::string& server, int port) const;
  // Takes a slot out: weight 0 and maintenance (new requests go elsewhere,
  // requests in flight finish).
  Status ParkSlot(const std::string& backend, const std::string& server) const;
  // A server's row of `show stat`, column name -> value (scur, status...).
  Result<std::map<std::string, std::string>> ServerStat(const std::string& backend,
                                                        const std::string& server) const;
  // Current sessions on a server (for draining), -1 when unknown.
  Result<int> CurrentSessions(const std::string& backend, const std::string& server) const;
  bool Alive() const;

 private:
  std::string path_;
};

// Binds the request-log socket (removing a stale one) and reads records.
class RequestLogReader {
 public:
  RequestLogReader() = default;
  ~RequestLogReader();
  RequestLogReader(const RequestLogReader&) = delete;
  RequestLogReader& operator=(const RequestLogReader&) = delete;
  Status Open(const std::string& path);
  // Waits up to `timeout_ms` for records; returns what arrived (maybe none).
  std::vector<RequestRecord> Read(Millis timeout_ms);
  std::int64_t malformed() const { return malformed_; }

 private:
  int fd_ = -1;
  std::string path_;
  std::int64_t malformed_ = 0;
};

}  // namespace ps::targets::local
