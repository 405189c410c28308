#include "api/auth.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>

#include "core/fs.h"

namespace ps::api {

namespace {

constexpr std::array<std::pair<Role, std::string_view>, 4> kRoles{{
    {Role::kViewer, "viewer"},
    {Role::kDeveloper, "developer"},
    {Role::kAdmin, "admin"},
    {Role::kOwner, "owner"},
}};

}  // namespace

std::string Base64UrlEncode(const unsigned char* data, std::size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

namespace {

// A view into req's own header (empty when there is none).
std::string_view BearerOf(const Request& req) {
  auto it = req.headers.find("authorization");
  if (it == req.headers.end()) return {};
  std::string_view v = it->second;
  if (v.size() < 7) return {};
  std::string scheme(v.substr(0, 7));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (scheme != "bearer ") return {};
  v.remove_prefix(7);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return v;
}

}  // namespace

std::string_view ToString(Role r) {
  for (const auto& [role, name] : kRoles) {
    if (role == r) return name;
  }
  return "viewer";
}

bool ParseRole(std::string_view s, Role* out) {
  for (const auto& [role, name] : kRoles) {
    if (name == s) {
      *out = role;
      return true;
    }
  }
  return false;
}

std::string_view ToString(Need n) {
  switch (n) {
    case Need::kNone:
      return "none";
    case Need::kIdentity:
      return "identity";
    case Need::kView:
      return "viewer";
    case Need::kOperate:
      return "developer";
    case Need::kAdmin:
      return "admin";
    case Need::kOwner:
      return "owner";
  }
  return "?";
}

Role MinRole(Need n) {
  switch (n) {
    case Need::kOperate:
      return Role::kDeveloper;
    case Need::kAdmin:
      return Role::kAdmin;
    case Need::kOwner:
      return Role::kOwner;
    default:
      return Role::kViewer;
  }
}

bool Grant::Allows(const std::string& workspace_id) const {
  return workspaces.empty() ||
         std::find(workspaces.begin(), workspaces.end(), workspace_id) != workspaces.end();
}

Problem Unauthenticated(std::string detail) {
  return Problem::Make("unauthenticated", "Authentication required", 401, std::move(detail));
}

Problem Forbidden(std::string detail) {
  return Problem::Make("forbidden", "Forbidden", 403, std::move(detail));
}

std::string RandomText(int bytes) {
  std::vector<unsigned char> buf(static_cast<std::size_t>(bytes));
  if (RAND_bytes(buf.data(), bytes) != 1) {
    // OpenSSL's generator failing is not something to paper over: no
    // secret may come from a weaker source.
    std::abort();
  }
  return Base64UrlEncode(buf.data(), buf.size());
}

std::string HashSecret(std::string_view secret) { return Sha256Hex(secret); }

NewSecret MakeTokenSecret() {
  NewSecret s;
  s.secret = "pst_" + RandomText(32);
  s.hash = HashSecret(s.secret);
  return s;
}

Authenticator::Authenticator(store::Store& store, Clock& clock,
                             std::unique_ptr<jwt::JwksCache> oidc, jwt::Policy policy)
    : store_(store), clock_(clock), oidc_(std::move(oidc)), policy_(std::move(policy)) {}

Result<Principal> Authenticator::FromApiToken(const std::string& secret) {
  const std::string hash = HashSecret(secret);
  auto token = store::ReadValue<store::ApiToken>(
      store_, [&](store::Tx& tx) { return tx.FindApiTokenByHash(hash); });
  if (!token.ok()) {
    if (token.problem().Is("not-found")) return Unauthenticated("unknown API token");
    return token.problem();
  }
  const Millis now = clock_.Now();
  if (token->revoked_at > 0) return Unauthenticated("the API token was revoked");
  if (token->expires_at > 0 && now >= token->expires_at) {
    return Unauthenticated("the API token expired");
  }
  Principal p;
  p.kind = Principal::Kind::kToken;
  p.sub = token->id;
  p.actor = "token:" + token->id;
  p.token_org_id = token->org_id;
  p.token_workspace_id = token->workspace_id;
  if (!ParseRole(token->role, &p.token_role)) p.token_role = Role::kViewer;
  // Last use to the minute: a read does not turn into a write per request.
  if (now - token->last_used_at >= 60'000) {
    store::ApiToken used = *token;
    used.last_used_at = now;
    (void)store_.Write([&](store::Tx& tx) { return tx.UpdateApiToken(used); });
  }
  return p;
}

Result<Principal> Authenticator::Authenticate(const Request& req) {
  const std::string_view bearer = BearerOf(req);
  if (!bearer.empty()) {
    if (bearer.rfind("pst_", 0) == 0) return FromApiToken(std::string(bearer));
    if (!oidc_) {
      return Unauthenticated(
          "bearer tokens other than API tokens need an identity provider (server.oidc)");
    }
    PS_ASSIGN(jwt::Claims claims, oidc_->Verify(bearer, policy_));
    Principal p;
    p.sub = claims.sub;
    p.actor = "user:" + claims.sub;
    return p;
  }
  if (!req.Header("authorization").empty()) {
    return Unauthenticated("the Authorization header must be 'Bearer TOKEN'");
  }
  const std::string session = req.Cookie(kSessionCookie);
  if (!session.empty()) {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(session);
    if (it == sessions_.end() || it->second.expires <= clock_.Now()) {
      if (it != sessions_.end()) sessions_.erase(it);
      return Unauthenticated("the session ended; log in again");
    }
    Principal p;
    p.sub = it->second.sub;
    p.actor = "user:" + p.sub;
    p.via_cookie = true;
    return p;
  }
  return Unauthenticated("no credentials: send 'Authorization: Bearer TOKEN'");
}

Result<std::vector<Grant>> Authenticator::GrantsOf(const Principal& p) {
  std::vector<Grant> grants;
  PS_TRY(store_.Read([&](store::Tx& tx) -> Status {
    if (p.kind == Principal::Kind::kToken) {
      PS_ASSIGN(store::Org org, tx.GetOrg(p.token_org_id));
      Grant g{org, p.token_role, {}};
      if (!p.token_workspace_id.empty()) g.workspaces.push_back(p.token_workspace_id);
      grants.push_back(std::move(g));
      return Ok();
    }
    PS_ASSIGN(auto members, tx.ListMemberships(p.sub));
    for (const auto& m : members) {
      auto org = tx.GetOrg(m.org_id);
      if (!org.ok()) continue;
      Grant g{*org, Role::kViewer, m.workspaces};
      if (!ParseRole(m.role, &g.role)) continue;
      grants.push_back(std::move(g));
    }
    return Ok();
  }));
  return grants;
}

std::string Authenticator::NewLoginCode(const std::string& sub, Millis ttl, bool reusable) {
  std::string code = RandomText(24);
  std::lock_guard lock(mu_);
  codes_[code] = {sub, clock_.Now() + ttl, reusable};
  return code;
}

std::optional<std::string> Authenticator::RedeemLoginCode(const std::string& code, Millis ttl) {
  Session who;
  {
    std::lock_guard lock(mu_);
    auto it = codes_.find(code);
    if (it == codes_.end()) return std::nullopt;
    who = it->second;
    if (!who.reusable) codes_.erase(it);
  }
  if (who.expires <= clock_.Now()) return std::nullopt;
  return StartSession(who.sub, ttl);
}

std::string Authenticator::StartSession(const std::string& sub, Millis ttl) {
  std::lock_guard lock(mu_);
  const Millis now = clock_.Now();
  std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires <= now; });
  std::string id = RandomText(32);
  sessions_[id] = {sub, now + ttl};
  return id;
}

void Authenticator::EndSession(const std::string& session_id) {
  std::lock_guard lock(mu_);
  sessions_.erase(session_id);
}

}  // namespace ps::api
