// api/jwt: tokens made and signed here with OpenSSL, the way an OpenID
// provider makes them, checked by Verify and JwksCache; plus the forgeries a
// bearer-token verifier must refuse (alg none, HS256 keyed with the public
// key, an algorithm that does not fit the key, tampering).
#include "api/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "testing/testing.h"

namespace ps::api::jwt {
namespace {

constexpr Millis kNow = 1'700'000'000'000;
constexpr std::int64_t kNowSeconds = kNow / 1000;
constexpr const char* kIssuer = "https://idp.example";
constexpr const char* kAudience = "prodsprint";

using Pkey = std::shared_ptr<EVP_PKEY>;

Pkey Own(EVP_PKEY* k) { return Pkey(k, EVP_PKEY_free); }

std::string B64Url(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto v = (static_cast<unsigned char>(bytes[i]) << 16) |
                   (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                   static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (bytes.size() - i == 1) {
    const auto v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    const auto v = (static_cast<unsigned char>(bytes[i]) << 16) |
                   (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string BnBytes(const EVP_PKEY* key, const char* param, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, param, &bn), 1);
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(bn);
  std::string out(static_cast<std::size_t>(size), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size);
  BN_free(bn);
  return out;
}

Json RsaJwk(const Pkey& key, const std::string& kid) {
  return {{"kty", "RSA"},
          {"kid", kid},
          {"use", "sig"},
          {"n", B64Url(BnBytes(key.get(), OSSL_PKEY_PARAM_RSA_N))},
          {"e", B64Url(BnBytes(key.get(), OSSL_PKEY_PARAM_RSA_E))}};
}

Json EcJwk(const Pkey& key, const std::string& kid) {
  return {{"kty", "EC"},
          {"kid", kid},
          {"crv", "P-256"},
          {"x", B64Url(BnBytes(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
          {"y", B64Url(BnBytes(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
}

std::string Jwks(const std::vector<Json>& keys) { return Json{{"keys", keys}}.dump(); }

std::string DigestSign(const Pkey& key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EXPECT_EQ(
      EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key.get(), nullptr), 1);
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()), 1);
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                           data.size()),
            1);
  sig.resize(len);
  return sig;
}

// JWS ES256 signatures are r||s, 32 bytes each, left-padded; OpenSSL makes DER.
std::string DerToRaw(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  EXPECT_NE(sig, nullptr);
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

std::string SigningInput(const Json& header, const Json& payload) {
  return B64Url(header.dump()) + "." + B64Url(payload.dump());
}

std::string SignRs256(const Pkey& key, const Json& header, const Json& payload) {
  const std::string input = SigningInput(header, payload);
  return input + "." + B64Url(DigestSign(key, input));
}

std::string SignEs256(const Pkey& key, const Json& header, const Json& payload) {
  const std::string input = SigningInput(header, payload);
  return input + "." + B64Url(DerToRaw(DigestSign(key, input)));
}

std::string Hs256(const std::string& secret, const Json& header, const Json& payload) {
  const std::string input = SigningInput(header, payload);
  unsigned char mac[64];
  std::size_t len = 0;
  EXPECT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                      reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                      sizeof mac, &len),
            nullptr);
  return input + "." + B64Url(std::string(reinterpret_cast<char*>(mac), len));
}

Json Payload() {
  return {{"iss", kIssuer},
          {"aud", kAudience},
          {"sub", "user-1"},
          {"iat", kNowSeconds},
          {"exp", kNowSeconds + 600}};
}

Json Header(const std::string& alg, const std::string& kid) {
  return {{"alg", alg}, {"typ", "JWT"}, {"kid", kid}};
}

Policy DefaultPolicy() {
  Policy p;
  p.issuer = kIssuer;
  p.audiences = {"other-app", kAudience};
  return p;
}

// The detail of a failure, or a message that says the token was accepted.
std::string Failure(const Result<Claims>& r) {
  if (r.ok()) return "(accepted)";
  EXPECT_TRUE(r.problem().Is("invalid-token")) << r.problem().Message();
  EXPECT_EQ(r.problem().status, 401);
  return r.problem().detail;
}

#define EXPECT_REJECTED(result, words)                                          \
  do {                                                                          \
    const std::string _detail = Failure(result);                                \
    EXPECT_NE(_detail.find(words), std::string::npos) << "detail: " << _detail; \
  } while (0)

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = Own(EVP_RSA_gen(2048));
    rsa2_ = Own(EVP_RSA_gen(2048));
    ec_ = Own(EVP_EC_gen("P-256"));
    ASSERT_TRUE(rsa_ && rsa2_ && ec_);
  }
  static void TearDownTestSuite() {
    rsa_.reset();
    rsa2_.reset();
    ec_.reset();
  }

  // rsa1 (RSA) and ec1 (EC P-256).
  static KeySet Keys() {
    auto keys = KeySet::Parse(Jwks({RsaJwk(rsa_, "rsa1"), EcJwk(ec_, "ec1")}));
    EXPECT_TRUE(keys.ok());
    EXPECT_EQ(keys->size(), 2U);
    return std::move(keys).value();
  }

  static Result<Claims> Check(const std::string& token, Millis now = kNow) {
    return Verify(token, Keys(), DefaultPolicy(), now);
  }

  static Pkey rsa_, rsa2_, ec_;
};

Pkey JwtTest::rsa_, JwtTest::rsa2_, JwtTest::ec_;

TEST_F(JwtTest, AcceptsValidRs256) {
  Json payload = Payload();
  payload["email"] = "a@example.com";
  auto r = Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload));
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->sub, "user-1");
  EXPECT_EQ(r->iss, kIssuer);
  EXPECT_EQ(r->kid, "rsa1");
  EXPECT_EQ(r->alg, "RS256");
  EXPECT_EQ(r->aud, std::vector<std::string>{kAudience});
  EXPECT_EQ(r->exp, (kNowSeconds + 600) * 1000);
  EXPECT_EQ(r->iat, kNow);
  EXPECT_EQ(r->nbf, 0);
  EXPECT_EQ(r->all["email"], "a@example.com");
}

