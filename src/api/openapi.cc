// The OpenAPI 3.1 document, made from the route table: a route cannot be
// served without being documented, nor documented without being served.
#include <algorithm>
#include <set>

#include "api/api.h"

namespace ps::api {

namespace {

Json ProblemSchema() {
  return {{"type", "object"},
          {"description", "RFC 9457 problem details"},
          {"properties",
           {{"type", {{"type", "string"}, {"format", "uri"}}},
            {"title", {{"type", "string"}}},
            {"status", {{"type", "integer"}}},
            {"detail", {{"type", "string"}}},
            {"instance", {{"type", "string"}}}}},
          {"required", {"type", "title", "status"}}};
}

Json ProblemResponse(const std::string& what) {
  return {
      {"description", what},
      {"content",
       {{"application/problem+json", {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}};
}

std::string Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted: the run was created; follow Location";
    case 204:
      return "No content";
    case 303:
      return "See other";
    default:
      return "Success";
  }
}

}  // namespace

Json Api::OpenApi() const { return OpenApiDocument(routes_, options_); }

Json OpenApiDocument(const std::vector<Route>& routes, const ApiOptions& options) {
  Json paths = Json::object();
  Json tags = Json::array();
  std::set<std::string> seen;
  for (const auto& r : routes) {
    if (seen.insert(r.tag).second) {
      tags.push_back({{"name", r.tag}, {"description", "Routes about " + r.tag}});
    }
    Json op = {{"operationId", r.operation},
               {"summary", r.summary},
               {"tags", {r.tag}},
               {"x-required-role", std::string(ToString(r.need))}};
    Json params = Json::array();
    std::size_t at = 0;
    while ((at = r.pattern.find('{', at)) != std::string::npos) {
      const auto close = r.pattern.find('}', at);
      params.push_back({{"name", r.pattern.substr(at + 1, close - at - 1)},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}}}});
      at = close;
    }
    if (r.method == "POST" && r.need != Need::kNone) {
      params.push_back({{"name", "Idempotency-Key"},
                        {"in", "header"},
                        {"required", false},
                        {"description", "The same key and body get the same answer again"},
                        {"schema", {{"type", "string"}, {"maxLength", 255}}}});
    }
    if (r.action == "release.promote" || r.action == "release.abort") {
      params.push_back({{"name", "If-Match"},
                        {"in", "header"},
                        {"required", false},
                        {"description", "The release's ETag; 412 if it changed"},
                        {"schema", {{"type", "string"}}}});
    }
    if (r.media == "text/event-stream") {
      params.push_back({{"name", "Last-Event-ID"},
                        {"in", "header"},
                        {"required", false},
                        {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = params;
    if (!r.body.is_null()) {
      op["requestBody"] = {{"required", true},
                           {"content", {{"application/json", {{"schema", r.body}}}}}};
    }
    if (r.need == Need::kNone) {
      op["security"] = Json::array();
    } else {
      op["security"] = Json::array({{{"bearer", Json::array()}}, {{"session", Json::array()}}});
    }
    Json responses = Json::object();
    Json ok = {{"description", Reason(r.success)}};
    if (!r.media.empty()) {
      const Json schema =
          r.media == "application/json" ? Json{{"type", "object"}} : Json{{"type", "string"}};
      ok["content"] = Json::object();
      ok["content"][r.media] = {{"schema", schema}};
    }
    responses[std::to_string(r.success)] = ok;
    responses["400"] = ProblemResponse("Bad request");
    if (r.need != Need::kNone) {
      responses["401"] = ProblemResponse("No or a bad credential");
      responses["403"] = ProblemResponse("The role is too small");
      responses["429"] = ProblemResponse("Rate limited; see Retry-After");
    }
    responses["404"] = ProblemResponse("Not found (or another tenant's)");
    if (r.method == "POST")
      responses["422"] = ProblemResponse("Refused (or an Idempotency-Key reused)");
    if (r.action == "release.promote" || r.action == "release.abort") {
      responses["412"] = ProblemResponse("The release changed since it was read");
    }
    if (r.media == "text/event-stream") {
      responses["410"] = ProblemResponse("The resume point is too old: reload the run");
    }
    responses["500"] = ProblemResponse("Server error");
    op["responses"] = responses;
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    paths[r.pattern][method] = op;
  }
  return {
      {"openapi", "3.1.0"},
      {"info",
       {{"title", "ProdSprint API"},
        {"version", options.version},
        {"description",
         "The control plane of ProdSprint: projects, plans, environments, readiness gates "
         "and releases; live runs over Server-Sent Events. Errors are RFC 9457 problems."},
        {"license", {{"name", "Proprietary"}, {"identifier", "LicenseRef-ProdSprint"}}}}},
      {"servers", Json::array({{{"url", options.public_url.empty() ? "/" : options.public_url}}})},
      {"tags", tags},
      {"paths", paths},
      {"components",
       {{"schemas", {{"Problem", ProblemSchema()}}},
        {"securitySchemes",
         {{"bearer",
           {{"type", "http"},
            {"scheme", "bearer"},
            {"description", "An OIDC access token (JWT) or an API token (pst_...)"}}},
          {"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "ps_session"}}}}}}}};
}

}  // namespace ps::api
