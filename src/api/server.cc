// The one translation unit that knows Boost.Beast (it takes long to
// compile; keep Beast out of other files).
#include "api/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <set>
#include <thread>

#include "service/runs.h"
#include "store/model_json.h"

namespace ps::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::redirect_error;
using asio::use_awaitable;

namespace {

// An open event stream: its queue of events the hub delivered, and a timer
// the coroutine sleeps on (cancelled to wake it).
struct LiveStream {
  explicit LiveStream(asio::any_io_executor ex) : executor(ex), timer(ex) {}
  asio::any_io_executor executor;
  asio::steady_timer timer;
  std::deque<std::shared_ptr<const HubEvent>> queue;
  bool closing = false;
};

bool Terminal(const std::string& event) {
  return event == "run.done" || event == "run.failed" || event == "run.cancelled";
}

std::chrono::milliseconds Ms(Millis ms) { return std::chrono::milliseconds(ms); }

}  // namespace

struct Server::Impl {
  Impl(Api& a, Hub& h, ServerOptions opts)
      : api(a),
        hub(h),
        o(std::move(opts)),
        ioc(std::max(1, o.io_threads)),
        pool(static_cast<std::size_t>(std::max(1, o.handler_threads))),
        work(asio::make_work_guard(ioc)) {}

  Api& api;
  Hub& hub;
  ServerOptions o;
  // Declared before the io_context: coroutines it destroys on the way out
  // still unregister their streams from here.
  std::atomic<long> in_flight{0};
  std::atomic<long> streams{0};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::set<std::shared_ptr<LiveStream>> live;
  asio::io_context ioc;
  asio::thread_pool pool;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::optional<tcp::acceptor> acceptor;
  std::optional<ssl::context> tls;
  std::thread stopper;

  template <class F>
  awaitable<std::invoke_result_t<F>> Offload(F f) {
    using R = std::invoke_result_t<F>;
    co_return co_await asio::co_spawn(
        pool.get_executor(), [f = std::move(f)]() -> awaitable<R> { co_return f(); },
        use_awaitable);
  }

  awaitable<void> Accept();
  template <class Stream>
  awaitable<void> Session(Stream stream, std::string remote);
  template <class Stream>
  awaitable<bool> Write(Stream& stream, Response resp, bool keep_alive, bool head);
  template <class Stream>
  awaitable<void> StreamEvents(Stream& stream, const Request& req, const Response& resp);
  void Stop();
};

awaitable<void> Server::Impl::Accept() {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket =
        co_await acceptor->async_accept(asio::make_strand(ioc), redirect_error(use_awaitable, ec));
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) co_return;
      continue;  // EMFILE and friends: keep serving the connections we have
    }
    beast::error_code ignored;
    const std::string remote = socket.remote_endpoint(ignored).address().to_string();
    auto ex = socket.get_executor();
    if (tls) {
      co_spawn(
          ex,
          Session(beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls),
                  remote),
          asio::detached);
    } else {
      co_spawn(ex, Session(beast::tcp_stream(std::move(socket)), remote), asio::detached);
    }
  }
}