TEST_F(JwtTest, AcceptsValidEs256) {
  // Many signatures, so that some r or s has leading zero bytes (kept as padding).
  for (int i = 0; i < 40; ++i) {
    Json payload = Payload();
    payload["n"] = i;
    auto r = Check(SignEs256(ec_, Header("ES256", "ec1"), payload));
    ASSERT_TRUE(r.ok()) << r.problem().Message();
    EXPECT_EQ(r->alg, "ES256");
    EXPECT_EQ(r->kid, "ec1");
  }
}

TEST_F(JwtTest, AcceptsTheOnlyKeyWithoutKid) {
  auto keys = KeySet::Parse(Jwks({RsaJwk(rsa_, "rsa1")}));
  ASSERT_TRUE(keys.ok());
  auto r = Verify(SignRs256(rsa_, {{"alg", "RS256"}}, Payload()), *keys, DefaultPolicy(), kNow);
  EXPECT_TRUE(r.ok()) << r.problem().Message();
}

TEST_F(JwtTest, RejectsExpired) {
  const auto token = SignRs256(rsa_, Header("RS256", "rsa1"), Payload());
  const Millis exp = (kNowSeconds + 600) * 1000;
  EXPECT_REJECTED(Check(token, exp + 60'000), "expired");
  EXPECT_REJECTED(Check(token, exp + 3'600'000), "expired");
}

TEST_F(JwtTest, AcceptsExpWithinSkew) {
  const auto token = SignRs256(rsa_, Header("RS256", "rsa1"), Payload());
  const Millis exp = (kNowSeconds + 600) * 1000;
  EXPECT_TRUE(Check(token, exp + 30'000).ok());
  EXPECT_TRUE(Check(token, exp + 59'999).ok());
  Policy strict = DefaultPolicy();
  strict.skew = 0;
  EXPECT_REJECTED(Verify(token, Keys(), strict, exp), "expired");
  EXPECT_TRUE(Verify(token, Keys(), strict, exp - 1).ok());
}

TEST_F(JwtTest, RejectsFutureNbf) {
  Json payload = Payload();
  payload["nbf"] = kNowSeconds + 120;
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "not valid before");
  payload["nbf"] = kNowSeconds + 30;  // within the skew
  auto r = Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload));
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->nbf, kNow + 30'000);
}

TEST_F(JwtTest, RejectsIatInTheFuture) {
  Json payload = Payload();
  payload["iat"] = kNowSeconds + 300;
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "iat");
  payload["iat"] = kNowSeconds + 59;
  EXPECT_TRUE(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)).ok());
}

