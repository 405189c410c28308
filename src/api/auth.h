// Who is calling, and what they may do.
//
// Identities: an OIDC bearer token (its `sub` is the user), an API token
// (`pst_...`, for CI: bound to one org, a role and optionally a workspace),
// or a session cookie (the dashboard; made by `serve --dev`'s login link).
// Roles live in ProdSprint, not in the identity provider: an org's members
// are owners, admins, developers or viewers, optionally narrowed to some
// workspaces. Every route names the least role it needs (Need); an object
// of a tenant the caller cannot see is "not found" (404), never a 403 that
// confirms it exists.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/http.h"
#include "api/jwt.h"
#include "api/login.h"
#include "core/clock.h"
#include "core/config.h"
#include "store/store.h"

namespace ps::api {

enum class Role { kViewer = 1, kDeveloper = 2, kAdmin = 3, kOwner = 4 };
std::string_view ToString(Role r);
bool ParseRole(std::string_view s, Role* out);

// What a route needs from its caller.
enum class Need {
  kNone,      // anyone: health, metrics, the OpenAPI document, the login link
  kIdentity,  // any authenticated caller (their own profile, their orgs)
  kView,      // viewer: read a tenant's objects
  kOperate,   // developer: start runs, releases, rollbacks
  kAdmin,     // admin: members, tokens, workspaces, waivers, the audit log
  kOwner,     // owner: make or remove owners
};
std::string_view ToString(Need n);
// The least role that satisfies `n` (kViewer for kNone and kIdentity).
Role MinRole(Need n);

struct Principal {
  enum class Kind { kUser, kToken } kind = Kind::kUser;
  std::string sub;    // the OIDC subject; for a token, its id
  std::string actor;  // what the audit log says: "user:SUB" or "token:ID"
  bool via_cookie = false;
  // An API token's org, role and workspace (empty: all of the org's).
  std::string token_org_id, token_workspace_id;
  Role token_role = Role::kViewer;
};

// One org a principal may act in.
struct Grant {
  store::Org org;
  Role role = Role::kViewer;
  std::vector<std::string> workspaces;  // ids; empty: all of the org's
  bool Allows(const std::string& workspace_id) const;
};

// The 401 answer's problem (the server adds WWW-Authenticate).
Problem Unauthenticated(std::string detail);
// 403: the caller can see the object but their role is too small.
Problem Forbidden(std::string detail);

// The secret of a new API token ("pst_" and 43 base64url characters from
// the operating system's random source) and the hash that is stored.
struct NewSecret {
  std::string secret, hash;
};
NewSecret MakeTokenSecret();
std::string HashSecret(std::string_view secret);
// Random URL-safe text (for session ids, login codes, request ids).
std::string RandomText(int bytes);
// Bytes in base64url without padding (RFC 4648 §5).
std::string Base64UrlEncode(const unsigned char* data, std::size_t n);

class Authenticator {
 public:
  // `oidc` may be null (no identity provider: API tokens and sessions only).
  Authenticator(store::Store& store, Clock& clock, std::unique_ptr<jwt::JwksCache> oidc,
                jwt::Policy policy);

  // The caller of `req`: Authorization: Bearer (a JWT or a pst_ token), or the
  // session cookie. A Problem (401) when there is none or it is not valid.
  Result<Principal> Authenticate(const Request& req);
  // The orgs the principal may act in, with its role in each.
  Result<std::vector<Grant>> GrantsOf(const Principal& p);

  // Sessions (the dashboard's cookie). A login code is good for `ttl` (once,
  // unless `reusable`: `serve --dev`'s link works for the server's life);
  // redeeming it gives a session id for `sub`.
  std::string NewLoginCode(const std::string& sub, Millis ttl = 600'000, bool reusable = false);
  std::optional<std::string> RedeemLoginCode(const std::string& code, Millis ttl = 43'200'000);
  void EndSession(const std::string& session_id);
  // A session for `sub` (signed in through the provider): its id.
  std::string StartSession(const std::string& sub, Millis ttl = 43'200'000);

  // The dashboard's sign-in through the provider (null: not configured).
  void SetLogin(std::unique_ptr<LoginFlow> login) { login_ = std::move(login); }
  LoginFlow* login() { return login_.get(); }
  static constexpr const char* kSessionCookie = "ps_session";

  bool HasOidc() const { return oidc_ != nullptr; }
  jwt::JwksCache* oidc_keys() { return oidc_.get(); }

 private:
  struct Session {
    std::string sub;
    Millis expires = 0;
    bool reusable = false;
  };
  Result<Principal> FromApiToken(const std::string& secret);

  store::Store& store_;
  Clock& clock_;
  std::unique_ptr<jwt::JwksCache> oidc_;
  std::unique_ptr<LoginFlow> login_;
  jwt::Policy policy_;
  std::mutex mu_;
  std::map<std::string, Session> codes_;     // login code -> who, until when
  std::map<std::string, Session> sessions_;  // session id -> who, until when
};

}  // namespace ps::api
