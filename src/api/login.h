// Signing in to the dashboard with the OIDC authorization-code flow and PKCE,
// done by the server (the dashboard never holds a token): /v1/auth/login
// sends the browser to the provider with a code challenge, state and nonce;
// /v1/auth/callback exchanges the code (with the verifier) at the token
// endpoint, verifies the ID token (signature by the provider's JWKS, issuer,
// audience = the client id, expiry, nonce) and starts a session (the
// HttpOnly cookie). The provider's endpoints come from its discovery
// document. HTTP is injected: this file knows no networking library.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "api/jwt.h"
#include "core/clock.h"
#include "core/problem.h"

namespace ps::api {

struct OidcClient {
  std::string issuer;
  std::string client_id;  // a public client: PKCE, no secret
  std::string scopes = "openid profile email";
  std::function<Result<std::string>(const std::string& url)> get;
  std::function<Result<std::string>(const std::string& url, const std::string& form)> post;
};

class LoginFlow {
 public:
  // `keys` verifies the ID tokens (the provider's JWKS; it must outlive this).
  LoginFlow(OidcClient client, jwt::JwksCache& keys, Clock& clock);

  // The provider's authorization URL for a new sign-in that returns to
  // `callback` (this server's /v1/auth/callback) and then to `return_to`
  // (a path of this server).
  Result<std::string> Begin(const std::string& callback, const std::string& return_to);

  struct Signed {
    std::string sub;
    std::string return_to;
  };
  // The code the provider sent back with `state`: exchanged and verified.
  // 401 problems for anything that does not check (unknown or used state,
  // a failed exchange, a bad ID token, a nonce that differs).
  Result<Signed> Finish(const std::string& code, const std::string& state,
                        const std::string& callback);

  // PKCE's S256: base64url(SHA-256(verifier)), no padding.
  static std::string Challenge(const std::string& verifier);

 private:
  struct Pending {
    std::string verifier, nonce, return_to;
    Millis expires = 0;
  };
  struct Endpoints {
    std::string authorization, token;
  };
  Result<Endpoints> Discover();

  OidcClient client_;
  jwt::JwksCache& keys_;
  Clock& clock_;
  std::mutex mu_;
  std::optional<Endpoints> endpoints_;
  std::map<std::string, Pending> pending_;  // by state
};

// `s` percent-encoded for a URL's query (RFC 3986 unreserved kept).
std::string UrlEncode(std::string_view s);

}  // namespace ps::api