TEST_F(JwtTest, RejectsDatesThatAreNotNumbers) {
  for (const Json& bad :
       {Json("1700000600"), Json(true), Json(nullptr), Json::array(), Json(-5), Json(1e300)}) {
    SCOPED_TRACE(bad.dump());
    Json payload = Payload();
    payload["exp"] = bad;
    EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "exp");
  }
  Json payload = Payload();
  payload.erase("exp");
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "exp is missing");
  payload = Payload();
  payload["nbf"] = "soon";
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "nbf");
  payload = Payload();
  payload["exp"] = static_cast<double>(kNowSeconds) + 600.5;  // fractional seconds are dates
  auto r = Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload));
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->exp, kNow + 600'500);
}

TEST_F(JwtTest, RejectsWrongIssuer) {
  Json payload = Payload();
  payload["iss"] = "https://evil.example";
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "iss");
  payload.erase("iss");
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "iss is missing");
  Policy no_issuer = DefaultPolicy();
  no_issuer.issuer.clear();
  EXPECT_REJECTED(
      Verify(SignRs256(rsa_, Header("RS256", "rsa1"), Payload()), Keys(), no_issuer, kNow),
      "no issuer");
}

TEST_F(JwtTest, RejectsWrongAudience) {
  Json payload = Payload();
  payload["aud"] = "someone-else";
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "aud");
  payload["aud"] = Json::array();
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "aud");
  payload["aud"] = {kAudience, 7};
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "aud");
  payload.erase("aud");
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "aud is missing");
}

TEST_F(JwtTest, AcceptsAudienceArray) {
  Json payload = Payload();
  payload["aud"] = {"someone-else", kAudience};
  auto r = Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload));
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_EQ(r->aud, (std::vector<std::string>{"someone-else", kAudience}));
}

TEST_F(JwtTest, RejectsMissingSub) {
  Json payload = Payload();
  payload.erase("sub");
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "sub");
  payload["sub"] = "";
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "sub");
  payload["sub"] = 42;
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)), "sub");
}

TEST_F(JwtTest, RejectsAlgNone) {
  const std::string unsigned_part = SigningInput(Header("none", "rsa1"), Payload());
  EXPECT_REJECTED(Check(unsigned_part + "."), "alg 'none' is not allowed");
  EXPECT_REJECTED(Check(unsigned_part), "three parts");
  const std::string signed_rs = SignRs256(rsa_, Header("RS256", "rsa1"), Payload());
  const std::string signature = signed_rs.substr(signed_rs.rfind('.'));
  EXPECT_REJECTED(Check(unsigned_part + signature), "alg 'none' is not allowed");
  for (const char* alg : {"None", "NONE", "nOnE", ""}) {
    EXPECT_REJECTED(Check(SigningInput(Header(alg, "rsa1"), Payload()) + "."), "not allowed");
  }
  EXPECT_REJECTED(Check(SigningInput({{"typ", "JWT"}}, Payload()) + "."), "no alg");
}

// The classic confusion: a verifier that lets the token choose HS256 would
// check an HMAC keyed with the RSA public key, which anyone can compute.
TEST_F(JwtTest, RejectsHs256KeyedWithThePublicKey) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), rsa_.get()), 1);
  char* pem_data = nullptr;
  const long pem_len = BIO_get_mem_data(bio.get(), &pem_data);
  const std::string pem(pem_data, static_cast<std::size_t>(pem_len));
  const std::string n = RsaJwk(rsa_, "rsa1")["n"];
  for (const std::string& secret : {pem, n, B64Url(BnBytes(rsa_.get(), OSSL_PKEY_PARAM_RSA_N))}) {
    EXPECT_REJECTED(Check(Hs256(secret, Header("HS256", "rsa1"), Payload())),
                    "alg 'HS256' is not allowed");
  }
  for (const char* alg : {"HS384", "HS512", "PS256", "RS512", "ES384", "EdDSA"}) {
    EXPECT_REJECTED(Check(Hs256(pem, Header(alg, "rsa1"), Payload())), "is not allowed");
  }
}

TEST_F(JwtTest, RejectsAlgThatDoesNotFitTheKey) {
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "ec1"), Payload())),
                  "does not match key 'ec1' (kty EC)");
  EXPECT_REJECTED(Check(SignEs256(ec_, Header("ES256", "rsa1"), Payload())),
                  "does not match key 'rsa1' (kty RSA)");
  // The JWK says which algorithm it is for.
  Json jwk = RsaJwk(rsa_, "rsa1");
  jwk["alg"] = "RS512";
  auto keys = KeySet::Parse(Jwks({jwk}));
  ASSERT_TRUE(keys.ok());
  EXPECT_REJECTED(
      Verify(SignRs256(rsa_, Header("RS256", "rsa1"), Payload()), *keys, DefaultPolicy(), kNow),
      "(alg 'RS512')");
  jwk["alg"] = "RS256";
  keys = KeySet::Parse(Jwks({jwk}));
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(
      Verify(SignRs256(rsa_, Header("RS256", "rsa1"), Payload()), *keys, DefaultPolicy(), kNow)
          .ok());
}

