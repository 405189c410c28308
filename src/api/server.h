// The HTTP server: Boost.Beast over Asio with C++20 coroutines. A few I/O
// threads carry every connection (no thread per connection: an open event
// stream is a suspended coroutine and a timer); the API's handlers, which
// may block on the store, run on a separate pool. HTTP/1.1 keep-alive,
// optional TLS, limits on headers and bodies, timeouts for slow clients,
// and a graceful stop: stop accepting, finish in-flight requests, end open
// streams with a final event.
#pragma once

#include <memory>
#include <string>

#include "api/api.h"
#include "api/hub.h"
#include "core/problem.h"

namespace ps::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 7070;  // 0: any free port (Listen says which)
  int io_threads = 2;
  int handler_threads = 8;
  std::string tls_cert, tls_key;  // PEM files: both or neither
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 1024 * 1024;
  Millis read_timeout = 30'000;  // to receive one request once it began
  Millis idle_timeout = 75'000;  // a keep-alive connection with nothing to say
  Millis write_timeout = 30'000;
  Millis heartbeat = 15'000;         // SSE comment line this often
  Millis sse_retry = 3'000;          // the `retry:` the stream advises
  std::int64_t max_replay = 10'000;  // events a resume may replay before 410
  Millis drain_timeout = 10'000;     // Shutdown waits this long for requests
};

class Server {
 public:
  Server(Api& api, Hub& hub, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; returns the port (useful with port 0).
  Result<int> Listen();
  // Serves until Shutdown has finished. Call once, after Listen.
  void Run();
  // Thread-safe; returns at once. Run returns when the stop is complete.
  void Shutdown();

  long open_streams() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Fetches `url` (http:// or https://, the system's CA certificates) with a
// timeout: the JWKS fetcher of jwt::JwksCache.
Result<std::string> HttpGet(const std::string& url, Millis timeout_ms = 5'000);
// POSTs `form` (application/x-www-form-urlencoded; empty: a GET) to `url`:
// the OIDC token endpoint. The answer's body when it is 200.
Result<std::string> HttpPostForm(const std::string& url, const std::string& form,
                                 Millis timeout_ms = 5'000);

}  // namespace ps::api
