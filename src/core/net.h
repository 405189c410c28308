// Small blocking loopback probes used for health checks and readiness waits.
// Each bounds its own time; none throws.
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"

namespace ps {

// Whether something accepts TCP connections on host:port within `timeout_ms`.
bool TcpAccepts(const std::string& host, int port, Millis timeout_ms);

// GET http://host:port/path (HTTP/1.0, no body read beyond the status line).
// The status code, or 0 when no valid response came within `timeout_ms`.
int HttpGetStatus(const std::string& host, int port, const std::string& path, Millis timeout_ms);

// Parses an HTTP status line ("HTTP/1.1 200 OK"); 0 if it is not one.
int ParseStatusLine(std::string_view line);

// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's
// choice); 0 on failure.
int FreeLoopbackPort();

// Who listens on TCP `port` (IPv4 and IPv6, any address): the socket inodes
// of the listening sockets, from /proc/net/tcp{,6}.
std::vector<unsigned long> ListeningSocketInodes(int port);

// The socket inodes held open by the processes of process group `pgid`
// (a supervised process and its children), from /proc/PID/fd.
std::vector<unsigned long> SocketInodesOfGroup(int pgid);

}  // namespace ps
