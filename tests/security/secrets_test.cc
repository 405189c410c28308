// The secret scanner on planted secrets built at test time (so this file
// holds no token a scanner would flag), and on the look-alikes it must
// leave alone: documented examples, placeholders, variable references.
#include "security/secrets.h"

#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <random>

#include "core/json.h"
#include "testing/testing.h"

namespace ps::security {
namespace {

std::string Random(std::mt19937_64& rng, const std::string& alphabet, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
  return s;
}
const std::string kAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

std::unique_ptr<SecretScanner> Scanner() {
  auto s = SecretScanner::Create(BuiltinSecretRules());
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.problem().Message());
  return std::move(*s);
}

std::vector<std::string> Rules(const std::vector<SecretFinding>& fs) {
  std::vector<std::string> ids;
  for (const auto& f : fs) ids.push_back(f.rule_id);
  return ids;
}

TEST(Secrets, FindsPlantedTokensWithWhereAndNeverTheWholeValue) {
  std::mt19937_64 rng(42);
  const std::string body = Random(rng, kAlnum, 30);
  const std::string gh = "gh" + std::string("p_") + body + TokenChecksum(body);
  const std::string aws =
      "AK" + std::string("IA") + Random(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
  const std::string stripe = "sk_" + std::string("live_") + Random(rng, kAlnum, 24);
  const std::string pg_password = Random(rng, kAlnum, 18);
  const std::string generic = Random(rng, kAlnum, 32);
  const std::string file = "const token = '" + gh + "';\n" + "AWS_ACCESS_KEY_ID=" + aws + "\n" +
                           "stripe: " + stripe + "\n" +
                           "DATABASE_URL=postgres://app:" + pg_password + "@db:5432/app\n" +
                           "api_key = \"" + generic + "\"\n";
  auto s = Scanner();
  auto fs = s->Scan("config/app.js", file);
  EXPECT_EQ(Rules(fs),
            (std::vector<std::string>{"github-token", "aws-access-key-id", "stripe-secret-key",
                                      "connection-string-password", "generic-secret"}));
  ASSERT_EQ(fs.size(), 5u);
  EXPECT_EQ(fs[0].line, 1);
  EXPECT_EQ(fs[0].column, 16);
  EXPECT_EQ(fs[0].confidence, "verified");  // its checksum holds
  EXPECT_EQ(fs[3].line, 4);
  for (const auto& f : fs) {
    const std::string all = f.ToJson().dump();
    for (const auto& secret : {gh, aws, stripe, pg_password, generic}) {
      EXPECT_EQ(all.find(secret), std::string::npos) << f.rule_id << " prints a secret whole";
    }
    EXPECT_EQ(f.fingerprint.size(), 64u);
  }
}

TEST(Secrets, LeavesExamplesPlaceholdersAndReferencesAlone) {
  std::mt19937_64 rng(7);
  const std::string body = Random(rng, kAlnum, 30);
  const std::string bad_checksum = "gh" + std::string("p_") + body + "AAAAAA";
  const std::string file =
      "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"  // AWS's documented example
      "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
      "DATABASE_URL=postgres://app:${DB_PASSWORD}@db/app\n"
      "REDIS_URL=redis://default:password@localhost:6379\n"
      "api_key = \"your-api-key-goes-here\"\n"
      "password: {{ .Values.password }}\n"
      "SECRET_TOKEN=xxxxxxxxxxxxxxxxxxxxxxxx\n"
      "token = " +
      bad_checksum + "\n" +  // right shape, wrong checksum
      "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n";
  auto s = Scanner();
  auto fs = s->Scan(".env.example", file);
  EXPECT_TRUE(fs.empty()) << fs.front().rule_id << " at line " << fs.front().line;
}

// The generic rule (a secret-named key given a long value) reports
// literals with the mix of a key or a password, as warnings ("possible"),
// and leaves code alone: calls, member access, identifiers, types, paths,
// and keys that name something about a secret (its count, its URL...).
TEST(Secrets, GenericMatchesAreLiteralsNotCode) {
  std::mt19937_64 rng(11);
  const std::string punct = kAlnum + "!@#%^&*";
  const std::string db_password = Random(rng, punct, 20) + "!a9";
  const std::string secret_key = Random(rng, punct, 40);
  const std::string admin = Random(rng, kAlnum, 18) + "#1";
  const std::string api = Random(rng, kAlnum, 32);
  auto s = Scanner();
  const std::vector<std::pair<std::string, std::string>> planted = {
      {"app/settings.py", "db_password = \"" + db_password + "\"\n"},
      {"app/settings.py", "SECRET_KEY = '" + secret_key + "'\n"},
      {"src/seed.ts", "const adminPassword = \"" + admin + "\";\n"},
      {"config/app.yaml", "api_key: " + api + "\n"},
      {"deploy/.env.production", "API_SECRET=" + api + "\n"},
      {"src/Config.java", "private static final String API_KEY = \"" + api + "\";\n"},
  };
  for (const auto& [path, text] : planted) {
    auto fs = s->Scan(path, text);
    ASSERT_EQ(fs.size(), 1u) << path << ": " << text;
    EXPECT_EQ(fs[0].rule_id, "generic-secret");
    EXPECT_EQ(fs[0].confidence, "possible");
    EXPECT_EQ(fs[0].severity, "medium");  // a warning in SARIF, not an error
  }
  const std::string hex = "5d41402abc4b2a76b9719d911017c592";
  const std::vector<std::pair<std::string, std::string>> code = {
      {"app/api.py", "handler_token_count = body.get('x', 0)\n"},
      {"app/api.py", "password = random_lower_string()\n"},
      {"app/api.py", "token = jwt_service.encode_token(user)\n"},
      {"src/auth.ts", "const token = jwtService.toToken(user);\n"},
      {"src/auth.ts", "  private readonly tokenService: AuthenticationTokenService,\n"},
      {"src/auth.ts", "export type ApiKey = ApiKeyConfigurationOptions;\n"},
      {"src/auth.ts", "const secret = process.env.SECRET_KEY_FROM_ENVIRONMENT;\n"},
      {"src/auth.ts", "let password = `${prefix}${randomBytesOfTheRightLength}`;\n"},
      {"app/models.py", "token_count = \"" + hex + "\"\n"},
      {"app/models.py", "password_reset_url = \"https://example.org/reset/abc123def456\"\n"},
      {"app/models.py", "SECRET_KEY = settings.DJANGO_SECRET_KEY_VALUE\n"},
      {"app/models.py", "api_key_header = \"X-Api-Key-Authorization-Header\"\n"},
      {"config/app.yaml", "password_file: /run/secrets/database_password_file\n"},
      {"config/app.yaml", "token: PASSWORD_RESET_TOKEN_EXPIRE_HOURS\n"},
      {"config/app.properties", "auth.token.endpoint=oauth2.token.endpoint.address\n"},
      {"main.go", "\ttoken := tokenSource.TokenWithContext(ctx)\n"},
      {"lib/user.rb", "  self.password = Devise.friendly_token_generator\n"},
      // Calls outside source files too (a log, a YAML sample, Markdown).
      {"logs/app.log", "password = random_lower_string()\n"},
      {"notes/setup.yaml", "token: jwtService.toToken(currentUser)\n"},
  };
  for (const auto& [path, text] : code) {
    auto fs = s->Scan(path, text);
    EXPECT_TRUE(fs.empty()) << path << ": " << text;
  }
  // Samples: the same literal in a test or an example is not reported.
  for (const std::string path : {"tests/test_settings.py", "src/auth.test.ts", "docs/setup.md",
                                 "examples/app/settings.py", "spec/fixtures/config.yml"}) {
    EXPECT_TRUE(s->Scan(path, "db_password = \"" + db_password + "\"\n").empty()) << path;
  }
  // A provider's format is no generic match: verified, never "possible".
  const std::string body = Random(rng, kAlnum, 30);
  auto fs = s->Scan(
      "src/ci.ts", "const token = \"gh" + std::string("p_") + body + TokenChecksum(body) + "\";\n");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].confidence, "verified");
}