template <class Stream>
awaitable<bool> Server::Impl::Write(Stream& stream, Response resp, bool keep_alive, bool head) {
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(Ms(o.write_timeout));
  if (head) {
    http::response<http::empty_body> res;
    res.version(11);
    res.result(static_cast<unsigned>(resp.status));
    for (const auto& [k, v] : resp.headers) res.set(k, v);
    res.set(http::field::content_length, std::to_string(resp.body.size()));
    res.keep_alive(keep_alive);
    co_await http::async_write(stream, res, redirect_error(use_awaitable, ec));
  } else {
    http::response<http::string_body> res;
    res.version(11);
    res.result(static_cast<unsigned>(resp.status));
    for (const auto& [k, v] : resp.headers) res.set(k, v);
    res.body() = std::move(resp.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    co_await http::async_write(stream, res, redirect_error(use_awaitable, ec));
  }
  co_return !ec;
}

template <class Stream>
awaitable<void> Server::Impl::Session(Stream stream, std::string remote) {
  beast::error_code ec;
  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    beast::get_lowest_layer(stream).expires_after(Ms(o.read_timeout));
    co_await stream.async_handshake(ssl::stream_base::server, redirect_error(use_awaitable, ec));
    if (ec) co_return;
  }
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(o.header_limit));
    parser.body_limit(o.body_limit);
    // Waiting for a request: the idle timeout; once it began, the read one.
    beast::get_lowest_layer(stream).expires_after(
        Ms(buffer.size() > 0 ? o.read_timeout : o.idle_timeout));
    co_await http::async_read_header(stream, buffer, parser, redirect_error(use_awaitable, ec));
    if (!ec && parser.get()[http::field::expect] == "100-continue") {
      http::response<http::empty_body> cont{http::status::continue_, 11};
      co_await http::async_write(stream, cont, redirect_error(use_awaitable, ec));
    }
    if (!ec && !parser.is_done()) {
      beast::get_lowest_layer(stream).expires_after(Ms(o.read_timeout));
      co_await http::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
    }
    if (ec) {
      int status = 0;
      std::string detail;
      if (ec == http::error::body_limit) {
        status = 413;
        detail = "the request body is larger than " + std::to_string(o.body_limit) + " bytes";
      } else if (ec == http::error::header_limit) {
        status = 431;
        detail =
            "the request's headers are larger than " + std::to_string(o.header_limit) + " bytes";
      } else if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
                 ec != http::error::end_of_stream && ec != http::error::partial_message) {
        status = 400;
        detail = "malformed HTTP request: " + ec.message();
      }
      if (status) {
        Response r = Response::WithProblem(
            Problem::Make(status == 400 ? "invalid-input" : "too-large",
                          status == 400 ? "Bad request" : "Request too large", status, detail));
        co_await Write(stream, std::move(r), false, false);
      }
      break;
    }
    auto& msg = parser.get();
    Request req;
    req.method = std::string(msg.method_string());
    const std::string target(msg.target());
    const auto q = target.find('?');
    if (!PercentDecode(target.substr(0, q), &req.path) || req.path.empty() ||
        req.path.front() != '/' || req.path.find('\0') != std::string::npos) {
      co_await Write(stream,
                     Response::WithProblem(problems::InvalidInput("malformed request path")), false,
                     false);
      break;
    }
    if (q != std::string::npos) req.query = target.substr(q + 1);
    for (const auto& f : msg) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      auto [it, fresh] = req.headers.emplace(name, std::string(f.value()));
      if (!fresh) it->second += ", " + std::string(f.value());
    }
    req.body = std::move(msg.body());
    req.remote = remote;
    const bool keep_alive = msg.keep_alive();
    const bool head = req.method == "HEAD";

    // In flight until its answer is written (a stream: until it ends), so
    // that a graceful stop waits for it.
    ++in_flight;
    Response resp = co_await Offload([this, &req] { return api.Handle(req); });
    if (resp.stream) {
      co_await StreamEvents(stream, req, resp);
      --in_flight;
      break;
    }
    const bool again = keep_alive && !stopping;
    const bool written = co_await Write(stream, std::move(resp), again, head);
    --in_flight;
    if (!written || !again) break;
  }
  beast::get_lowest_layer(stream).expires_after(Ms(2'000));
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  } else {
    co_await stream.async_shutdown(redirect_error(use_awaitable, ec));
  }
}