TEST_F(JwtTest, RejectsEs256SignatureOfWrongLength) {
  const std::string input = SigningInput(Header("ES256", "ec1"), Payload());
  const std::string der = DigestSign(ec_, input);
  const std::string raw = DerToRaw(der);
  EXPECT_REJECTED(Check(input + "." + B64Url(der)), "64 expected");  // DER is not JWS
  EXPECT_REJECTED(Check(input + "." + B64Url(raw.substr(0, 63))), "64 expected");
  EXPECT_REJECTED(Check(input + "." + B64Url(raw + '\0')), "64 expected");
  EXPECT_REJECTED(Check(input + "."), "64 expected");
  EXPECT_REJECTED(Check(input + "." + B64Url(std::string(64, '\0'))), "does not verify");
  EXPECT_TRUE(Check(input + "." + B64Url(raw)).ok());
}

TEST_F(JwtTest, RejectsTamperedPayload) {
  const std::string token = SignRs256(rsa_, Header("RS256", "rsa1"), Payload());
  Json payload = Payload();
  payload["sub"] = "admin";
  const auto dot1 = token.find('.');
  const auto dot2 = token.rfind('.');
  const std::string forged =
      token.substr(0, dot1) + "." + B64Url(payload.dump()) + token.substr(dot2);
  EXPECT_REJECTED(Check(forged), "signature does not verify");

  const std::string es = SignEs256(ec_, Header("ES256", "ec1"), Payload());
  const std::string es_forged =
      es.substr(0, es.find('.')) + "." + B64Url(payload.dump()) + es.substr(es.rfind('.'));
  EXPECT_REJECTED(Check(es_forged), "signature does not verify");
}

TEST_F(JwtTest, RejectsTamperedHeader) {
  const std::string token = SignRs256(rsa_, Header("RS256", "rsa1"), Payload());
  Json header = Header("RS256", "rsa1");
  header["typ"] = "at+jwt";
  EXPECT_REJECTED(Check(B64Url(header.dump()) + token.substr(token.find('.'))),
                  "signature does not verify");
  // A signature made by another RSA key under a known kid.
  EXPECT_REJECTED(Check(SignRs256(rsa2_, Header("RS256", "rsa1"), Payload())),
                  "signature does not verify");
  // The same signature with its last bit flipped.
  std::string flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'Q' : 'A';
  EXPECT_REJECTED(Check(flipped), "");
}

TEST_F(JwtTest, RejectsCritAndNonObjectParts) {
  Json header = Header("RS256", "rsa1");
  header["crit"] = {"exp"};
  header["exp"] = 1;
  EXPECT_REJECTED(Check(SignRs256(rsa_, header, Payload())), "crit");
  EXPECT_REJECTED(Check(SignRs256(rsa_, Json::array({"RS256"}), Payload())), "header is not");
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "rsa1"), Json("sub"))),
                  "payload is not a JSON object");
  Json numeric_kid = Header("RS256", "rsa1");
  numeric_kid["kid"] = 1;
  EXPECT_REJECTED(Check(SignRs256(rsa_, numeric_kid, Payload())), "kid is not a string");
}

TEST_F(JwtTest, KidRequiredWithSeveralKeys) {
  EXPECT_REJECTED(Check(SignRs256(rsa_, {{"alg", "RS256"}}, Payload())), "no kid");
  EXPECT_REJECTED(Check(SignRs256(rsa_, Header("RS256", "nope"), Payload())), "unknown kid 'nope'");
  EXPECT_REJECTED(
      Verify(SignRs256(rsa_, Header("RS256", "rsa1"), Payload()), KeySet(), DefaultPolicy(), kNow),
      "no usable signing keys");
}