TEST(Secrets, GenericLiteralClassifierByItself) {
  const std::string quoted = "password = \"k3Y!p9Qz#rT2vB8wX5mN\"";
  const auto at = quoted.find('k');
  EXPECT_TRUE(GenericValueIsLiteral("a.py", quoted, 0, at, quoted.size() - 1));
  // The quote must close right after the value (not a phrase that goes on).
  const std::string phrase = "password = \"k3Y!p9Qz#rT2vB8wX5mN and more\"";
  EXPECT_FALSE(GenericValueIsLiteral("a.py", phrase, 0, at, phrase.find(' ', at)));
  const std::string bare = "password = k3Y!p9Qz#rT2vB8wX5mN";
  EXPECT_FALSE(GenericValueIsLiteral("a.py", bare, 0, bare.find('k'), bare.size()));
  EXPECT_TRUE(GenericValueIsLiteral("a.env", bare, 0, bare.find('k'), bare.size()));
  EXPECT_TRUE(IsSamplePath("pkg/tests/conf.py"));
  EXPECT_TRUE(IsSamplePath("web/src/login.spec.ts"));
  EXPECT_FALSE(IsSamplePath("src/latest/conf.py"));
  EXPECT_FALSE(GenericValueIsLiteral("a.py", "", 0, 0, 0));
}

