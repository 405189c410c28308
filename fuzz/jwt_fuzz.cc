// Bearer tokens come from anyone who can reach the API, and a JWKS from the
// network: both untrusted. The input is split at its first '\n': the first
// part is parsed as a JWKS, the rest verified as a token against keys whose
// private halves no longer exist anywhere, so a token that passes is a
// forgery. A rest that starts with '{' is instead signed here as a payload
// with a key made at start, so that the claim checks are reached too.
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "api/jwt.h"

namespace {

namespace jwt = ps::api::jwt;

constexpr ps::Millis kNow = 1'700'000'000'000;

// Made once with `openssl genpkey` (RSA 2048, EC P-256); the private keys
// were discarded.
constexpr const char* kJwks = R"({"keys": [
  {"kty": "RSA", "kid": "rsa1", "use": "sig", "alg": "RS256", "e": "AQAB",
   "n": "of3ivGOBBbJM7irKLaQH8hVToDVNl7SlIA7APr4oZUsvNyGq3MrQw1LuvrIEvD7DkKt9UmXb2eSSS6MY9WbkeCkOd8lqL8a7HVgDXqjEv4WmwiwNukXfStaCojiHt9VFqvbPeuP53lC5Q99Fypf82apjq7yItDqdijPMUSZzrodrKLvDk2czpFQn1KnV0DG9S_Ztu6dL4xH4UXQ8b83NOipIGjvpxqOJxuDrj4ScEVNGKuirzTa0Ba9xFFXr9AGort_ENWyaLqYe_SWh0p0szNLKpqLXuV1HihxiIKkKtFQDE1AR46UZlhhu8Fj6Pmw2aQzLieg8hhG22R3z2UeH5Q"},
  {"kty": "EC", "kid": "ec1", "crv": "P-256",
   "x": "E5LeXVVQ-_U_gCD0sszk-Nk1Ro2ALD8tgA0Z1CK03MA",
   "y": "P1E8_RmjFnwQn-qPPGfR57SYiHstZ6I9s0ZboXEVC1g"}
]})";

std::string B64Url(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : bytes) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

// A P-256 key made at start, its JWKS, and ES256 signing with it.
struct Signer {
  std::shared_ptr<EVP_PKEY> key{EVP_EC_gen("P-256"), EVP_PKEY_free};
  jwt::KeySet keys;

  Signer() {
    auto coordinate = [&](const char* name) {
      BIGNUM* bn = nullptr;
      EVP_PKEY_get_bn_param(key.get(), name, &bn);
      std::string out(32, '\0');
      BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), 32);
      BN_free(bn);
      return B64Url(out);
    };
    const ps::Json jwks = {{"keys",
                            {{{"kty", "EC"},
                              {"kid", "fuzz"},
                              {"crv", "P-256"},
                              {"x", coordinate("qx")},
                              {"y", coordinate("qy")}}}}};
    keys = jwt::KeySet::Parse(jwks.dump()).value();
  }

  std::string Sign(std::string_view payload) const {
    const std::string input = B64Url(R"({"alg":"ES256","kid":"fuzz"})") + "." + B64Url(payload);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    unsigned char der[80];
    std::size_t len = sizeof der;
    EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key.get(), nullptr);
    EVP_DigestSign(ctx.get(), der, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    const unsigned char* p = der;
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(sig);
    return input + "." + B64Url(raw);
  }
};

jwt::Policy FuzzPolicy() {
  jwt::Policy p;
  p.issuer = "https://idp.example";
  p.audiences = {"prodsprint"};
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const jwt::KeySet kFixed = jwt::KeySet::Parse(kJwks).value();
  static const Signer kSigner;
  static const jwt::Policy kPolicy = FuzzPolicy();
  static const bool kSelfCheck = [] {
    // The harness must reach a valid token, or the claim checks go unfuzzed.
    const std::string payload =
        R"({"iss":"https://idp.example","aud":"prodsprint","sub":"u","exp":1700000600})";
    if (kFixed.size() != 2 ||
        !jwt::Verify(kSigner.Sign(payload), kSigner.keys, kPolicy, kNow).ok()) {
      __builtin_trap();
    }
    return true;
  }();
  (void)kSelfCheck;

  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view jwks = input.substr(0, newline);
  const std::string_view token =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  auto parsed = jwt::KeySet::Parse(jwks);
  if (parsed.ok()) {
    (void)jwt::Verify(token, *parsed, kPolicy, kNow);
  } else {
    (void)ps::Dump(parsed.problem().ToJson());
  }

  (void)jwt::PeekKid(token);
  auto forged = jwt::Verify(token, kFixed, kPolicy, kNow);
  if (forged.ok()) __builtin_trap();  // nobody holds these keys
  (void)ps::Dump(forged.problem().ToJson());

  if (!token.empty() && token.front() == '{') {
    auto claims = jwt::Verify(kSigner.Sign(token), kSigner.keys, kPolicy, kNow);
    if (claims.ok()) {
      // What Verify promises about an accepted token.
      const bool kept =
          claims->sub.size() > 0 && claims->iss == kPolicy.issuer &&
          claims->exp + kPolicy.skew > kNow && claims->nbf - kPolicy.skew <= kNow &&
          claims->iat - kPolicy.skew <= kNow && claims->all.is_object() &&
          std::find(claims->aud.begin(), claims->aud.end(), "prodsprint") != claims->aud.end();
      if (!kept) __builtin_trap();
    }
  }
  return 0;
}