TEST_F(JwtTest, RejectsPaddingAndInvalidCharacters) {
  // A payload whose encoding needs padding (length not a multiple of 3).
  Json payload = Payload();
  payload["x"] = "";
  while ((payload.dump().size() % 3) == 0) payload["x"] = payload["x"].get<std::string>() + "y";
  const std::string token = SignRs256(rsa_, Header("RS256", "rsa1"), payload);
  ASSERT_TRUE(Check(token).ok());
  const auto dot1 = token.find('.');
  const auto dot2 = token.rfind('.');
  const std::string h = token.substr(0, dot1);
  const std::string p = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string s = token.substr(dot2 + 1);
  const std::string pad(p.size() % 4 == 2 ? 2 : 1, '=');
  EXPECT_REJECTED(Check(h + "." + p + pad + "." + s), "payload is not base64url");
  EXPECT_REJECTED(Check(h + "." + p + "." + s + "=="), "signature is not base64url");
  // Standard base64's '+' and '/' are not base64url; neither is whitespace.
  std::string plus = s;
  plus[3] = '+';
  EXPECT_REJECTED(Check(h + "." + p + "." + plus), "signature is not base64url");
  EXPECT_REJECTED(Check(h + " ." + p + "." + s), "header is not base64url");
  EXPECT_REJECTED(Check(h + "." + p + "." + s + "\n"), "signature is not base64url");
  // A second encoding of the same bytes (non-zero unused bits) is refused.
  std::string reworded = p;
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  reworded.back() = alphabet[alphabet.find(reworded.back()) + 1];
  EXPECT_REJECTED(Check(h + "." + reworded + "." + s), "payload is not base64url");
  EXPECT_REJECTED(Check(h + "." + p + "." + s + "." + s), "three parts");
}

TEST_F(JwtTest, RejectsTokenOver16KiB) {
  Json payload = Payload();
  payload["groups"] = std::string(16 * 1024, 'g');
  const std::string token = SignRs256(rsa_, Header("RS256", "rsa1"), payload);
  ASSERT_GT(token.size(), kMaxTokenBytes);
  EXPECT_REJECTED(Check(token), "larger than 16384 bytes");
  payload["groups"] = std::string(11 * 1024, 'g');
  EXPECT_TRUE(Check(SignRs256(rsa_, Header("RS256", "rsa1"), payload)).ok());
}

TEST_F(JwtTest, DetailsNeverRepeatTheToken) {
  const std::string long_kid(500, 'k');
  auto r = Check(SignRs256(rsa_, Header("RS256", long_kid), Payload()));
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.problem().detail.size(), 100U);
  EXPECT_EQ(r.problem().detail.find(std::string(41, 'k')), std::string::npos);
}

TEST_F(JwtTest, NeverCrashesOnJunk) {
  const std::string token = SignRs256(rsa_, Header("RS256", "rsa1"), Payload());
  for (std::size_t i = 0; i <= token.size(); ++i) {
    EXPECT_FALSE(Check(token.substr(0, i)).ok() && i < token.size());
  }
  for (const char* junk : {"", ".", "..", "...", "a.b.c", "e30.e30.", "e30.e30.e30", "\xff.\xff.",
                           "W10.W10.", "bnVsbA.bnVsbA."}) {
    EXPECT_FALSE(Check(junk).ok()) << junk;
  }
}

TEST_F(JwtTest, ParseSkipsKeysItCannotUse) {
  Pkey small = Own(EVP_RSA_gen(1024));
  ASSERT_TRUE(small);
  Json bad_b64 = RsaJwk(rsa_, "bad-b64");
  bad_b64["n"] = "not base64!";
  Json padded = RsaJwk(rsa_, "padded");
  padded["e"] = "AQAB====";
  Json off_curve = EcJwk(ec_, "off-curve");
  std::string y = off_curve["y"];
  y[5] = y[5] == 'A' ? 'B' : 'A';
  off_curve["y"] = y;
  Json short_x = EcJwk(ec_, "short-x");
  short_x["x"] = B64Url(std::string(31, '\x01'));
  Json p384 = EcJwk(ec_, "p384");
  p384["crv"] = "P-384";
  Json enc = RsaJwk(rsa_, "enc");
  enc["use"] = "enc";
  Json ops = RsaJwk(rsa_, "ops");
  ops["key_ops"] = {"encrypt"};
  Json exponent_one = RsaJwk(rsa_, "e1");
  exponent_one["e"] = "AQ";
  const Json oct = {{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}};
  const Json okp = {{"kty", "OKP"}, {"kid", "ed"}, {"crv", "Ed25519"}, {"x", "AAAA"}};
  auto keys =
      KeySet::Parse(Jwks({RsaJwk(small, "small"), bad_b64, padded, off_curve, short_x, p384, enc,
                          ops, exponent_one, oct, okp, Json("string"), Json{{"kid", "no-kty"}},
                          RsaJwk(rsa_, "good"), RsaJwk(rsa2_, "good"), EcJwk(ec_, "good-ec")}));
  ASSERT_TRUE(keys.ok()) << keys.problem().Message();
  EXPECT_EQ(keys->size(), 2U);
  EXPECT_EQ(keys->skipped(), 14U);
  EXPECT_TRUE(keys->Has("good"));
  EXPECT_TRUE(keys->Has("good-ec"));
  for (const char* kid : {"small", "bad-b64", "padded", "off-curve", "p384", "enc", "hmac"}) {
    EXPECT_FALSE(keys->Has(kid)) << kid;
  }
  const auto& why = keys->skip_reasons();
  EXPECT_NE(why[0].find("1024 bits"), std::string::npos) << why[0];
  EXPECT_NE(why[3].find("P-256"), std::string::npos) << why[3];
  EXPECT_NE(why[13].find("duplicate kid"), std::string::npos) << why[13];
  // The first key of a duplicated kid is the one kept.
  EXPECT_TRUE(
      Verify(SignRs256(rsa_, Header("RS256", "good"), Payload()), *keys, DefaultPolicy(), kNow)
          .ok());
}