TEST(Secrets, InlineIgnoresAndPrivateKeyBlocks) {
  std::mt19937_64 rng(9);
  std::string pem = "-----BEGIN " + std::string("EC PRIVATE KEY-----\n");
  for (int i = 0; i < 3; ++i) pem += Random(rng, kAlnum + "+/", 64) + "\n";
  pem += "-----END EC PRIVATE KEY-----\n";
  const std::string key = "sk_" + std::string("live_") + Random(rng, kAlnum, 24);
  const std::string file = pem + "KEY=" + key + "  # prodsprint:ignore\n";
  auto s = Scanner();
  auto fs = s->Scan("deploy/key.pem", file);
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].rule_id, "private-key");
  EXPECT_EQ(fs[0].severity, "critical");
  EXPECT_EQ(fs[0].redacted.rfind("-----BEGIN EC PRIVATE KEY-----", 0), 0u);
  EXPECT_EQ(fs[0].redacted.find("\n"), std::string::npos);
  EXPECT_EQ(fs[0].confidence, "likely");  // a made-up body: not a key OpenSSL reads
}

// Files scanned together (one vectorscan call for a batch) find what each
// file scanned alone finds: no more (a token cut by the end of one file and
// the start of the next is no token), no less (a file full of matches does
// not use up the others' share).
TEST(Secrets, ABatchFindsWhatEachFileFindsAlone) {
  std::mt19937_64 rng(11);
  const std::string body = Random(rng, kAlnum, 30);
  const std::string gh = "gh" + std::string("p_") + body + TokenChecksum(body);
  const std::string aws_id = "AK" + std::string("IA");
  std::vector<std::string> texts = {
      "const token = '" + gh + "';\n",
      "nothing here\n",
      "key = " + gh.substr(0, 20),  // cut: the next file holds the rest
      gh.substr(20) + "\n",
      "",
      "api_key = \"" + Random(rng, kAlnum, 32) + "\"\nAWS_ACCESS_KEY_ID=" + aws_id +
          Random(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),  // no newline at the end
      "DATABASE_URL=postgres://app:" + Random(rng, kAlnum, 18) + "@db:5432/app\n",
  };
  // A file of more matches than a file may report, then one with a token.
  std::string many;
  for (int i = 0; i < 120000; ++i)
    many += aws_id + Random(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16) + "\n";
  texts.push_back(many);
  texts.push_back("stripe: sk_" + std::string("live_") + Random(rng, kAlnum, 24) + "\n");
  std::string text;
  std::vector<std::string> paths;
  std::vector<SecretScanner::BatchFile> files;
  for (std::size_t i = 0; i < texts.size(); ++i) paths.push_back("f" + std::to_string(i));
  for (std::size_t i = 0; i < texts.size(); ++i) {
    files.push_back({&paths[i], text.size(), texts[i].size()});
    text += texts[i] + "\n";
  }
  auto s = Scanner();
  const auto batch = s->ScanBatch(text, files);
  ASSERT_EQ(batch.size(), texts.size());
  std::size_t total = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto alone = s->Scan(paths[i], texts[i]);
    ASSERT_EQ(batch[i].size(), alone.size()) << "file " << i;
    for (std::size_t k = 0; k < alone.size(); ++k) {
      EXPECT_EQ(batch[i][k].rule_id, alone[k].rule_id);
      EXPECT_EQ(batch[i][k].fingerprint, alone[k].fingerprint);
      EXPECT_EQ(batch[i][k].line, alone[k].line);
      EXPECT_EQ(batch[i][k].column, alone[k].column);
      EXPECT_EQ(batch[i][k].file, paths[i]);
    }
    total += alone.size();
  }
  EXPECT_EQ(Rules(batch[0]), std::vector<std::string>{"github-token"});
  EXPECT_TRUE(batch[2].empty());
  EXPECT_TRUE(batch[3].empty());
  EXPECT_EQ(Rules(batch[5]), (std::vector<std::string>{"generic-secret", "aws-access-key-id"}));
  EXPECT_EQ(Rules(batch[8]), std::vector<std::string>{"stripe-secret-key"});
  EXPECT_GT(batch[7].size(), 90000u);  // its cap, not the batch's
  EXPECT_GT(total, batch[7].size());
}

