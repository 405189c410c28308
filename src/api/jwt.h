// OIDC bearer tokens: compact JWS tokens (RS256, ES256) verified against the
// identity provider's JWKS (RFC 7515, 7517, 7518, 7519), with OpenSSL 3 only.
//
// Everything in a token is untrusted until its signature is checked, so the
// algorithm is never taken from the token alone: only RS256 and ES256 are
// accepted, and only with a key of the matching type. Keys come from the
// provider's JWKS (a file, or a URL fetched by the caller's HTTP client), never
// from the token (jku, x5u, jwk headers are ignored). OpenSSL types stay in
// jwt.cc so that this header does not drag OpenSSL into the API layer.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/problem.h"

namespace ps::api::jwt {

// A 401 problem: type invalid-token, title "Invalid token"; the detail names
// the check that failed.
Problem InvalidToken(std::string detail);

// What a token must say, besides being signed by a key of the set.
struct Policy {
  std::string issuer;                  // "iss" must equal this
  std::vector<std::string> audiences;  // "aud" (string or array) must hold one of these
  Millis skew = 60'000;                // leeway for exp / nbf / iat, clamped to 0..1 day
};

// A verified token's claims. JWT dates are seconds; these are ms since the
// epoch, like every other timestamp in ProdSprint (0 = absent).
struct Claims {
  std::string sub, iss, kid, alg;
  std::vector<std::string> aud;
  Millis exp = 0, nbf = 0, iat = 0;
  Json all;  // the whole payload
};

// Largest token accepted, in bytes.
inline constexpr std::size_t kMaxTokenBytes = 16 * 1024;

// The signing keys of a JWKS document (RFC 7517). Keeps RSA keys of 2048 to
// 8192 bits and EC P-256 keys; skips (and counts) keys meant for encryption,
// symmetric keys, other curves and types, and keys whose values are malformed,
// so that one odd key in a provider's set does not lock everyone out. Cheap to
// copy (the keys are shared and never change) and safe to use from many
// threads.
class KeySet {
 public:
  struct Impl;  // defined in jwt.cc (holds the OpenSSL keys)

  KeySet();  // no keys

  // A document that is not JSON, or has no "keys" array, is invalid-input.
  static Result<KeySet> Parse(std::string_view jwks_json);

  bool Has(const std::string& kid) const;
  std::size_t size() const;
  std::size_t skipped() const;
  // Why each skipped key was skipped ("key 2 (kid 'a'): RSA key has 1024 bits...").
  const std::vector<std::string>& skip_reasons() const;

 private:
  friend class JwksCache;
  friend Result<Claims> Verify(std::string_view token, const KeySet& keys, const Policy& policy,
                               Millis now);
  std::shared_ptr<const Impl> impl_;
};

// Verifies a compact JWS at time `now`: at most kMaxTokenBytes, three
// base64url parts (no padding); header alg RS256 or ES256 only, matching the
// key's type and the JWK's "alg" when it has one; kid required when the set
// has more than one key; no "crit" header; then the claims: exp required
// (now < exp + skew), nbf and iat if present (not after now + skew), iss
// equal to the policy's issuer, aud holding one of the policy's audiences,
// sub a non-empty string. Every failure is InvalidToken whose detail names
// the check; never throws.
Result<Claims> Verify(std::string_view token, const KeySet& keys, const Policy& policy, Millis now);

// The kid in a token's header, unverified ("" when absent or unreadable):
// only to pick a key set, never to trust.
std::string PeekKid(std::string_view token);

// Where a JwksCache loads its keys: a file, or a URL through `fetch` (the HTTP
// client lives elsewhere).
struct Source {
  std::string file;
  std::string url;
  std::function<Result<std::string>(const std::string& url)> fetch;
};

// Keys loaded from a Source and cached by kid; thread-safe. Loads on first
// use; reloads when a token names a kid it does not know (providers publish
// a new key before signing with it) and when the last load is max_age old.
// A key the source no longer publishes stays usable until max_age after the
// last load that had it, so tokens signed just before a rotation keep working
// for a while, and a withdrawn key does not outlive max_age. Loads happen at
// most once per min_refetch whatever asks for them, so a flood of tokens with
// made-up kids costs the provider one request per interval. A failed load
// (or a document without one usable key) keeps the keys already loaded.
// Intervals are measured on clock.Monotonic(); token dates on clock.Now().
class JwksCache {
 public:
  JwksCache(Source source, Clock& clock, Millis min_refetch = 60'000, Millis max_age = 3'600'000);
  JwksCache(const JwksCache&) = delete;
  JwksCache& operator=(const JwksCache&) = delete;

  // Verify() with the cached keys. When no key could ever be loaded, the
  // problem is jwks-unavailable (503, retryable), not invalid-token: the
  // token may be fine.
  Result<Claims> Verify(std::string_view token, const Policy& policy);

  // How many times the source was loaded, successfully or not (for tests).
  int fetches() const;

 private:
  // The keys to verify a token with `kid`, reloading first if needed.
  Result<KeySet> KeysFor(const std::string& kid);
  Result<KeySet> Load();
  // With mu_ held: the keys, or why there are none.
  Result<KeySet> Current() const;
  // With mu_ held: `fresh` (loaded at `now`) plus the keys it no longer has
  // that are still within max_age.
  void Merge(const KeySet& fresh, Millis now);
  // With mu_ held: forgets withdrawn keys last seen max_age ago.
  void DropWithdrawn(Millis now);

  const Source source_;
  Clock& clock_;
  const Millis min_refetch_;
  const Millis max_age_;

  // Held while loading, so that threads needing a reload at once load once.
  std::mutex load_mu_;
  // Guards the fields below; never held during a load.
  mutable std::mutex mu_;
  KeySet keys_;
  std::map<std::string, Millis> seen_at_;  // kid -> last load that had it
  bool loaded_ = false;                    // keys_ came from the source at least once
  Millis loaded_at_ = 0;                   // when keys_ were last loaded successfully
  bool attempted_ = false;                 // a load was tried
  Millis attempted_at_ = 0;                // when the last load was tried
  Problem last_error_;                     // why the last load failed
  int fetches_ = 0;
};

}  // namespace ps::api::jwt