TEST_F(JwtTest, ParseRefusesMalformedDocuments) {
  for (const char* doc : {"", "not json", "[]", "{}", "{\"keys\": {}}", "{\"keys\": \"x\"}",
                          "{\"keys\": [", "null", "{\"keys\": [] } trailing"}) {
    auto keys = KeySet::Parse(doc);
    ASSERT_FALSE(keys.ok()) << doc;
    EXPECT_TRUE(keys.problem().Is("invalid-input"));
  }
  auto empty = KeySet::Parse("{\"keys\": []}");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 0U);
  EXPECT_FALSE(KeySet::Parse(std::string(2 << 20, ' ')).ok());
}

TEST(PeekKid, ReadsTheHeaderOnly) {
  EXPECT_EQ(PeekKid(B64Url(R"({"alg":"RS256","kid":"k1"})") + ".x.y"), "k1");
  EXPECT_EQ(PeekKid(B64Url(R"({"alg":"RS256"})") + ".x.y"), "");
  EXPECT_EQ(PeekKid("%%%.x.y"), "");
  EXPECT_EQ(PeekKid(""), "");
}

// A JWKS endpoint whose document the test changes; counts requests.
struct FakeProvider {
  std::string jwks;
  bool down = false;
  int requests = 0;
  Source AsSource() {
    Source s;
    s.url = "https://idp.example/jwks";
    s.fetch = [this](const std::string& url) -> Result<std::string> {
      ++requests;
      EXPECT_EQ(url, "https://idp.example/jwks");
      if (down) return problems::Timeout("idp down");
      return jwks;
    };
    return s;
  }
};