template <class Stream>
awaitable<void> Server::Impl::StreamEvents(Stream& stream, const Request& req,
                                           const Response& resp) {
  const EventStream spec = *resp.stream;
  auto self = std::make_shared<LiveStream>(co_await asio::this_coro::executor);
  // Subscribe first, then read the past: an event committed in between is
  // in one or the other (or both: duplicates go by sequence number).
  const std::uint64_t sub =
      hub.Subscribe(spec.run_id, [self](const std::shared_ptr<const HubEvent>& e) {
        asio::post(self->executor, [self, e] {
          self->queue.push_back(e);
          self->timer.cancel();
        });
      });
  {
    std::lock_guard lock(mu);
    live.insert(self);
  }
  struct Cleanup {
    Impl* impl;
    std::shared_ptr<LiveStream> s;
    std::uint64_t sub;
    ~Cleanup() {
      impl->hub.Unsubscribe(sub);
      std::lock_guard lock(impl->mu);
      impl->live.erase(s);
    }
  } cleanup{this, self, sub};

  service::App& app = api.app();
  struct CatchUp {
    Result<std::vector<store::Event>> events = std::vector<store::Event>{};
    bool finished = false;
  };
  CatchUp past = co_await Offload([&]() -> CatchUp {
    CatchUp out;
    // The run's state first, its events after: a run that finished before
    // this read has its last event in the batch below; one that finishes
    // after it sends that event through the hub.
    auto run = service::ResolveRun(app, spec.tenant, spec.run_id);
    out.finished = run.ok() && service::Finished(run->status);
    std::vector<store::Event> all;
    std::int64_t after = spec.after;
    for (;;) {
      auto page = service::EventsAfter(app, spec.tenant, after, spec.run_id, 1000);
      if (!page.ok()) {
        out.events = page.problem();
        return out;
      }
      all.insert(all.end(), page->events.begin(), page->events.end());
      if (static_cast<std::int64_t>(all.size()) > o.max_replay) {
        out.events = Problem::Make("resume-point-too-old", "Resume point too old", 410,
                                   "more than " + std::to_string(o.max_replay) +
                                       " events since it: read the run (GET /v1/runs/{id}) and "
                                       "stream from its newest event (?after=)");
        return out;
      }
      if (page->events.size() < 1000) break;
      after = page->next;
    }
    out.events = std::move(all);
    return out;
  });
  if (!past.events.ok()) {
    Response r = Response::WithProblem(past.events.problem(), req.path);
    for (const auto& [k, v] : resp.headers) {
      if (k != "Content-Type") r.Set(k, v);
    }
    co_await Write(stream, std::move(r), false, false);
    co_return;
  }

  beast::error_code ec;
  http::response<http::empty_body> head{http::status::ok, 11};
  for (const auto& [k, v] : resp.headers) head.set(k, v);
  head.chunked(true);
  head.keep_alive(false);
  http::response_serializer<http::empty_body> sr{head};
  beast::get_lowest_layer(stream).expires_after(Ms(o.write_timeout));
  co_await http::async_write_header(stream, sr, redirect_error(use_awaitable, ec));
  if (ec) co_return;
  api.metrics().StreamOpened();
  ++streams;
  struct Count {
    Impl* impl;
    ~Count() {
      impl->api.metrics().StreamClosed();
      --impl->streams;
    }
  } count{this};

  auto send = [&](const std::string& text) -> awaitable<bool> {
    beast::error_code wec;
    beast::get_lowest_layer(stream).expires_after(Ms(o.write_timeout));
    co_await asio::async_write(stream, http::make_chunk(asio::buffer(text)),
                               redirect_error(use_awaitable, wec));
    beast::get_lowest_layer(stream).expires_never();
    co_return !wec;
  };

  std::int64_t last = spec.after;
  bool ended = false;
  bool finished = past.finished;
  std::string batch = "retry: " + std::to_string(o.sse_retry) + "\n\n";
  for (const auto& e : *past.events) {
    if (e.seq <= last) continue;
    batch += RenderSse(e);
    last = e.seq;
    // The newest word on the run's life wins over the status read before:
    // it may have finished (or been retried) since.
    if (e.name.rfind("run.", 0) == 0 && e.name != "run.created" && e.name != "run.signal" &&
        e.name != "run.signal_taken" && e.name != "run.cancel" && e.name != "run.retry") {
      finished = Terminal(e.name);
    }
  }
  if (finished) {
    batch += "event: end\ndata: {\"reason\":\"finished\"}\n\n";
    ended = true;
  }
  if (!co_await send(batch)) co_return;

  while (!ended) {
    if (self->queue.empty() && !self->closing && !stopping) {
      self->timer.expires_after(Ms(o.heartbeat));
      beast::error_code tec;
      co_await self->timer.async_wait(redirect_error(use_awaitable, tec));
      if (!tec && self->queue.empty()) {
        if (!co_await send(": keep-alive\n\n")) co_return;
        continue;
      }
    }
    std::string out;
    while (!self->queue.empty()) {
      std::shared_ptr<const HubEvent> e = std::move(self->queue.front());
      self->queue.pop_front();
      if (e->event.seq <= last) continue;
      out += e->sse;
      last = e->event.seq;
      if (Terminal(e->event.name)) {
        out += "event: end\ndata: {\"reason\":\"finished\"}\n\n";
        ended = true;
        break;
      }
    }
    if (!ended && (self->closing || stopping)) {
      out += "event: end\ndata: {\"reason\":\"shutdown\"}\n\n";
      ended = true;
    }
    if (!out.empty() && !co_await send(out)) co_return;
  }
  beast::get_lowest_layer(stream).expires_after(Ms(o.write_timeout));
  co_await asio::async_write(stream, http::make_chunk_last(), redirect_error(use_awaitable, ec));
}

