#include "api/http.h"

#include <algorithm>

namespace ps::api {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool PercentDecode(std::string_view s, std::string* out) {
  out->clear();
  out->reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out->push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return false;
    const int hi = HexValue(s[i + 1]);
    const int lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::string Request::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::optional<std::string> Request::Param(const std::string& name) const {
  std::string_view q = query;
  while (!q.empty()) {
    const auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    const auto eq = pair.find('=');
    std::string key;
    std::string value;
    std::string raw_value(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    std::replace(raw_value.begin(), raw_value.end(), '+', ' ');
    if (!PercentDecode(pair.substr(0, eq), &key) || key != name) continue;
    if (!PercentDecode(raw_value, &value)) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::string Request::Cookie(const std::string& name) const {
  std::string_view all = headers.count("cookie") ? std::string_view(headers.at("cookie")) : "";
  while (!all.empty()) {
    const auto semi = all.find(';');
    std::string_view one = Trim(all.substr(0, semi));
    all = semi == std::string_view::npos ? std::string_view() : all.substr(semi + 1);
    const auto eq = one.find('=');
    if (eq != std::string_view::npos && one.substr(0, eq) == name) {
      return std::string(one.substr(eq + 1));
    }
  }
  return {};
}

void Response::Set(const std::string& name, const std::string& value) {
  for (auto& [k, v] : headers) {
    if (k == name) {
      v = value;
      return;
    }
  }
  headers.emplace_back(name, value);
}

std::string Response::Get(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

Response Response::WithJson(int status, const Json& body) {
  Response r;
  r.status = status;
  r.body = Dump(body);
  r.Set("Content-Type", "application/json");
  return r;
}

Response Response::WithProblem(const Problem& p, const std::string& instance) {
  Json j = p.ToJson();
  if (!instance.empty() && (!j.contains("instance") || j["instance"] == "")) {
    j["instance"] = instance;
  }
  Response r;
  r.status = p.status >= 400 && p.status <= 599 ? p.status : 500;
  r.body = Dump(j);
  r.Set("Content-Type", "application/problem+json");
  return r;
}

}  // namespace ps::api
