// api/jwt: compact JWS verification against a JWKS with OpenSSL 3 (jwt.h).
//
// The order of the checks matters: nothing from the payload is read before
// the signature verifies, and the key is chosen by the server's policy (the
// allowlisted alg must match the key's type) so that a token cannot pick how
// it is checked (the "alg: none" and RS256-to-HS256 confusions).
#include "api/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

#include "core/fs.h"

namespace ps::api::jwt {

namespace {

constexpr std::size_t kMaxJwksBytes = 1 << 20;
// Keys past this many in a document are skipped: a real provider publishes a
// handful, and each RSA key costs an import.
constexpr std::size_t kMaxKeys = 100;
constexpr int kMinRsaBits = 2048;
// Larger moduli only make verification slow enough to be a lever for load.
constexpr int kMaxRsaBits = 8192;
// NumericDates beyond 9999-12-31T23:59:59Z are refused: their milliseconds
// would no longer be exact, and no honest token needs them.
constexpr std::int64_t kMaxDateSeconds = 253'402'300'799;
// A larger skew is clamped: it would make expiry meaningless.
constexpr Millis kMaxSkew = 86'400'000;
// How much of a token-supplied string a detail repeats.
constexpr std::size_t kQuoteLimit = 40;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

using PkeyPtr = std::shared_ptr<EVP_PKEY>;

// A failed OpenSSL call leaves entries in the thread's error queue; they are
// of no use here (the caller gets a Problem) and would confuse the next user
// of the queue on this thread.
struct ClearErrorsOnExit {
  ClearErrorsOnExit() = default;
  ClearErrorsOnExit(const ClearErrorsOnExit&) = delete;
  ClearErrorsOnExit& operator=(const ClearErrorsOnExit&) = delete;
  ~ClearErrorsOnExit() { ERR_clear_error(); }
};

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict base64url (RFC 7515 section 2): the URL-safe alphabet only, no
// padding or whitespace, and zero bits after the last byte, so that a value
// has exactly one encoding and a token cannot be reworded without breaking
// its signature.
std::optional<std::string> DecodeBase64Url(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = Sextet(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (bits > 0 && (acc & ((1U << bits) - 1)) != 0) return std::nullopt;
  return out;
}

// A token-supplied string, short and printable, for a Problem's detail.
std::string Quote(std::string_view s) {
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < kQuoteLimit; ++i) {
    const char c = s[i];
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (s.size() > kQuoteLimit) out += "...";
  out += "'";
  return out;
}

std::optional<Json> ParseObject(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// The string member `name` of `obj`, or nullptr when absent or not a string.
const std::string* StringMember(const Json& obj, const char* name) {
  const auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

// A JWK member holding base64url bytes (n, e, x, y).
std::optional<std::string> BytesMember(const Json& jwk, const char* name) {
  const std::string* s = StringMember(jwk, name);
  if (s == nullptr) return std::nullopt;
  return DecodeBase64Url(*s);
}

PkeyPtr FromData(const char* type, OSSL_PARAM* params) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) return nullptr;
  return PkeyPtr(raw, PkeyFree());
}

// An RSA public key from a JWK's n and e, or nullptr with `why`.
PkeyPtr BuildRsa(const Json& jwk, std::string* why) {
  const auto n = BytesMember(jwk, "n");
  const auto e = BytesMember(jwk, "e");
  if (!n || !e) {
    *why = "RSA key without base64url n and e";
    return nullptr;
  }
  const auto* n_bytes = reinterpret_cast<const unsigned char*>(n->data());
  const auto* e_bytes = reinterpret_cast<const unsigned char*>(e->data());
  std::unique_ptr<BIGNUM, BnFree> bn_n(BN_bin2bn(n_bytes, static_cast<int>(n->size()), nullptr));
  std::unique_ptr<BIGNUM, BnFree> bn_e(BN_bin2bn(e_bytes, static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) {
    *why = "RSA key could not be read";
    return nullptr;
  }
  const int bits = BN_num_bits(bn_n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    *why = "RSA key has " + std::to_string(bits) + " bits (" + std::to_string(kMinRsaBits) +
           " to " + std::to_string(kMaxRsaBits) + " accepted)";
    return nullptr;
  }
  // An even modulus is no RSA key; an exponent of 1 would accept anything as
  // its own signature; more than 64 bits of exponent is nothing a provider
  // makes (and OpenSSL refuses it for large moduli anyway).
  if (!BN_is_odd(bn_n.get()) || !BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get()) ||
      BN_num_bits(bn_e.get()) > 64) {
    *why = "RSA key has an invalid modulus or exponent";
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    *why = "RSA key could not be built";
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyPtr key = params ? FromData("RSA", params.get()) : nullptr;
  if (!key) *why = "RSA key rejected by OpenSSL";
  return key;
}

// A P-256 public key from a JWK's x and y, or nullptr with `why`.
PkeyPtr BuildEc(const Json& jwk, std::string* why) {
  const std::string* crv = StringMember(jwk, "crv");
  if (crv == nullptr || *crv != "P-256") {
    *why = "EC key on curve " + (crv == nullptr ? std::string("(none)") : Quote(*crv)) +
           " (P-256 only)";
    return nullptr;
  }
  const auto x = BytesMember(jwk, "x");
  const auto y = BytesMember(jwk, "y");
  // RFC 7518 section 6.2.1.2: the full field size, leading zeros kept.
  if (!x || !y || x->size() != 32 || y->size() != 32) {
    *why = "EC key without 32-byte base64url x and y";
    return nullptr;
  }
  std::string point = "\x04" + *x + *y;  // uncompressed SEC1 point
  char group[] = "P-256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end()};
  PkeyPtr key = FromData("EC", params);
  if (!key) {
    *why = "EC key is not a point on P-256";
    return nullptr;
  }
  // An off-curve or small-order point must never reach ECDSA verification
  // (invalid-curve attacks); the import may not check all of it.
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    *why = "EC key is not a valid point on P-256";
    return nullptr;
  }
  return key;
}

// The raw r||s of a JWS ES256 signature (RFC 7518 section 3.4) as the DER
// ECDSA-Sig-Value OpenSSL verifies.
std::optional<std::string> RawToDer(const std::string& raw) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0 || der == nullptr) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool VerifySha256(EVP_PKEY* key, std::string_view data, const std::string& signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

// A NumericDate (RFC 7519: seconds, possibly fractional) as ms, or nullopt
// when it is not a number in [0, year 9999].
std::optional<Millis> ReadDate(const Json& v) {
  if (v.is_number_unsigned()) {
    const auto s = v.get<std::uint64_t>();
    if (s > static_cast<std::uint64_t>(kMaxDateSeconds)) return std::nullopt;
    return static_cast<Millis>(s) * 1000;
  }
  if (v.is_number_integer()) {
    const auto s = v.get<std::int64_t>();
    if (s < 0 || s > kMaxDateSeconds) return std::nullopt;
    return s * 1000;
  }
  if (v.is_number_float()) {
    const auto s = v.get<double>();
    if (!std::isfinite(s) || s < 0 || s > static_cast<double>(kMaxDateSeconds)) {
      return std::nullopt;
    }
    return static_cast<Millis>(std::floor(s * 1000));
  }
  return std::nullopt;
}

struct Parts {
  std::string_view header, payload, signature, signing_input;
};

std::optional<Parts> Split(std::string_view token) {
  const auto d1 = token.find('.');
  if (d1 == std::string_view::npos) return std::nullopt;
  const auto d2 = token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return Parts{token.substr(0, d1), token.substr(d1 + 1, d2 - d1 - 1), token.substr(d2 + 1),
               token.substr(0, d2)};
}

Problem Unavailable(const Problem& why) {
  return Problem::Make("jwks-unavailable", "Signing keys unavailable", 503,
                       "could not load the JWKS: " + why.Message())
      .Retryable();
}

}  // namespace

struct KeySet::Impl {
  struct Key {
    std::string kty;  // "RSA" or "EC"
    std::string alg;  // the JWK's "alg", "" when it states none
    PkeyPtr pkey;
  };
  std::map<std::string, Key> keys;  // by kid ("" for a key without one)
  std::vector<std::string> skip_reasons;
};

Problem InvalidToken(std::string detail) {
  return Problem::Make("invalid-token", "Invalid token", 401, std::move(detail));
}

KeySet::KeySet() : impl_(std::make_shared<const Impl>()) {}

Result<KeySet> KeySet::Parse(std::string_view jwks_json) {
  ClearErrorsOnExit clear_errors;
  if (jwks_json.size() > kMaxJwksBytes) {
    return problems::InvalidInput("JWKS is larger than " + std::to_string(kMaxJwksBytes) +
                                  " bytes");
  }
  const auto doc = ParseObject(jwks_json);
  if (!doc) return problems::InvalidInput("JWKS is not a JSON object");
  const auto keys_it = doc->find("keys");
  if (keys_it == doc->end() || !keys_it->is_array()) {
    return problems::InvalidInput("JWKS has no \"keys\" array");
  }
  auto impl = std::make_shared<Impl>();
  std::size_t index = 0;
  for (const Json& jwk : *keys_it) {
    const std::size_t i = index++;
    std::string kid;
    auto skip = [&](const std::string& why) {
      impl->skip_reasons.push_back("key " + std::to_string(i) +
                                   (kid.empty() ? "" : " (kid " + Quote(kid) + ")") + ": " + why);
    };
    if (i >= kMaxKeys) {
      skip("more than " + std::to_string(kMaxKeys) + " keys");
      continue;
    }
    if (!jwk.is_object()) {
      skip("not a JSON object");
      continue;
    }
    if (jwk.contains("kid")) {
      const std::string* k = StringMember(jwk, "kid");
      if (k == nullptr) {
        skip("kid is not a string");
        continue;
      }
      kid = *k;
    }
    if (jwk.contains("use")) {
      const std::string* use = StringMember(jwk, "use");
      if (use == nullptr || *use != "sig") {
        skip("not a signing key (use is not \"sig\")");
        continue;
      }
    }
    if (const auto ops = jwk.find("key_ops"); ops != jwk.end()) {
      if (!ops->is_array() || std::find(ops->begin(), ops->end(), Json("verify")) == ops->end()) {
        skip("key_ops does not allow \"verify\"");
        continue;
      }
    }
    std::string alg;
    if (jwk.contains("alg")) {
      const std::string* a = StringMember(jwk, "alg");
      if (a == nullptr) {
        skip("alg is not a string");
        continue;
      }
      alg = *a;
    }
    const std::string* kty = StringMember(jwk, "kty");
    if (kty == nullptr) {
      skip("no kty");
      continue;
    }
    std::string why;
    PkeyPtr pkey;
    if (*kty == "RSA") {
      pkey = BuildRsa(jwk, &why);
    } else if (*kty == "EC") {
      pkey = BuildEc(jwk, &why);
    } else if (*kty == "oct") {
      why = "symmetric key (kty oct): never accepted for bearer tokens";
    } else {
      why = "unsupported kty " + Quote(*kty);
    }
    if (!pkey) {
      skip(why);
      continue;
    }
    // Which of two keys with one kid a token means cannot be known.
    if (impl->keys.count(kid) != 0) {
      skip(kid.empty() ? "a second key without kid" : "duplicate kid");
      continue;
    }
    impl->keys.emplace(kid, Impl::Key{*kty, alg, std::move(pkey)});
  }
  KeySet set;
  set.impl_ = std::move(impl);
  return set;
}

bool KeySet::Has(const std::string& kid) const { return impl_->keys.count(kid) != 0; }
std::size_t KeySet::size() const { return impl_->keys.size(); }
std::size_t KeySet::skipped() const { return impl_->skip_reasons.size(); }
const std::vector<std::string>& KeySet::skip_reasons() const { return impl_->skip_reasons; }

Result<Claims> Verify(std::string_view token, const KeySet& keys, const Policy& policy,
                      Millis now) {
  ClearErrorsOnExit clear_errors;
  if (token.size() > kMaxTokenBytes) {
    return InvalidToken("token is larger than " + std::to_string(kMaxTokenBytes) + " bytes");
  }
  const auto parts = Split(token);
  if (!parts) return InvalidToken("not a compact JWS (three parts separated by '.')");

  // Header: which algorithm and key.
  const auto header_text = DecodeBase64Url(parts->header);
  if (!header_text) return InvalidToken("header is not base64url without padding");
  const auto header = ParseObject(*header_text);
  if (!header) return InvalidToken("header is not a JSON object");
  const std::string* alg = StringMember(*header, "alg");
  if (alg == nullptr) return InvalidToken("header has no alg");
  if (*alg != "RS256" && *alg != "ES256") {
    return InvalidToken("alg " + Quote(*alg) + " is not allowed (RS256 or ES256 only)");
  }
  // RFC 7515 section 4.1.11: extensions a verifier does not know must fail.
  if (header->contains("crit")) return InvalidToken("header has crit extensions (none supported)");
  std::string kid;
  if (header->contains("kid")) {
    const std::string* k = StringMember(*header, "kid");
    if (k == nullptr) return InvalidToken("kid is not a string");
    kid = *k;
  }
  const auto& set = keys.impl_->keys;
  if (set.empty()) return InvalidToken("no usable signing keys");
  const KeySet::Impl::Key* key = nullptr;
  if (kid.empty()) {
    if (set.size() != 1) {
      return InvalidToken("header has no kid and there are " + std::to_string(set.size()) +
                          " keys");
    }
    key = &set.begin()->second;
  } else {
    const auto it = set.find(kid);
    if (it == set.end()) return InvalidToken("unknown kid " + Quote(kid));
    key = &it->second;
  }
  const char* want_kty = *alg == "RS256" ? "RSA" : "EC";
  if (key->kty != want_kty) {
    return InvalidToken("alg " + *alg + " does not match key " + Quote(kid) + " (kty " + key->kty +
                        ")");
  }
  if (!key->alg.empty() && key->alg != *alg) {
    return InvalidToken("alg " + *alg + " does not match key " + Quote(kid) + " (alg " +
                        Quote(key->alg) + ")");
  }

  // Signature, before anything in the payload is read (only its encoding is
  // checked first, for a detail that says what is wrong).
  const auto payload_text = DecodeBase64Url(parts->payload);
  if (!payload_text) return InvalidToken("payload is not base64url without padding");
  auto signature = DecodeBase64Url(parts->signature);
  if (!signature) return InvalidToken("signature is not base64url without padding");
  if (*alg == "ES256") {
    if (signature->size() != 64) {
      return InvalidToken("ES256 signature has " + std::to_string(signature->size()) +
                          " bytes (64 expected)");
    }
    signature = RawToDer(*signature);
    if (!signature) return InvalidToken("ES256 signature could not be read");
  } else {
    const int size = EVP_PKEY_get_size(key->pkey.get());
    if (size <= 0 || signature->size() != static_cast<std::size_t>(size)) {
      return InvalidToken("RS256 signature has " + std::to_string(signature->size()) +
                          " bytes (the key's is " + std::to_string(size) + ")");
    }
  }
  if (!VerifySha256(key->pkey.get(), parts->signing_input, *signature)) {
    return InvalidToken("signature does not verify");
  }

  // Claims.
  auto payload = ParseObject(*payload_text);
  if (!payload) return InvalidToken("payload is not a JSON object");
  Claims c;
  c.kid = kid;
  c.alg = *alg;
  const Millis skew = std::clamp<Millis>(policy.skew, 0, kMaxSkew);

  const auto exp_it = payload->find("exp");
  if (exp_it == payload->end()) return InvalidToken("exp is missing");
  const auto exp = ReadDate(*exp_it);
  if (!exp) return InvalidToken("exp is not a NumericDate");
  c.exp = *exp;
  if (now >= c.exp + skew) return InvalidToken("token expired at " + FormatTime(c.exp));

  if (const auto it = payload->find("nbf"); it != payload->end()) {
    const auto nbf = ReadDate(*it);
    if (!nbf) return InvalidToken("nbf is not a NumericDate");
    c.nbf = *nbf;
    if (c.nbf - skew > now) return InvalidToken("token not valid before " + FormatTime(c.nbf));
  }
  if (const auto it = payload->find("iat"); it != payload->end()) {
    const auto iat = ReadDate(*it);
    if (!iat) return InvalidToken("iat is not a NumericDate");
    c.iat = *iat;
    if (c.iat - skew > now) return InvalidToken("token issued in the future (iat)");
  }

  if (policy.issuer.empty()) return InvalidToken("no issuer configured: no token is accepted");
  const std::string* iss = StringMember(*payload, "iss");
  if (iss == nullptr) return InvalidToken("iss is missing");
  if (*iss != policy.issuer) return InvalidToken("iss " + Quote(*iss) + " is not the issuer");
  c.iss = *iss;

  const auto aud_it = payload->find("aud");
  if (aud_it == payload->end()) return InvalidToken("aud is missing");
  if (aud_it->is_string()) {
    c.aud.push_back(aud_it->get<std::string>());
  } else if (aud_it->is_array()) {
    for (const Json& a : *aud_it) {
      if (!a.is_string()) return InvalidToken("aud holds something other than strings");
      c.aud.push_back(a.get<std::string>());
    }
  } else {
    return InvalidToken("aud is neither a string nor an array");
  }
  const bool aud_ok = std::any_of(c.aud.begin(), c.aud.end(), [&](const std::string& a) {
    return std::find(policy.audiences.begin(), policy.audiences.end(), a) != policy.audiences.end();
  });
  if (!aud_ok) return InvalidToken("aud names none of the accepted audiences");

  const std::string* sub = StringMember(*payload, "sub");
  if (sub == nullptr || sub->empty()) return InvalidToken("sub is missing or empty");
  c.sub = *sub;
  c.all = std::move(*payload);
  return c;
}

std::string PeekKid(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return "";
  const auto dot = token.find('.');
  if (dot == std::string_view::npos) return "";
  const auto text = DecodeBase64Url(token.substr(0, dot));
  if (!text) return "";
  const auto header = ParseObject(*text);
  if (!header) return "";
  const std::string* kid = StringMember(*header, "kid");
  return kid == nullptr ? "" : *kid;
}

JwksCache::JwksCache(Source source, Clock& clock, Millis min_refetch, Millis max_age)
    : source_(std::move(source)), clock_(clock), min_refetch_(min_refetch), max_age_(max_age) {}

Result<KeySet> JwksCache::Load() {
  std::string text;
  if (!source_.file.empty()) {
    PS_ASSIGN(text, ReadFile(source_.file, kMaxJwksBytes));
  } else if (!source_.url.empty()) {
    if (!source_.fetch) return problems::InvalidConfig("a JWKS url but no way to fetch it");
    PS_ASSIGN(text, source_.fetch(source_.url));
  } else {
    return problems::InvalidConfig("no JWKS file or url");
  }
  PS_ASSIGN(KeySet keys, KeySet::Parse(text));
  // A document whose keys are all unusable is treated as a failed load, so
  // that a provider's bad moment does not replace keys that work.
  if (keys.size() == 0) {
    return problems::InvalidInput("JWKS has no usable signing keys (" +
                                  std::to_string(keys.skipped()) + " skipped)");
  }
  return keys;
}

Result<KeySet> JwksCache::Current() const {
  if (!loaded_) return Unavailable(last_error_);
  return keys_;
}

void JwksCache::Merge(const KeySet& fresh, Millis now) {
  auto impl = std::make_shared<KeySet::Impl>(*fresh.impl_);
  for (const auto& [kid, key] : keys_.impl_->keys) {
    impl->keys.emplace(kid, key);  // a no-op for a kid the fresh document has
  }
  for (const auto& entry : fresh.impl_->keys) seen_at_[entry.first] = now;
  keys_.impl_ = std::move(impl);
  loaded_ = true;
  loaded_at_ = now;
  DropWithdrawn(now);
}

void JwksCache::DropWithdrawn(Millis now) {
  auto expired = [&](const std::pair<const std::string, Millis>& e) {
    return e.second < loaded_at_ && now - e.second >= max_age_;
  };
  if (std::none_of(seen_at_.begin(), seen_at_.end(), expired)) return;
  auto impl = std::make_shared<KeySet::Impl>(*keys_.impl_);
  for (auto it = seen_at_.begin(); it != seen_at_.end();) {
    if (expired(*it)) {
      impl->keys.erase(it->first);
      it = seen_at_.erase(it);
    } else {
      ++it;
    }
  }
  keys_.impl_ = std::move(impl);
}

Result<KeySet> JwksCache::KeysFor(const std::string& kid) {
  // With mu_ held: whether this token warrants a load at `now`.
  auto wants_load = [&](Millis now) {
    if (!attempted_) return true;
    if (now - attempted_at_ < min_refetch_) return false;
    if (!loaded_) return true;
    return now - loaded_at_ >= max_age_ || keys_.size() == 0 || (!kid.empty() && !keys_.Has(kid));
  };
  {
    std::lock_guard lock(mu_);
    const Millis now = clock_.Monotonic();
    DropWithdrawn(now);
    if (!wants_load(now)) return Current();
  }
  std::lock_guard load_lock(load_mu_);
  Millis started = 0;
  {
    // Another thread may have loaded while this one waited for load_mu_.
    std::lock_guard lock(mu_);
    started = clock_.Monotonic();
    if (!wants_load(started)) return Current();
    attempted_ = true;
    attempted_at_ = started;
    ++fetches_;
  }
  auto loaded = Load();
  std::lock_guard lock(mu_);
  if (loaded.ok()) {
    Merge(*loaded, started);
  } else {
    last_error_ = std::move(loaded).problem();
  }
  return Current();
}

Result<Claims> JwksCache::Verify(std::string_view token, const Policy& policy) {
  PS_ASSIGN(const KeySet keys, KeysFor(PeekKid(token)));
  return jwt::Verify(token, keys, policy, clock_.Now());
}

int JwksCache::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

}  // namespace ps::api::jwt
