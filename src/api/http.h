// HTTP requests and responses as the API's handlers see them: plain values,
// no networking library in sight, so that handlers, the route table and the
// access rules are tested without a socket (tests/api/) and the server
// (api/server.cc, the one file that knows Boost.Beast) only translates.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/problem.h"
#include "store/model.h"

namespace ps::api {

struct Request {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // decoded path, without the query: "/v1/runs/abc"
  std::string query;                           // raw query string, without '?'
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string remote;      // the peer's address
  std::string request_id;  // X-Request-Id in (if sane) or a new one

  // A header's value ("" when absent); `name` in lower case.
  std::string Header(const std::string& name) const;
  // A query parameter, decoded; nullopt when absent.
  std::optional<std::string> Param(const std::string& name) const;
  // The value of cookie `name` ("" when absent).
  std::string Cookie(const std::string& name) const;
};

// A live stream of a run's events (Server-Sent Events), driven by the server
// once the handler has checked access: from `after`, for the run's tenant.
struct EventStream {
  store::Tenant tenant;
  std::string run_id;
  std::int64_t after = 0;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Set instead of a body: the server streams the run's events.
  std::shared_ptr<EventStream> stream;

  void Set(const std::string& name, const std::string& value);
  std::string Get(const std::string& name) const;  // "" when absent

  static Response WithJson(int status, const Json& body);
  // application/problem+json, RFC 9457; `instance` is the request's path.
  static Response WithProblem(const Problem& p, const std::string& instance = {});
};

// Percent-decodes `s` ('+' stays '+'); false on a malformed escape.
bool PercentDecode(std::string_view s, std::string* out);

}  // namespace ps::api