// Keys generated here (never stored in the repository): a block that parses
// is verified, in PEM (PKCS#8, encrypted PKCS#8) and OpenSSH's format.
TEST(Secrets, PrivateKeysThatParseAreVerified) {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  ASSERT_TRUE(ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1);
  EVP_PKEY_CTX_free(ctx);
  auto pem_of = [&](bool encrypted) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (encrypted) {
      PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_128_cbc(), nullptr, 0, nullptr,
                                    const_cast<char*>("pass-phrase"));
    } else {
      PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    }
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return out;
  };
  const std::string plain = pem_of(false), encrypted = pem_of(true);
  EVP_PKEY_free(key);
  auto s = Scanner();
  for (const auto& pem : {plain, encrypted}) {
    auto fs = s->Scan("id.pem", "# key\n" + pem);
    ASSERT_EQ(fs.size(), 1u) << pem.substr(0, 40);
    EXPECT_EQ(fs[0].confidence, "verified") << pem.substr(0, 40);
    EXPECT_EQ(fs[0].line, 2);
  }
  // OpenSSH's format: the body decodes to "openssh-key-v1\0...".
  std::string body = std::string("openssh-key-v1") + '\0' + std::string(120, 'k');
  std::string b64(4 * ((body.size() + 2) / 3) + 1, '\0');
  b64.resize(static_cast<std::size_t>(EVP_EncodeBlock(
      reinterpret_cast<unsigned char*>(b64.data()),
      reinterpret_cast<const unsigned char*>(body.data()), static_cast<int>(body.size()))));
  const std::string ossh = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + b64.substr(0, 70) + "\n" +
                           b64.substr(70) + "\n-----END OPENSSH PRIVATE KEY-----\n";
  auto fs = s->Scan("id_ed25519", ossh);
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].confidence, "verified");
  // A truncated key still is a finding, only less certain.
  fs = s->Scan("id.pem", encrypted.substr(0, encrypted.size() - 60) +
                             "AAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].confidence, "likely");
}

TEST(Secrets, GitleaksConfigRulesAndAllowlists) {
  const std::string toml = R"TOML(
title = "team rules"
[extend]
useDefault = true

[allowlist]
description = "global"
paths = ['''(^|/)fixtures/''']
stopwords = ["notreal"]

[[rules]]
id = "acme-token"
description = "ACME API token"
regex = '''(?i)acme[_-]?token\s*[:=]\s*["']?(?P<secret>acme_[a-z0-9]{24})'''
secretGroup = 1
entropy = 3.0
keywords = ["acme"]
  [rules.allowlist]
  regexes = ['''acme_0{24}''']

[[rules]]
id = "only-env"
regex = '''internal_[A-Z0-9]{20}'''
path = '''\.env$'''

[[rules]]
id = "lookahead"
regex = '''x(?=y)'''

[[rules]]
id = "path-only"
path = '''\.p12$'''
)TOML";
  auto imported = ImportGitleaksConfig(toml);
  ASSERT_TRUE(imported.ok()) << imported.problem().Message();
  ASSERT_EQ(imported->rules.size(), 2u);
  EXPECT_EQ(imported->warnings.size(), 2u);  // the lookahead, the path-only rule
  EXPECT_EQ(imported->allowlists.size(), 2u);
  auto rules = BuiltinSecretRules();
  for (auto& r : imported->rules) rules.push_back(r);
  auto s = SecretScanner::Create(rules, imported->allowlists);
  ASSERT_TRUE(s.ok()) << s.problem().Message();
  std::mt19937_64 rng(11);
  const std::string tok = "acme_" + Random(rng, "abcdefghijklmnopqrstuvwxyz0123456789", 24);
  auto fs = (*s)->Scan("src/client.py", "x = 1\nACME_TOKEN = \"" + tok + "\"\n");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].rule_id, "acme-token");
  EXPECT_EQ(fs[0].line, 2);
  EXPECT_EQ(fs[0].column, 15);  // the group, not the whole match
  EXPECT_EQ(fs[0].redacted.find(tok), std::string::npos);
  // Allowed: a fixtures path, a stopword, the rule's own regex.
  EXPECT_TRUE((*s)->Scan("tests/fixtures/a.py", "acme_token: " + tok + "\n").empty());
  EXPECT_TRUE(
      (*s)->Scan("a.py", "acme_token = acme_notreal" + std::string(17, 'q') + "\n").empty());
  EXPECT_TRUE((*s)->Scan("a.py", "acme_token = acme_" + std::string(24, '0') + "\n").empty());
  // The path-limited rule reports only in .env files.
  const std::string internal =
      "internal_" + Random(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 20);
  EXPECT_EQ((*s)->Scan("prod.env", "KEY=" + internal + "\n").size(), 1u);
  EXPECT_TRUE((*s)->Scan("main.go", "var k = \"" + internal + "\"\n").empty());
  // Malformed TOML: a clear error.
  EXPECT_FALSE(ImportGitleaksConfig("[[rules]\nid=").ok());
}