void Server::Impl::Stop() {
  if (stopping.exchange(true)) return;
  api.SetDraining();
  asio::post(ioc, [this] {
    beast::error_code ec;
    if (acceptor) acceptor->close(ec);
  });
  {
    // End the open streams: each writes its final event and closes.
    std::lock_guard lock(mu);
    for (const auto& s : live) {
      asio::post(s->executor, [s] {
        s->closing = true;
        s->timer.cancel();
      });
    }
  }
  stopper = std::thread([this] {
    const auto deadline = std::chrono::steady_clock::now() + Ms(o.drain_timeout);
    while ((in_flight > 0 || streams > 0) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    work.reset();
    ioc.stop();
  });
}

Server::Server(Api& api, Hub& hub, ServerOptions options)
    : impl_(std::make_unique<Impl>(api, hub, std::move(options))) {}

Server::~Server() {
  impl_->Stop();
  if (impl_->stopper.joinable()) impl_->stopper.join();
  impl_->pool.join();
}

Result<int> Server::Listen() {
  Impl& s = *impl_;
  if (s.o.tls_cert.empty() != s.o.tls_key.empty()) {
    return problems::InvalidInput("TLS needs both --tls-cert and --tls-key");
  }
  try {
    if (!s.o.tls_cert.empty()) {
      s.tls.emplace(ssl::context::tls_server);
      s.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1);
      s.tls->use_certificate_chain_file(s.o.tls_cert);
      s.tls->use_private_key_file(s.o.tls_key, ssl::context::pem);
    }
  } catch (const std::exception& e) {
    return problems::InvalidInput("cannot use the TLS certificate or key: " +
                                  std::string(e.what()));
  }
  beast::error_code ec;
  const auto address = asio::ip::make_address(s.o.host, ec);
  if (ec) return problems::InvalidInput("'" + s.o.host + "' is not an IP address to listen on");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(s.o.port));
  s.acceptor.emplace(s.ioc);
  s.acceptor->open(endpoint.protocol(), ec);
  if (!ec) s.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(endpoint, ec);
  if (!ec) s.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Problem::Make(
        "listen-failed", "Cannot listen", 500,
        "cannot listen on " + s.o.host + ":" + std::to_string(s.o.port) + ": " + ec.message());
  }
  return static_cast<int>(s.acceptor->local_endpoint().port());
}

void Server::Run() {
  Impl& s = *impl_;
  co_spawn(s.ioc, s.Accept(), asio::detached);
  std::vector<std::thread> threads;
  for (int i = 1; i < std::max(1, s.o.io_threads); ++i) threads.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : threads) t.join();
  if (s.stopper.joinable()) s.stopper.join();
}

