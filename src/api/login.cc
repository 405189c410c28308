#include "api/login.h"

#include <openssl/sha.h>

#include "api/auth.h"

namespace ps::api {

namespace {

constexpr Millis kPendingTtl = 10 * 60'000;
constexpr std::size_t kMaxPending = 10'000;

// Only a path of this server: no scheme, no host, no "//" (an open redirect
// would send a signed-in user anywhere).
std::string SafeReturn(const std::string& to) {
  if (to.empty() || to.front() != '/' || to.rfind("//", 0) == 0 ||
      to.find('\\') != std::string::npos || to.size() > 1024) {
    return "/";
  }
  for (unsigned char c : to) {
    if (c < 0x20 || c == 0x7f) return "/";
  }
  return to;
}

}  // namespace

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string LoginFlow::Challenge(const std::string& verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return Base64UrlEncode(digest, sizeof digest);
}

LoginFlow::LoginFlow(OidcClient client, jwt::JwksCache& keys, Clock& clock)
    : client_(std::move(client)), keys_(keys), clock_(clock) {}

Result<LoginFlow::Endpoints> LoginFlow::Discover() {
  {
    std::lock_guard lock(mu_);
    if (endpoints_) return *endpoints_;
  }
  std::string base = client_.issuer;
  while (!base.empty() && base.back() == '/') base.pop_back();
  PS_ASSIGN(std::string text, client_.get(base + "/.well-known/openid-configuration"));
  const Json doc = Json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.value("authorization_endpoint", Json()).is_string() ||
      !doc.value("token_endpoint", Json()).is_string()) {
    return Problem::Make("oidc-discovery", "Identity provider unusable", 502,
                         "the provider's discovery document names no authorization and token "
                         "endpoints");
  }
  if (doc.value("issuer", "") != client_.issuer) {
    return Problem::Make("oidc-discovery", "Identity provider unusable", 502,
                         "the provider's discovery document is for issuer '" +
                             doc.value("issuer", "") + "', not '" + client_.issuer + "'");
  }
  Endpoints e{doc["authorization_endpoint"].get<std::string>(),
              doc["token_endpoint"].get<std::string>()};
  std::lock_guard lock(mu_);
  endpoints_ = e;
  return e;
}

Result<std::string> LoginFlow::Begin(const std::string& callback, const std::string& return_to) {
  PS_ASSIGN(Endpoints e, Discover());
  Pending p{RandomText(32), RandomText(16), SafeReturn(return_to), clock_.Now() + kPendingTtl};
  const std::string state = RandomText(16);
  const std::string challenge = Challenge(p.verifier);
  const std::string nonce = p.nonce;
  {
    std::lock_guard lock(mu_);
    const Millis now = clock_.Now();
    std::erase_if(pending_, [&](const auto& kv) { return kv.second.expires <= now; });
    if (pending_.size() >= kMaxPending) {
      return Problem::Make("rate-limited", "Too many sign-ins in progress", 429,
                           "try again in a few minutes")
          .With("retry_after", 60);
    }
    pending_[state] = std::move(p);
  }
  return e.authorization + (e.authorization.find('?') == std::string::npos ? "?" : "&") +
         "response_type=code&client_id=" + UrlEncode(client_.client_id) +
         "&redirect_uri=" + UrlEncode(callback) + "&scope=" + UrlEncode(client_.scopes) +
         "&state=" + state + "&nonce=" + nonce + "&code_challenge=" + challenge +
         "&code_challenge_method=S256";
}

Result<LoginFlow::Signed> LoginFlow::Finish(const std::string& code, const std::string& state,
                                            const std::string& callback) {
  Pending p;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(state);
    if (it == pending_.end() || it->second.expires <= clock_.Now()) {
      if (it != pending_.end()) pending_.erase(it);
      return Unauthenticated("this sign-in is unknown or expired: start again");
    }
    p = std::move(it->second);
    pending_.erase(it);  // a state is good once
  }
  if (code.empty() || code.size() > 4096) return Unauthenticated("the provider sent no code");
  PS_ASSIGN(Endpoints e, Discover());
  const std::string form = "grant_type=authorization_code&code=" + UrlEncode(code) +
                           "&redirect_uri=" + UrlEncode(callback) +
                           "&client_id=" + UrlEncode(client_.client_id) +
                           "&code_verifier=" + UrlEncode(p.verifier);
  auto answer = client_.post(e.token, form);
  if (!answer.ok()) {
    return Unauthenticated("the provider refused the code: " + answer.problem().detail);
  }
  const Json tokens = Json::parse(*answer, nullptr, false);
  if (!tokens.is_object() || !tokens.value("id_token", Json()).is_string()) {
    return Unauthenticated("the provider's answer holds no ID token");
  }
  jwt::Policy policy;
  policy.issuer = client_.issuer;
  policy.audiences = {client_.client_id};
  PS_ASSIGN(jwt::Claims claims, keys_.Verify(tokens["id_token"].get<std::string>(), policy));
  if (claims.all.value("nonce", "") != p.nonce) {
    return Unauthenticated("the ID token's nonce is not this sign-in's");
  }
  return Signed{claims.sub, p.return_to};
}

}  // namespace ps::api
