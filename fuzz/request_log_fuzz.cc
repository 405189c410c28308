// HAProxy's request-log datagrams arrive on a socket the release reads:
// whatever bytes come, the parser answers a record or nothing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "targets/local/haproxy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view d(reinterpret_cast<const char*>(data), size);
  auto r = ps::targets::local::ParseRequestLog(d);
  if (r) {
    if (r->status < -1 || r->status > 599) __builtin_trap();
    if (r->backend.empty() || r->server.empty()) __builtin_trap();
    (void)r->failed();
  }
  return 0;
}