void Server::Shutdown() { impl_->Stop(); }

long Server::open_streams() const { return impl_->streams; }

namespace {

// A GET with every step under the timeout (asynchronous operations: a
// tcp_stream's timeouts do not apply to blocking calls).
awaitable<Result<std::string>> Fetch(std::string url, bool https, std::string host,
                                     std::string port, std::string authority, std::string target,
                                     Millis timeout_ms, std::string form) {
  auto ex = co_await asio::this_coro::executor;
  beast::error_code ec;
  tcp::resolver resolver(ex);
  auto results = co_await resolver.async_resolve(host, port, redirect_error(use_awaitable, ec));
  auto failed = [&](const std::string& what) -> Result<std::string> {
    return Problem::Make("fetch-failed", "Fetch failed", 502,
                         "cannot fetch " + url + ": " + what + ": " + ec.message())
        .Retryable();
  };
  if (ec) co_return failed("resolve");
  // A GET, or a POST of an application/x-www-form-urlencoded body.
  http::request<http::string_body> req{form.empty() ? http::verb::get : http::verb::post, target,
                                       11};
  req.set(http::field::host, authority);
  req.set(http::field::user_agent, "prodsprint");
  req.set(http::field::accept, "application/json");
  if (!form.empty()) {
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.body() = std::move(form);
    req.prepare_payload();
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1024 * 1024);
  if (https) {
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) {
      co_return problems::Internal("cannot set the TLS server name");
    }
    stream.set_verify_callback(ssl::host_name_verification(host));
    beast::get_lowest_layer(stream).expires_after(Ms(timeout_ms));
    co_await beast::get_lowest_layer(stream).async_connect(results,
                                                           redirect_error(use_awaitable, ec));
    if (ec) co_return failed("connect");
    co_await stream.async_handshake(ssl::stream_base::client, redirect_error(use_awaitable, ec));
    if (ec) co_return failed("TLS handshake");
    co_await http::async_write(stream, req, redirect_error(use_awaitable, ec));
    if (!ec) co_await http::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
    if (ec) co_return failed("request");
  } else {
    beast::tcp_stream stream(ex);
    stream.expires_after(Ms(timeout_ms));
    co_await stream.async_connect(results, redirect_error(use_awaitable, ec));
    if (ec) co_return failed("connect");
    co_await http::async_write(stream, req, redirect_error(use_awaitable, ec));
    if (!ec) co_await http::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
    if (ec) co_return failed("request");
  }
  const auto& res = parser.get();
  if (res.result_int() != 200) {
    co_return Problem::Make("fetch-failed", "Fetch failed", 502,
                            url + " answered " + std::to_string(res.result_int()));
  }
  co_return res.body();
}

}  // namespace

Result<std::string> HttpGet(const std::string& url, Millis timeout_ms) {
  return HttpPostForm(url, "", timeout_ms);
}

Result<std::string> HttpPostForm(const std::string& url, const std::string& form,
                                 Millis timeout_ms) {
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) {
    return problems::InvalidInput("only http:// and https:// URLs can be fetched: " + url);
  }
  const std::string rest = url.substr(https ? 8 : 7);
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = authority;
  std::string port = https ? "443" : "80";
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return problems::InvalidInput("malformed URL: " + url);
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      port = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return problems::InvalidInput("malformed URL: " + url);
  try {
    asio::io_context ioc;
    std::optional<Result<std::string>> out;
    co_spawn(
        ioc,
        [&]() -> awaitable<void> {
          out.emplace(co_await Fetch(url, https, host, port, authority, target, timeout_ms, form));
        },
        asio::detached);
    ioc.run();
    if (!out) return problems::Internal("the fetch of " + url + " did not finish");
    return std::move(*out);
  } catch (const std::exception& e) {
    return Problem::Make("fetch-failed", "Fetch failed", 502,
                         "cannot fetch " + url + ": " + e.what())
        .Retryable();
  }
}

}  // namespace ps::api
