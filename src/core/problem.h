// The one error type of ProdSprint: a Problem, shaped after RFC 9457
// (type, title, status, detail, instance, plus extension members).
//
// Error policy (see docs/ARCHITECTURE.md): expected failures are values, a
// Problem inside a Result<T>; invariants are asserts. Exceptions may be used
// inside one module but never cross a module's public interface.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/json.h"

namespace ps {

// Problem type URIs are "https://prodsprint.dev/problems/<slug>"; the slug is
// what code compares against (Problem::Is).
struct Problem {
  std::string type = "about:blank";
  std::string title;
  int status = 500;
  std::string detail;
  std::string instance;
  Json extensions = Json::object();

  // Whether a stage that returned this problem may be retried.
  bool retryable = false;

  static Problem Make(std::string_view slug, std::string title, int status,
                      std::string detail = {});

  // The slug part of `type` ("invalid-config" for .../problems/invalid-config).
  std::string_view Slug() const;
  bool Is(std::string_view slug) const { return Slug() == slug; }

  Problem& With(const std::string& key, Json value) {
    extensions[key] = std::move(value);
    return *this;
  }
  Problem& Retryable(bool r = true) {
    retryable = r;
    return *this;
  }

  // application/problem+json body.
  Json ToJson() const;
  static std::optional<Problem> FromJson(const Json& j);
  // "title: detail" for terminals and logs.
  std::string Message() const;
};

// Common problems. Statuses follow HTTP semantics so the API can return them
// unchanged.
namespace problems {
Problem InvalidInput(std::string detail);            // 400
Problem InvalidConfig(std::string detail);           // 422
Problem NotFound(std::string what, std::string id);  // 404
Problem Conflict(std::string detail);                // 409
Problem StoreCorrupt(std::string detail);            // 500, not retryable
Problem StoreTooNew(std::string detail);             // 500, not retryable
Problem StoreBusy(std::string detail);               // 503, retryable
Problem Internal(std::string detail);                // 500
Problem Cancelled(std::string detail);               // 499-like, 409
Problem Timeout(std::string detail);                 // 504, retryable
Problem LeaseLost(std::string detail);               // 409
}  // namespace problems

// Result<T>: either a value or a Problem.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Problem p) : v_(std::move(p)) {}    // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Problem& problem() const& { return std::get<1>(v_); }
  Problem&& problem() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Problem> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Problem p) : p_(std::move(p)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !p_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Problem& problem() const& { return *p_; }
  Problem&& problem() && { return std::move(*p_); }

 private:
  std::optional<Problem> p_;
};

using Status = Result<void>;
inline Status Ok() { return {}; }

}  // namespace ps

// Early return on failure: PS_TRY(expr) for Result<void>;
// PS_ASSIGN(var, expr) declares `var` from a Result<T>.
#define PS_CONCAT_INNER(a, b) a##b
#define PS_CONCAT(a, b) PS_CONCAT_INNER(a, b)
#define PS_TRY(expr)                                      \
  do {                                                    \
    auto _ps_st = (expr);                                 \
    if (!_ps_st.ok()) return std::move(_ps_st).problem(); \
  } while (0)
#define PS_ASSIGN_IMPL(tmp, var, expr)            \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return std::move(tmp).problem(); \
  var = std::move(tmp).value()
#define PS_ASSIGN(var, expr) PS_ASSIGN_IMPL(PS_CONCAT(_ps_r_, __LINE__), var, expr)
