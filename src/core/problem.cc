#include "core/problem.h"

namespace ps {

namespace {
constexpr std::string_view kTypePrefix = "https://prodsprint.dev/problems/";
}

Problem Problem::Make(std::string_view slug, std::string title, int status, std::string detail) {
  Problem p;
  p.type = std::string(kTypePrefix) + std::string(slug);
  p.title = std::move(title);
  p.status = status;
  p.detail = std::move(detail);
  return p;
}

std::string_view Problem::Slug() const {
  std::string_view t = type;
  if (t.substr(0, kTypePrefix.size()) == kTypePrefix) return t.substr(kTypePrefix.size());
  return t;
}

Json Problem::ToJson() const {
  Json j = Json::object();
  j["type"] = type;
  j["title"] = title;
  j["status"] = status;
  if (!detail.empty()) j["detail"] = detail;
  if (!instance.empty()) j["instance"] = instance;
  if (retryable) j["retryable"] = true;
  for (const auto& [k, v] : extensions.items()) {
    if (!j.contains(k)) j[k] = v;
  }
  return j;
}

std::optional<Problem> Problem::FromJson(const Json& j) {
  if (!j.is_object() || !j.contains("title") || !j["title"].is_string()) return std::nullopt;
  Problem p;
  for (const auto& [k, v] : j.items()) {
    if (k == "type" && v.is_string()) {
      p.type = v.get<std::string>();
    } else if (k == "title" && v.is_string()) {
      p.title = v.get<std::string>();
    } else if (k == "status" && v.is_number_integer()) {
      p.status = v.get<int>();
    } else if (k == "detail" && v.is_string()) {
      p.detail = v.get<std::string>();
    } else if (k == "instance" && v.is_string()) {
      p.instance = v.get<std::string>();
    } else if (k == "retryable" && v.is_boolean()) {
      p.retryable = v.get<bool>();
    } else {
      p.extensions[k] = v;
    }
  }
  return p;
}

std::string Problem::Message() const {
  if (detail.empty()) return title;
  return title + ": " + detail;
}

namespace problems {
Problem InvalidInput(std::string detail) {
  return Problem::Make("invalid-input", "Invalid input", 400, std::move(detail));
}
Problem InvalidConfig(std::string detail) {
  return Problem::Make("invalid-config", "Invalid configuration", 422, std::move(detail));
}
Problem NotFound(std::string what, std::string id) {
  return Problem::Make("not-found", what + " not found", 404, "no " + what + " '" + id + "'")
      .With("id", id);
}
Problem Conflict(std::string detail) {
  return Problem::Make("conflict", "Conflict", 409, std::move(detail));
}
Problem StoreCorrupt(std::string detail) {
  return Problem::Make("store-corrupt", "State store is damaged", 500, std::move(detail));
}
Problem StoreTooNew(std::string detail) {
  return Problem::Make("store-too-new", "State store is from a newer ProdSprint", 500,
                       std::move(detail));
}
Problem StoreBusy(std::string detail) {
  return Problem::Make("store-busy", "State store is busy", 503, std::move(detail)).Retryable();
}
Problem Internal(std::string detail) {
  return Problem::Make("internal", "Internal error", 500, std::move(detail));
}
Problem Cancelled(std::string detail) {
  return Problem::Make("cancelled", "Cancelled", 409, std::move(detail));
}
Problem Timeout(std::string detail) {
  return Problem::Make("timeout", "Timed out", 504, std::move(detail)).Retryable();
}
Problem LeaseLost(std::string detail) {
  return Problem::Make("lease-lost", "Lease lost", 409, std::move(detail));
}
}  // namespace problems

}  // namespace ps