TEST_F(JwtTest, UnknownKidRefetchesAtMostOncePerInterval) {
  FakeProvider idp{Jwks({RsaJwk(rsa_, "rsa1")})};
  SimClock clock(kNow);
  JwksCache cache(idp.AsSource(), clock, /*min_refetch=*/60'000, /*max_age=*/3'600'000);
  const Policy policy = DefaultPolicy();
  auto ok = cache.Verify(SignRs256(rsa_, Header("RS256", "rsa1"), Payload()), policy);
  ASSERT_TRUE(ok.ok()) << ok.problem().Message();
  EXPECT_EQ(cache.fetches(), 1);
  EXPECT_TRUE(cache.Verify(SignRs256(rsa_, Header("RS256", "rsa1"), Payload()), policy).ok());
  EXPECT_EQ(cache.fetches(), 1);

  clock.Advance(61'000);
  EXPECT_REJECTED(cache.Verify(SignRs256(rsa_, Header("RS256", "random-1"), Payload()), policy),
                  "unknown kid");
  EXPECT_EQ(cache.fetches(), 2);
  // A flood of made-up kids within the interval: no request reaches the provider.
  for (int i = 0; i < 50; ++i) {
    clock.Advance(1'000);
    EXPECT_REJECTED(
        cache.Verify(SignRs256(rsa_, Header("RS256", "random-" + std::to_string(i + 2)), Payload()),
                     policy),
        "unknown kid");
  }
  EXPECT_EQ(cache.fetches(), 2);
  EXPECT_EQ(idp.requests, 2);
  clock.Advance(10'000);  // 60 s since the last load
  EXPECT_REJECTED(cache.Verify(SignRs256(rsa_, Header("RS256", "random-x"), Payload()), policy),
                  "unknown kid");
  EXPECT_EQ(cache.fetches(), 3);
  // Known kids never cause a load.
  clock.Advance(120'000);
  EXPECT_TRUE(cache.Verify(SignRs256(rsa_, Header("RS256", "rsa1"), Payload()), policy).ok());
  EXPECT_EQ(cache.fetches(), 3);
}

// A token signed with `key` under `kid`, valid for ten minutes from `clock`'s now.
std::string TokenAt(SimClock& clock, const Pkey& key, const std::string& kid) {
  Json payload = Payload();
  const std::int64_t now_s = clock.Now() / 1000;
  payload["iat"] = now_s;
  payload["exp"] = now_s + 600;
  return SignRs256(key, Header("RS256", kid), payload);
}

TEST_F(JwtTest, KeyRotation) {
  FakeProvider idp{Jwks({RsaJwk(rsa_, "old")})};
  SimClock clock(kNow);
  JwksCache cache(idp.AsSource(), clock, 60'000, 3'600'000);
  const Policy policy = DefaultPolicy();
  ASSERT_TRUE(cache.Verify(TokenAt(clock, rsa_, "old"), policy).ok());
  EXPECT_EQ(cache.fetches(), 1);

  // The provider replaces its key and signs with the new one.
  idp.jwks = Jwks({RsaJwk(rsa2_, "new")});
  clock.Advance(120'000);
  auto fresh = cache.Verify(TokenAt(clock, rsa2_, "new"), policy);
  ASSERT_TRUE(fresh.ok()) << fresh.problem().Message();
  EXPECT_EQ(cache.fetches(), 2);
  // Tokens signed with the old key just before still pass, from the cache.
  EXPECT_TRUE(cache.Verify(TokenAt(clock, rsa_, "old"), policy).ok());
  clock.Advance(3'600'000 - 120'000 - 1);
  EXPECT_TRUE(cache.Verify(TokenAt(clock, rsa_, "old"), policy).ok());
  EXPECT_EQ(cache.fetches(), 2);
  // An hour after the last load that had it, the old key is gone.
  clock.Advance(1);
  EXPECT_REJECTED(cache.Verify(TokenAt(clock, rsa_, "old"), policy), "unknown kid 'old'");
  EXPECT_EQ(cache.fetches(), 3);  // an unknown kid: the source is asked once more
  EXPECT_TRUE(cache.Verify(TokenAt(clock, rsa2_, "new"), policy).ok());
  EXPECT_EQ(cache.fetches(), 3);
}

TEST_F(JwtTest, KeysAreReloadedAtMaxAge) {
  // The old key is withdrawn without the cache being told: it is used until
  // the keys are max_age old, then the reload finds it gone.
  FakeProvider idp{Jwks({RsaJwk(rsa_, "old"), RsaJwk(rsa2_, "new")})};
  SimClock clock(kNow);
  JwksCache cache(idp.AsSource(), clock, 60'000, 3'600'000);
  const Policy policy = DefaultPolicy();
  ASSERT_TRUE(cache.Verify(TokenAt(clock, rsa_, "old"), policy).ok());
  idp.jwks = Jwks({RsaJwk(rsa2_, "new")});
  clock.Advance(1'800'000);
  EXPECT_TRUE(cache.Verify(TokenAt(clock, rsa_, "old"), policy).ok());
  EXPECT_TRUE(cache.Verify(TokenAt(clock, rsa2_, "new"), policy).ok());
  EXPECT_EQ(cache.fetches(), 1);
  clock.Advance(1'800'000);
  EXPECT_REJECTED(cache.Verify(TokenAt(clock, rsa_, "old"), policy), "unknown kid");
  EXPECT_EQ(cache.fetches(), 2);
  EXPECT_TRUE(cache.Verify(TokenAt(clock, rsa2_, "new"), policy).ok());
  EXPECT_EQ(cache.fetches(), 2);
}

TEST_F(JwtTest, FailedReloadKeepsTheOldKeys) {
  FakeProvider idp{Jwks({RsaJwk(rsa_, "rsa1")})};
  SimClock clock(kNow);
  JwksCache cache(idp.AsSource(), clock, 60'000, 3'600'000);
  const Policy policy = DefaultPolicy();
  auto token_at = [&]() {
    Json payload = Payload();
    payload["exp"] = clock.Now() / 1000 + 600;
    return SignRs256(rsa_, Header("RS256", "rsa1"), payload);
  };
  ASSERT_TRUE(cache.Verify(token_at(), policy).ok());
  idp.down = true;
  clock.Advance(3'600'000);
  EXPECT_TRUE(cache.Verify(token_at(), policy).ok());  // stale, reload failed, old keys used
  EXPECT_EQ(cache.fetches(), 2);
  EXPECT_TRUE(cache.Verify(token_at(), policy).ok());  // and no retry within the interval
  EXPECT_EQ(cache.fetches(), 2);
  // A document without usable keys counts as a failed load too.
  idp.down = false;
  idp.jwks = Jwks({Json{{"kty", "oct"}, {"k", "c2VjcmV0"}}});
  clock.Advance(60'000);
  EXPECT_TRUE(cache.Verify(token_at(), policy).ok());
  EXPECT_EQ(cache.fetches(), 3);
  idp.jwks = "<html>";
  clock.Advance(60'000);
  EXPECT_TRUE(cache.Verify(token_at(), policy).ok());
  EXPECT_EQ(cache.fetches(), 4);
}

TEST_F(JwtTest, NoKeysEverIsUnavailableNotInvalid) {
  FakeProvider idp{Jwks({RsaJwk(rsa_, "rsa1")})};
  idp.down = true;
  SimClock clock(kNow);
  JwksCache cache(idp.AsSource(), clock, 60'000, 3'600'000);
  const std::string token = SignRs256(rsa_, Header("RS256", "rsa1"), Payload());
  auto r = cache.Verify(token, DefaultPolicy());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.problem().Is("jwks-unavailable")) << r.problem().Message();
  EXPECT_EQ(r.problem().status, 503);
  EXPECT_TRUE(r.problem().retryable);
  EXPECT_FALSE(cache.Verify(token, DefaultPolicy()).ok());
  EXPECT_EQ(cache.fetches(), 1);  // a provider that is down is asked once per interval
  idp.down = false;
  clock.Advance(60'000);
  EXPECT_TRUE(cache.Verify(token, DefaultPolicy()).ok());
  EXPECT_EQ(cache.fetches(), 2);

  JwksCache nowhere(Source{}, clock);
  EXPECT_TRUE(nowhere.Verify(token, DefaultPolicy()).problem().Is("jwks-unavailable"));
}

TEST_F(JwtTest, JwksFromAFile) {
  ps::testing::TempDir dir;
  ps::testing::WriteText(dir / "jwks.json", Jwks({RsaJwk(rsa_, "rsa1"), EcJwk(ec_, "ec1")}));
  Source source;
  source.file = (dir / "jwks.json").string();
  SimClock clock(kNow);
  JwksCache cache(source, clock);
  auto r = cache.Verify(SignEs256(ec_, Header("ES256", "ec1"), Payload()), DefaultPolicy());
  ASSERT_TRUE(r.ok()) << r.problem().Message();
  EXPECT_TRUE(
      cache.Verify(SignRs256(rsa_, Header("RS256", "rsa1"), Payload()), DefaultPolicy()).ok());
  EXPECT_EQ(cache.fetches(), 1);

  Source missing;
  missing.file = (dir / "absent.json").string();
  JwksCache broken(missing, clock);
  EXPECT_TRUE(broken.Verify(SignRs256(rsa_, Header("RS256", "rsa1"), Payload()), DefaultPolicy())
                  .problem()
                  .Is("jwks-unavailable"));
}

TEST_F(JwtTest, ConcurrentUnknownKidsLoadOnce) {
  FakeProvider idp{Jwks({RsaJwk(rsa_, "rsa1")})};
  SimClock clock(kNow);
  JwksCache cache(idp.AsSource(), clock, 60'000, 3'600'000);
  const Policy policy = DefaultPolicy();
  ASSERT_TRUE(cache.Verify(SignRs256(rsa_, Header("RS256", "rsa1"), Payload()), policy).ok());
  clock.Advance(60'000);
  std::vector<std::string> tokens;
  for (int i = 0; i < 8; ++i) {
    tokens.push_back(SignRs256(rsa_, Header("RS256", "x" + std::to_string(i)), Payload()));
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (const auto& token : tokens) EXPECT_FALSE(cache.Verify(token, policy).ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(cache.fetches(), 2);
}

}  // namespace
}  // namespace ps::api::jwt