TEST(Secrets, HelpersAreSound) {
  EXPECT_NEAR(ShannonEntropy("aaaa"), 0.0, 1e-9);
  EXPECT_NEAR(ShannonEntropy("abcd"), 2.0, 1e-9);
  EXPECT_TRUE(LooksLikePlaceholder("${GITHUB_TOKEN}"));
  EXPECT_TRUE(LooksLikePlaceholder("<your-token>"));
  EXPECT_FALSE(LooksLikePlaceholder("q8Zr2Lm9Xk4Vt7Np3Hs6Wd1Yb5Gc0Fj"));
  EXPECT_EQ(Redact("ghp_abcdefghijklmnopqrstuvwxyz0123456789"), "ghp_…6789");
  EXPECT_EQ(Redact("short"), "s…");
}

TEST(Secrets, HostileBytesAreScannedWithoutHarm) {
  auto s = Scanner();
  std::string junk(1 << 20, '\0');
  std::mt19937_64 rng(1);
  for (auto& c : junk) c = static_cast<char>(rng());
  (void)s->Scan("blob.bin", junk);
  std::string lines(200'000, '\n');
  EXPECT_TRUE(s->Scan("empty-lines", lines).empty());
  EXPECT_TRUE(s->Scan("nothing", "").empty());
}

}  // namespace
}  // namespace ps::security

namespace ps::security {
namespace {

// `prodsprint check --gate security` end to end: exit 1 under the default
// policy, SARIF 2.1.0 that names rule, file, line and column, and no secret
// whole anywhere in its output.
TEST(CheckCommand, FailsTheGateWritesSarifAndNeverPrintsTheSecret) {
  testing::TempDir dir;
  std::mt19937_64 rng(5);
  const std::string body = Random(rng, kAlnum, 30);
  const std::string token = "gh" + std::string("o_") + body + TokenChecksum(body);
  testing::WriteText(dir / "repo" / "src" / "client.py", "\n\nGITHUB = \"" + token + "\"\n");
  testing::WriteText(dir / "repo" / "README.md", "Set GITHUB_TOKEN=${GITHUB_TOKEN} first.\n");
  const auto sarif = (dir / "out.sarif").string();
  auto r =
      testing::RunCommand({PS_BINARY, "check", "--gate", "security", (dir / "repo").string(),
                           "--sarif", sarif, "--json"},
                          dir.path(), {"PRODSPRINT_ADVISORY_DB=" + (dir / "none.db").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out.find(token), std::string::npos);
  EXPECT_EQ(r.err.find(token), std::string::npos);
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["passed"], false);
  ASSERT_EQ(j["secrets"].size(), 1u);
  const std::string text = testing::ReadText(sarif);
  EXPECT_EQ(text.find(token), std::string::npos);
  Json s = Json::parse(text);
  EXPECT_EQ(s["version"], "2.1.0");
  const Json& run = s["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "ProdSprint");
  ASSERT_EQ(run["results"].size(), 1u);
  const Json& res = run["results"][0];
  EXPECT_EQ(res["ruleId"], "github-token");
  EXPECT_EQ(run["tool"]["driver"]["rules"][res["ruleIndex"].get<int>()]["id"], "github-token");
  EXPECT_EQ(res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "src/client.py");
  EXPECT_EQ(res["locations"][0]["physicalLocation"]["region"]["startLine"], 3);
  EXPECT_EQ(res["level"], "error");
  // A policy of warn reports and passes.
  testing::WriteText(dir / "repo" / "prodsprint.yaml", "policy:\n  security:\n    secrets: warn\n");
  r = testing::RunCommand({PS_BINARY, "check", "--gate", "security", (dir / "repo").string()},
                          dir.path(), {"NO_COLOR=1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("reported only"), std::string::npos);
  // Not a folder: a usage error.
  r = testing::RunCommand({PS_BINARY, "check", "--gate", "security", (dir / "nope").string()},
                          dir.path());
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace ps::security
