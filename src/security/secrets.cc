#include "security/secrets.h"

#include <hs.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "core/fs.h"

namespace ps::security {

using Value = SecretRule::Value;

const std::vector<SecretRule>& BuiltinSecretRules() {
  static const std::vector<SecretRule> kRules = [] {
    std::vector<SecretRule> rules = {
        {"aws-access-key-id", "AWS access key id", R"(\b(AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b)",
         "critical", "Deactivate the key in IAM, create a new one, keep it in a secret store."},
        {"aws-secret-access-key", "AWS secret access key",
         R"((?i)aws.{0,20}(secret|private).{0,20}[:=][ \t]{0,6}["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9_/+=.~!@#$%^&*()\x7f-]))",
         "critical", "Rotate the key pair in IAM; read it from the environment or a secret store.",
         Value::kAfterAssignment, 4.0},
        {"github-token", "GitHub token (personal, OAuth, app)", R"(\bgh[pousr]_[A-Za-z0-9]{36}\b)",
         "critical", "Revoke it in GitHub's settings; use a secret of the CI or a GitHub App."},
        {"github-fine-grained-pat", "GitHub fine-grained personal access token",
         R"(\bgithub_pat_[A-Za-z0-9_]{82}\b)", "critical", "Revoke it in GitHub's settings."},
        {"gitlab-pat", "GitLab personal access token", R"(\bglpat-[A-Za-z0-9_-]{20}\b)", "critical",
         "Revoke it in GitLab; use a CI/CD variable."},
        {"npm-token", "npm access token", R"(\bnpm_[A-Za-z0-9]{36}\b)", "critical",
         "Revoke it (npm token revoke); use an automation token from the CI's secrets."},
        {"pypi-token", "PyPI API token", R"(\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})", "critical",
         "Remove it on pypi.org; use trusted publishing."},
        {"docker-hub-pat", "Docker Hub personal access token", R"(\bdckr_pat_[A-Za-z0-9_-]{27}\b)",
         "high", "Delete it in Docker Hub's security settings."},
        {"slack-token", "Slack token", R"(\bxox[baprs]-[0-9]{6,}-[A-Za-z0-9-]{10,})", "high",
         "Revoke it in the Slack app's settings."},
        {"slack-webhook", "Slack incoming webhook",
         R"(https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{20,})",
         "high", "Regenerate the webhook URL; keep it in a secret."},
        {"discord-webhook", "Discord webhook",
         R"(https://(canary\.|ptb\.)?discord(app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,})",
         "high", "Delete the webhook in the channel's integrations."},
        {"stripe-secret-key", "Stripe live secret key", R"(\b(sk|rk)_live_[A-Za-z0-9]{20,}\b)",
         "critical", "Roll the key in Stripe's dashboard."},
        {"sendgrid-api-key", "SendGrid API key", R"(\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b)",
         "high", "Delete the key in SendGrid."},
        {"twilio-api-key", "Twilio API key", R"(\bSK[0-9a-f]{32}\b)", "high",
         "Delete the key in Twilio's console.", Value::kWhole, 3.0},
        {"google-api-key", "Google API key", R"(\bAIza[0-9A-Za-z_-]{35}\b)", "high",
         "Delete or restrict the key in Google Cloud's credentials page."},
        {"openai-api-key", "OpenAI API key",
         R"(\bsk-(proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,})", "critical",
         "Revoke the key in OpenAI's dashboard."},
        {"anthropic-api-key", "Anthropic API key",
         R"(\bsk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,})", "critical",
         "Revoke the key in Anthropic's console."},
        {"huggingface-token", "Hugging Face token", R"(\bhf_[A-Za-z]{34}\b)", "high",
         "Revoke it in Hugging Face's settings."},
        {"vault-token", "HashiCorp Vault token", R"(\bhvs\.[A-Za-z0-9_-]{90,})", "critical",
         "Revoke it (vault token revoke)."},
        {"private-key", "Private key",
         R"(-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----)",
         "critical", "Treat the key as compromised: replace it and remove it from history.",
         Value::kPemBlock},
        {"jwt", "JSON Web Token",
         R"(\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})", "medium",
         "If it is a long-lived credential, revoke it; keep tokens out of the repository."},
        {"connection-string-password", "Connection string with a password",
         R"(\b(postgres(ql)?|mysql|mongodb(\+srv)?|rediss?|amqps?)://[^:@/\s"']+:[^@/\s"']{3,}@)",
         "high", "Move the password to a secret and build the URL from the environment.",
         Value::kUrlPassword, 2.5},
        {"generic-secret", "Secret assigned to a secret-named key",
         R"((?i)(secret|token|passwd|password|api[_-]?key|auth[_-]?key|private[_-]?key|credential)[A-Za-z0-9_.-]{0,20}["']?[ \t]*[:=][ \t]{0,6}["']?[A-Za-z0-9_/+=.~!@#$%^&*()\x7f-]{16,})",
         "medium",
         "Move the value to a secret store or the CI's secrets and read it from the environment.",
         Value::kAfterAssignment, 3.5},
    };
    // The assignment rules: found by the AssignmentFinder, as their patterns say.
    for (auto& r : rules) {
      if (r.id == "aws-secret-access-key") {
        r.assignment = AssignmentRule{{"secret", "private"}, {"aws"}, 40};
      } else if (r.id == "generic-secret") {
        r.assignment = AssignmentRule{
            {"secret", "token", "passwd", "password", "apikey", "api_key", "api-key", "authkey",
             "auth_key", "auth-key", "privatekey", "private_key", "private-key", "credential"},
            {},
            0};
      }
    }
    return rules;
  }();
  return kRules;
}

std::string PatternForVectorscan(std::string re, bool* caseless) {
  *caseless = false;
  for (std::size_t p = re.find("(?P<"); p != std::string::npos; p = re.find("(?P<", p))
    re.erase(p + 2, 1);
  if (re.rfind("(?i)", 0) == 0) {  // vectorscan takes flags, not inline modifiers
    re = re.substr(4);
    *caseless = true;
  }
  return re;
}

bool IsSecretName(std::string_view name) {
  std::string up(name);
  for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::string_view w :
       {"SECRET",      "TOKEN",    "PASSWORD",   "PASSWD",       "PWD",       "PRIVATE",
        "API_KEY",     "APIKEY",   "ACCESS_KEY", "CREDENTIAL",   "AUTH",      "SIGNING",
        "SALT",        "_KEY",     "DSN",        "DATABASE_URL", "REDIS_URL", "MONGO_URL",
        "MONGODB_URI", "AMQP_URL", "WEBHOOK"}) {
    if (up.find(w) != std::string::npos) return true;
  }
  return false;
}

double ShannonEntropy(std::string_view s) {
  if (s.empty()) return 0;
  int counts[256] = {0};
  for (unsigned char c : s) ++counts[c];
  double h = 0;
  for (int c : counts) {
    if (c == 0) continue;
    const double p = static_cast<double>(c) / static_cast<double>(s.size());
    h -= p * std::log2(p);
  }
  return h;
}

bool LooksLikePlaceholder(std::string_view v) {
  std::string lower;
  lower.reserve(v.size());
  for (char c : v) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.find("example") != std::string::npos || lower.find("sample") != std::string::npos ||
      lower.find("placeholder") != std::string::npos ||
      lower.find("changeme") != std::string::npos || lower.find("change_me") != std::string::npos ||
      lower.find("change-me") != std::string::npos || lower.find("your") != std::string::npos ||
      lower.find("dummy") != std::string::npos || lower.find("redacted") != std::string::npos ||
      lower.find("xxxx") != std::string::npos || lower.find("****") != std::string::npos ||
      lower.find("...") != std::string::npos || lower.find("secret") != std::string::npos ||
      lower.find("password") != std::string::npos || lower.find("fake") != std::string::npos ||
      lower.find("test") != std::string::npos) {
    return true;
  }
  // References, not values: ${VAR}, $VAR, {{ var }}, <var>, %(var)s, process.env...
  if (v.find("${") != std::string_view::npos || v.find("{{") != std::string_view::npos ||
      (!v.empty() && (v.front() == '$' || v.front() == '<' || v.front() == '%')) ||
      lower.find("process.env") != std::string::npos ||
      lower.find("os.environ") != std::string::npos || lower.find("getenv") != std::string::npos) {
    return true;
  }
  // One character repeated, or a run like 0123456789 / abcdef.
  std::set<char> distinct(v.begin(), v.end());
  if (distinct.size() <= 3) return true;
  return false;
}

namespace {

std::string_view Extension(std::string_view path) {
  const auto slash = path.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const auto dot = base.rfind('.');
  return dot == std::string_view::npos || dot == 0 ? std::string_view() : base.substr(dot + 1);
}

// Source files of programming languages: there a value without quotes is
// an expression, not a literal.
bool IsCodeFile(std::string_view path) {
  std::string ext(Extension(path));
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::set<std::string> kCode = {
      "py",   "pyi",   "js",  "jsx",   "mjs",    "cjs",    "ts",     "tsx",   "mts", "cts", "go",
      "java", "kt",    "kts", "scala", "groovy", "gradle", "rb",     "php",   "cs",  "fs",  "vb",
      "rs",   "swift", "c",   "cc",    "cpp",    "cxx",    "h",      "hh",    "hpp", "m",   "mm",
      "ex",   "exs",   "erl", "dart",  "lua",    "vue",    "svelte", "astro", "clj", "hs",  "ml",
      "r",    "jl",    "pl",  "pm",    "zig",    "nim",    "cr",     "sol"};
  return kCode.count(ext) != 0;
}

bool IsLowerAscii(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpperAscii(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigitAscii(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) { return IsLowerAscii(c) || IsUpperAscii(c) || c == '_' || c == '$'; }
bool IsIdent(char c) { return IsIdentStart(c) || IsDigitAscii(c); }

// The words of a name: split at '_', '-', '.', and where camelCase turns
// ("handlerTokenCount" -> handler, token, count), lower-cased.
std::vector<std::string> Words(std::string_view name) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(cur);
    cur.clear();
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '_' || c == '-' || c == '.' || c == '$') {
      flush();
      continue;
    }
    const bool upper = IsUpperAscii(c);
    const bool digit = IsDigitAscii(c);
    if (!cur.empty()) {
      const char prev = name[i - 1];
      // aB -> a|B ; ABc -> A|Bc ; a1 stays
      if (upper && IsLowerAscii(prev)) flush();
      if (upper && IsUpperAscii(prev) && i + 1 < name.size() && IsLowerAscii(name[i + 1])) flush();
      if (!digit && IsDigitAscii(prev)) flush();
    }
    cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  flush();
  return out;
}

// A word of a language, not a random run of letters: letters only, a
// vowel, no long consonant cluster.
bool WordLike(std::string_view w) {
  if (w.size() < 2) return false;
  int vowels = 0, run = 0, longest = 0;
  for (char c : w) {
    if (!IsLowerAscii(c)) return false;
    const bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
    vowels += vowel;
    run = vowel ? 0 : run + 1;
    longest = std::max(longest, run);
  }
  return vowels > 0 && longest <= 4;
}

// An identifier, a dotted member access or a name made of words
// ("random_lower_string", "jwtService.toToken", "PASSWORD_RESET_TOKEN").
bool LooksLikeName(std::string_view v) {
  // Dotted identifiers: every segment an identifier.
  if (v.find('.') != std::string_view::npos) {
    std::size_t start = 0;
    bool all = true;
    while (start <= v.size()) {
      const auto dot = v.find('.', start);
      const std::string_view seg =
          v.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      if (seg.empty() || !IsIdentStart(seg[0]) ||
          !std::all_of(seg.begin(), seg.end(), [](char c) { return IsIdent(c); })) {
        all = false;
        break;
      }
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    if (all) return true;
  }
  if (v.empty() || !IsIdentStart(v[0])) return false;
  if (!std::all_of(v.begin(), v.end(), [](char c) { return IsIdent(c) || c == '-'; })) return false;
  const auto words = Words(v);
  if (words.empty()) return false;
  int worded = 0;
  for (const auto& w : words) {
    // Digits are allowed as a version or an index after a word ("v2", "token2").
    std::string letters;
    for (char c : w) {
      if (!IsDigitAscii(c)) letters += c;
    }
    if (letters.size() != w.size() && !(letters.size() >= 2 && IsDigitAscii(w.back())))
      return false;
    if (!WordLike(letters)) return false;
    ++worded;
  }
  return worded >= 2 || (worded == 1 && v.size() <= 20);
}

// A call, whatever the file: name(args) or obj.method(args), the whole value.
bool LooksLikeCall(std::string_view v) {
  const auto open = v.find('(');
  if (open == std::string_view::npos || open == 0 || v.back() != ')') return false;
  if (!IsIdentStart(v[0])) return false;
  for (std::size_t i = 0; i < open; ++i) {
    if (!IsIdent(v[i]) && v[i] != '.') return false;
  }
  const std::string_view args = v.substr(open + 1, v.size() - open - 2);
  return args.find('(') == std::string_view::npos && args.find(')') == std::string_view::npos;
}

bool LooksLikePath(std::string_view v) {
  if (v.rfind("/", 0) == 0 || v.rfind("./", 0) == 0 || v.rfind("../", 0) == 0 ||
      v.rfind("~/", 0) == 0) {
    return true;
  }
  if (v.find('/') == std::string_view::npos) return false;
  // a/b/c.json: every segment lower-case words, digits, dots, dashes
  std::size_t start = 0;
  while (start < v.size()) {
    auto slash = v.find('/', start);
    if (slash == std::string_view::npos) slash = v.size();
    const std::string_view seg = v.substr(start, slash - start);
    if (seg.empty()) return false;
    for (char c : seg) {
      if (!(IsLowerAscii(c) || IsDigitAscii(c) || c == '.' || c == '-' || c == '_')) return false;
    }
    start = slash + 1;
  }
  return true;
}

// The last word of a key that holds something about a secret, not the
// secret: its length, its name, where it goes, when it expires...
bool NamesAnAttribute(const std::string& last) {
  static const std::set<std::string> kAttributes = {
      "count",      "counts",   "length",   "len",       "size",        "type",
      "types",      "name",     "names",    "id",        "ids",         "url",
      "urls",       "uri",      "endpoint", "path",      "paths",       "file",
      "filename",   "dir",      "prefix",   "suffix",    "header",      "headers",
      "field",      "fields",   "param",    "params",    "format",      "pattern",
      "regex",      "expire",   "expires",  "expiry",    "expiration",  "ttl",
      "timeout",    "lifetime", "age",      "max",       "min",         "limit",
      "enabled",    "enable",   "required", "label",     "hint",        "placeholder",
      "message",    "msg",      "error",    "errors",    "policy",      "version",
      "mode",       "style",    "class",    "title",     "description", "rule",
      "rules",      "index",    "position", "offset",    "service",     "provider",
      "manager",    "handler",  "helper",   "factory",   "store",       "storage",
      "repository", "model",    "schema",   "validator", "generator",   "input",
      "column",     "event",    "route",    "template",  "view",        "page",
      "component",  "form",     "text",     "attribute", "property",    "option",
      "options",    "config",   "settings", "strategy",  "scope",       "scopes",
      "kind",       "flag",     "request",  "response",  "result",      "callback",
      "method",     "module",   "digest",   "checksum",  "fingerprint", "etag",
      "env",        "var",      "variable", "location",  "source",      "ref",
      "reference",  "arn",      "query",    "selector",  "tokens",      "tokenizer",
      "reset",      "policy"};
  return kAttributes.count(last) != 0;
}

}  // namespace

bool IsSamplePath(std::string_view path) {
  std::string p = "/" + std::string(path);
  for (auto& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* dir : {"/test/",      "/tests/",    "/spec/",    "/specs/",    "/__tests__/",
                          "/__mocks__/", "/fixtures/", "/fixture/", "/testdata/", "/test-data/",
                          "/example/",   "/examples/", "/sample/",  "/samples/",  "/docs/",
                          "/doc/",       "/e2e/",      "/mocks/",   "/mock/",     "/stubs/"}) {
    if (p.find(dir) != std::string::npos) return true;
  }
  const auto slash = p.rfind('/');
  const std::string base = p.substr(slash + 1);
  return base.rfind("test_", 0) == 0 || base.find("_test.") != std::string::npos ||
         base.find(".test.") != std::string::npos || base.find(".spec.") != std::string::npos ||
         base.find("_spec.") != std::string::npos || base.find(".example") != std::string::npos ||
         base.find(".sample") != std::string::npos || base.find("example.") == 0;
}

bool GenericValueIsLiteral(std::string_view path, std::string_view line, std::size_t key_from,
                           std::size_t value_from, std::size_t value_to) {
  if (value_from >= value_to || value_to > line.size()) return false;
  const std::string_view value = line.substr(value_from, value_to - value_from);
  const char open = value_from > 0 ? line[value_from - 1] : '\0';
  const bool quoted = open == '"' || open == '\'' || open == '`';
  const char next = value_to < line.size() ? line[value_to] : '\n';
  if (quoted) {
    // The literal is the value whole: the same quote closes it.
    if (next != open) return false;
    if (open == '`' && value.find("${") != std::string_view::npos) return false;
  } else {
    // An expression of a program (an identifier, a call, a type...).
    if (IsCodeFile(path)) return false;
    // In configuration, a value ends the line or meets a separator.
    if (!(next == '\n' || next == '\r' || next == ' ' || next == '\t' || next == ',' ||
          next == ';' || next == '#' || next == '"' || next == '\'')) {
      return false;
    }
  }
  if (LooksLikeName(value) || LooksLikePath(value) || LooksLikeCall(value)) return false;
  // The key: the name holding the keyword; its last word says what it is.
  if (key_from != std::string_view::npos && key_from < value_from) {
    std::size_t b = key_from, e = key_from;
    auto in_name = [](char c) { return IsIdent(c) || c == '-' || c == '.'; };
    while (b > 0 && in_name(line[b - 1])) --b;
    while (e < value_from && in_name(line[e])) ++e;
    const auto words = Words(line.substr(b, e - b));
    if (!words.empty() && NamesAnAttribute(words.back())) return false;
  }
  // The character mix of a key or a password.
  int lower = 0, upper = 0, digit = 0, other = 0;
  for (char c : value) {
    if (IsLowerAscii(c)) {
      lower = 1;
    } else if (IsUpperAscii(c)) {
      upper = 1;
    } else if (IsDigitAscii(c)) {
      digit = 1;
    } else {
      other = 1;
    }
  }
  return lower + upper + digit + other >= 2;
}

std::string Redact(std::string_view value) {
  if (value.size() <= 8) return std::string(value.substr(0, 1)) + "…";
  // Keep a recognisable prefix (up to the first '_' or '-', at most 10) and the last 4.
  std::size_t keep = 4;
  for (std::size_t i = 0; i < std::min<std::size_t>(value.size() / 2, 11); ++i) {
    if (value[i] == '_' || value[i] == '-') keep = i + 1;
  }
  return std::string(value.substr(0, keep)) + "…" + std::string(value.substr(value.size() - 4));
}

std::string RedactRecognisedSecrets(std::string_view text, std::vector<std::string>* rules) {
  if (text.size() < 8) return std::string(text);  // no rule's value is shorter
  // One scanner per thread (each holds its scratch space), made once.
  thread_local std::unique_ptr<SecretScanner> scanner = [] {
    auto s = SecretScanner::Create(BuiltinSecretRules());
    return s.ok() ? std::move(*s) : nullptr;
  }();
  if (!scanner) {
    if (rules) rules->push_back("unavailable");
    return "[redacted:unavailable]";
  }
  // A neutral name: not a sample file (where generic matches are waived),
  // not source code.
  static const std::string kPath = "value.txt";
  const auto findings = scanner->Scan(kPath, text);
  if (findings.empty()) return std::string(text);
  std::vector<std::pair<std::string, std::string>> values;  // value, replacement
  for (const auto& f : findings) {
    if (f.value_size == 0 || f.value_offset + f.value_size > text.size()) continue;
    values.emplace_back(std::string(text.substr(f.value_offset, f.value_size)),
                        "[redacted:" + f.rule_id + "]");
    if (rules) rules->push_back(f.rule_id);
  }
  // Longest first, so a value inside another (a key in a PEM block) is
  // replaced with it.
  std::sort(values.begin(), values.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  std::string out(text);
  for (const auto& [value, with] : values) {
    for (std::size_t at = out.find(value); at != std::string::npos;
         at = out.find(value, at + with.size())) {
      out.replace(at, value.size(), with);
    }
  }
  return out;
}

namespace {

std::uint32_t Crc32(std::string_view s) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

std::string Base62(std::uint32_t v, std::size_t width) {
  static const char* kDigits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out;
  while (v > 0) {
    out.insert(out.begin(), kDigits[v % 62]);
    v /= 62;
  }
  while (out.size() < width) out.insert(out.begin(), '0');
  return out;
}

}  // namespace

std::string TokenChecksum(std::string_view body) { return Base62(Crc32(body), 6); }

bool TokenChecksumValid(std::string_view token) {
  // prefix_ + 30 characters of entropy + 6 of base62 CRC32 of those 30.
  const auto us = token.find('_');
  if (us == std::string_view::npos || token.size() != us + 1 + 36) return false;
  const std::string_view body = token.substr(us + 1, 30), check = token.substr(us + 31, 6);
  return TokenChecksum(body) == check;
}

Json SecretFinding::ToJson() const {
  Json j = {{"rule", rule_id},
            {"title", title},
            {"severity", severity},
            {"file", file},
            {"line", line},
            {"column", column},
            {"redacted", redacted},
            {"fingerprint", fingerprint},
            {"entropy", entropy},
            {"confidence", confidence},
            {"remediation", remediation}};
  if (!commit.empty()) j["commit"] = commit;
  return j;
}

// What the rules need besides vectorscan, compiled once and shared by
// clones: RE2 for imported rules (their value's capture group, their path),
// and the allowlists' expressions.
struct CompiledAllowlist {
  SecretAllowlist spec;
  std::vector<std::unique_ptr<re2::RE2>> paths, regexes;
  std::vector<std::string> stopwords;  // lower case
};
struct CompiledExtras {
  std::vector<std::unique_ptr<re2::RE2>> value_re;  // per rule; null for built-ins
  std::vector<std::unique_ptr<re2::RE2>> path_re;   // per rule; null when unset
  std::vector<CompiledAllowlist> allowlists;
  // The rules found by the assignment finder instead of vectorscan: one
  // finder for all, and the index of each one's rule.
  std::unique_ptr<AssignmentFinder> finder;
  std::vector<unsigned> finder_rules;
  // Whether files can share a vectorscan call (ScanBatch): no rule's match
  // can cross a line, which holds for ours; imported rules' expressions may.
  bool batchable = true;
};

struct SecretScanner::Impl {
  std::shared_ptr<hs_database_t> db;  // read-only once built: shared by clones (null: no rules)
  std::shared_ptr<const CompiledExtras> extras;
  hs_scratch_t* scratch = nullptr;
  ~Impl() {
    if (scratch) hs_free_scratch(scratch);
  }
};

SecretScanner::~SecretScanner() = default;

namespace {

// Compiled rule sets are cached beside the advisory database
// ($XDG_CACHE_HOME/prodsprint or ~/.cache/prodsprint), keyed by the
// patterns, their flags and the vectorscan version. Measured once: a whole
// `check` of a 3-file repository took 70 ms with the compile, 5 ms with a
// cached database.
std::string RuleCachePath(const std::string& key) {
  const std::string dir = UserCacheDir();
  if (dir.empty()) return {};
  return dir + "/secret-rules-" + key.substr(0, 20) + ".hsdb";
}

hs_database_t* LoadCachedDatabase(const std::string& path) {
  if (path.empty()) return nullptr;
  auto bytes = ReadFile(path, 64ull << 20);
  if (!bytes.ok()) return nullptr;
  hs_database_t* db = nullptr;
  if (hs_deserialize_database(bytes->data(), bytes->size(), &db) != HS_SUCCESS) return nullptr;
  return db;
}

void StoreCachedDatabase(const std::string& path, const hs_database_t* db) {
  if (path.empty()) return;
  char* bytes = nullptr;
  std::size_t n = 0;
  if (hs_serialize_database(db, &bytes, &n) != HS_SUCCESS) return;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (!ec) (void)WriteFileAtomic(path, std::string(bytes, n));  // a cache: failing is fine
  std::free(bytes);
}

}  // namespace

Result<std::unique_ptr<SecretScanner>> SecretScanner::Create(
    std::vector<SecretRule> rules, std::vector<SecretAllowlist> allowlists) {
  std::unique_ptr<SecretScanner> s(new SecretScanner());
  s->impl_ = std::make_unique<Impl>();
  s->rules_ = std::move(rules);
  auto extras = std::make_shared<CompiledExtras>();
  re2::RE2::Options re_options;
  re_options.set_log_errors(false);
  auto compile = [&](const std::string& expr,
                     const std::string& what) -> Result<std::unique_ptr<re2::RE2>> {
    auto re = std::make_unique<re2::RE2>(expr, re_options);
    if (!re->ok()) {
      return Problem::Make("rule-invalid", "A secret rule does not compile", 422,
                           what + ": " + re->error());
    }
    return re;
  };
  for (const auto& r : s->rules_) {
    std::unique_ptr<re2::RE2> value, path;
    if (r.value == SecretRule::Value::kRegexGroup) {
      PS_ASSIGN(value, compile(r.pattern, "rule " + r.id));
    }
    if (!r.path_regex.empty()) {
      PS_ASSIGN(path, compile(r.path_regex, "rule " + r.id + " (path)"));
    }
    extras->value_re.push_back(std::move(value));
    extras->path_re.push_back(std::move(path));
    if (r.value == SecretRule::Value::kRegexGroup) extras->batchable = false;
  }
  {
    std::vector<AssignmentRule> assignments;
    for (std::size_t i = 0; i < s->rules_.size(); ++i) {
      if (!s->rules_[i].assignment) continue;
      assignments.push_back(*s->rules_[i].assignment);
      extras->finder_rules.push_back(static_cast<unsigned>(i));
    }
    if (!assignments.empty())
      extras->finder = std::make_unique<AssignmentFinder>(std::move(assignments));
  }
  for (auto& a : allowlists) {
    CompiledAllowlist c;
    for (const auto& p : a.paths) {
      PS_ASSIGN(auto re, compile(p, "allowlist path"));
      c.paths.push_back(std::move(re));
    }
    for (const auto& p : a.regexes) {
      PS_ASSIGN(auto re, compile(p, "allowlist regex"));
      c.regexes.push_back(std::move(re));
    }
    for (const auto& w : a.stopwords) {
      std::string lw = w;
      for (auto& ch : lw) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (!lw.empty()) c.stopwords.push_back(lw);
    }
    c.spec = std::move(a);
    extras->allowlists.push_back(std::move(c));
  }
  s->impl_->extras = std::move(extras);
  std::vector<std::string> patterns;
  std::vector<const char*> exprs;
  std::vector<unsigned> flags, ids;
  std::string key = hs_version();
  for (std::size_t i = 0; i < s->rules_.size(); ++i) {
    if (s->rules_[i].assignment) continue;
    bool caseless = false;
    std::string p = PatternForVectorscan(s->rules_[i].pattern, &caseless);
    unsigned f = s->rules_[i].start_of_match ? HS_FLAG_SOM_LEFTMOST : 0;
    if (caseless) f |= HS_FLAG_CASELESS;
    key += "\n" + std::to_string(f) + " " + p;
    patterns.push_back(std::move(p));
    flags.push_back(f);
    ids.push_back(static_cast<unsigned>(i));
  }
  if (patterns.empty()) return s;  // nothing for vectorscan to do
  const std::string cache = RuleCachePath(Sha256Hex(key));
  hs_database_t* db = LoadCachedDatabase(cache);
  if (!db) {
    for (const auto& p : patterns) exprs.push_back(p.c_str());
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(exprs.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr, &db,
                         &err) != HS_SUCCESS) {
      std::string detail = err && err->message ? err->message : "unknown error";
      if (err && err->expression >= 0 &&
          static_cast<std::size_t>(err->expression) < s->rules_.size())
        detail = "rule " + s->rules_[err->expression].id + ": " + detail;
      hs_free_compile_error(err);
      return Problem::Make("rule-invalid", "A secret rule does not compile", 422, detail);
    }
    StoreCachedDatabase(cache, db);
  }
  s->impl_->db = std::shared_ptr<hs_database_t>(db, hs_free_database);
  if (hs_alloc_scratch(db, &s->impl_->scratch) != HS_SUCCESS) {
    return problems::Internal("cannot allocate vectorscan scratch space");
  }
  return s;
}

Result<std::unique_ptr<SecretScanner>> SecretScanner::Clone() const {
  std::unique_ptr<SecretScanner> s(new SecretScanner());
  s->impl_ = std::make_unique<Impl>();
  s->rules_ = rules_;
  s->impl_->db = impl_->db;
  s->impl_->extras = impl_->extras;
  if (impl_->scratch && hs_clone_scratch(impl_->scratch, &s->impl_->scratch) != HS_SUCCESS) {
    return problems::Internal("cannot allocate vectorscan scratch space");
  }
  return s;
}

namespace {

constexpr std::size_t kMaxHits = 100'000;  // per file

struct Hit {
  unsigned rule;
  unsigned long long from, to;
  // Where the value starts, when the finder knows (assignments).
  unsigned long long value_from = ~0ull;
};

int OnMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned, void* ctx) {
  auto* hits = static_cast<std::vector<Hit>*>(ctx);
  if (hits->size() < kMaxHits) hits->push_back({id, from, to});
  return 0;
}

// Whether a PEM block is a private key: OpenSSL reads it (never asking for
// a passphrase: an encrypted PKCS#8 key is read as its encrypted
// structure), or, for OpenSSH's format, its body decodes to the
// "openssh-key-v1" magic.
bool PrivateKeyParses(std::string_view pem) {
  if (pem.size() > 64 * 1024) return false;
  if (pem.find("OPENSSH PRIVATE KEY") != std::string_view::npos) {
    std::string b64;
    const auto body_start = pem.find('\n');
    for (std::size_t i = body_start == std::string_view::npos ? pem.size() : body_start;
         i < pem.size(); ++i) {
      if (pem[i] == '-') break;
      if (!std::isspace(static_cast<unsigned char>(pem[i]))) b64 += pem[i];
    }
    std::string raw(b64.size(), '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                                  reinterpret_cast<const unsigned char*>(b64.data()),
                                  static_cast<int>(b64.size()));
    return n >= 15 && raw.compare(0, 15, std::string("openssh-key-v1\0", 15)) == 0;
  }
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return false;
  auto no_passphrase = [](char*, int, int, void*) -> int { return -1; };
  bool ok = false;
  if (pem.find("ENCRYPTED PRIVATE KEY") != std::string_view::npos) {
    X509_SIG* sig = PEM_read_bio_PKCS8(bio, nullptr, no_passphrase, nullptr);
    ok = sig != nullptr;
    X509_SIG_free(sig);
  } else {
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, no_passphrase, nullptr);
    ok = key != nullptr;
    EVP_PKEY_free(key);
  }
  BIO_free(bio);
  ERR_clear_error();
  return ok;
}

// The value inside a match, per the rule.
std::string_view ValueOf(const SecretRule& r, std::string_view m) {
  switch (r.value) {
    case Value::kWhole:
    case Value::kPemBlock:
    case Value::kRegexGroup:
      return m;
    case Value::kAfterAssignment: {
      const auto at = m.find_last_of(":=");
      if (at == std::string_view::npos) return m;
      std::string_view v = m.substr(at + 1);
      while (!v.empty() &&
             (v.front() == ' ' || v.front() == '\t' || v.front() == '"' || v.front() == '\'')) {
        v.remove_prefix(1);
      }
      return v;
    }
    case Value::kUrlPassword: {
      const auto scheme = m.find("://");
      std::string_view rest = m.substr(scheme + 3);
      const auto colon = rest.find(':');
      const auto at = rest.rfind('@');
      if (colon == std::string_view::npos || at == std::string_view::npos || at < colon) return {};
      return rest.substr(colon + 1, at - colon - 1);
    }
  }
  return m;
}

}  // namespace

namespace {

// The rules that match any value of a secret-named key, not a format of
// their own: what they find is possible, not verified.
bool IsGenericRule(const SecretRule& r) { return r.id.find("generic") != std::string::npos; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// Whether an allowlist lets this candidate go. Each condition it states is
// checked; OR (gitleaks' default): one holding is enough; AND: all must.
bool Allowed(const CompiledAllowlist& a, const std::string& rule_id, const std::string& path,
             std::string_view value, std::string_view match, std::string_view line) {
  if (!a.spec.rules.empty() &&
      std::find(a.spec.rules.begin(), a.spec.rules.end(), rule_id) == a.spec.rules.end()) {
    return false;
  }
  std::vector<bool> held;
  if (!a.paths.empty()) {
    held.push_back(std::any_of(a.paths.begin(), a.paths.end(),
                               [&](const auto& re) { return re2::RE2::PartialMatch(path, *re); }));
  }
  if (!a.regexes.empty()) {
    const std::string_view target = a.spec.target == "line"    ? line
                                    : a.spec.target == "match" ? match
                                                               : value;
    held.push_back(std::any_of(a.regexes.begin(), a.regexes.end(), [&](const auto& re) {
      return re2::RE2::PartialMatch(re2::StringPiece(target.data(), target.size()), *re);
    }));
  }
  if (!a.stopwords.empty()) {
    const std::string lv = Lower(value);
    held.push_back(std::any_of(a.stopwords.begin(), a.stopwords.end(), [&](const std::string& w) {
      return lv.find(w) != std::string::npos;
    }));
  }
  if (held.empty()) return false;  // commits only: applied to history findings by the caller
  return a.spec.require_all ? std::all_of(held.begin(), held.end(), [](bool b) { return b; })
                            : std::any_of(held.begin(), held.end(), [](bool b) { return b; });
}

// The rule's facts, the place, and the fingerprint (the value itself is
// only hashed: a finding never holds it).
SecretFinding Completed(SecretFinding f, const SecretRule& r, const std::string& path, int line,
                        int column, std::string_view value) {
  f.rule_id = r.id;
  f.title = r.title;
  f.severity = r.severity;
  f.remediation = r.remediation;
  f.file = path;
  f.line = line;
  f.column = column;
  f.fingerprint = Sha256Hex(r.id + ":" + std::string(value));
  f.entropy = std::round(f.entropy * 100) / 100;
  return f;
}

}  // namespace

namespace {

// The findings of one file from its candidates: what the rules' checks
// keep, placed and fingerprinted.
std::vector<SecretFinding> FindingsOf(const std::vector<SecretRule>& rules,
                                      const CompiledExtras& ex, const std::string& path,
                                      std::string_view content, std::vector<Hit>& hits) {
  std::vector<SecretFinding> out;
  if (hits.empty()) return out;  // most files: no line to number
  // Line starts, for line:column (memchr: vectorised).
  std::vector<std::size_t> line_starts = {0};
  for (const char *p = content.data(), *end = content.data() + content.size();
       (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p))));) {
    ++p;
    line_starts.push_back(static_cast<std::size_t>(p - content.data()));
  }
  // Rules without a tracked start are read from the start of their line.
  for (auto& h : hits) {
    if (!rules[h.rule].start_of_match && h.to > 0) {
      h.from = *(std::upper_bound(line_starts.begin(), line_starts.end(), h.to - 1) - 1);
    }
  }
  // Leftmost-longest per start: vectorscan reports every end; keep the
  // longest match for each (rule, start), and each value once.
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return std::tie(a.rule, a.from, b.to) < std::tie(b.rule, b.from, a.to);
  });
  std::set<std::pair<unsigned, unsigned long long>> seen_start;
  std::set<std::string> seen_value;
  // Lines where a specific rule recognised its format (reported or not):
  // the generic rule does not second-guess it there.
  std::set<int> specific_lines;
  for (const auto& h : hits) {
    if (!seen_start.insert({h.rule, h.from}).second) continue;
    const SecretRule& r = rules[h.rule];
    const std::string_view match = content.substr(h.from, h.to - h.from);
    const auto line_it = std::upper_bound(line_starts.begin(), line_starts.end(), h.from) - 1;
    const std::size_t line_start = *line_it;
    std::size_t line_end = content.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = content.size();
    const std::string_view line = content.substr(line_start, line_end - line_start);
    if (line.find("prodsprint:ignore") != std::string_view::npos ||
        line.find("gitleaks:allow") != std::string_view::npos) {
      continue;
    }
    if (r.value == Value::kRegexGroup) {
      // Imported rule: vectorscan found the line; RE2 finds the matches in
      // it and the group holding the secret.
      const re2::RE2& re = *ex.value_re[h.rule];
      if (ex.path_re[h.rule] && !re2::RE2::PartialMatch(path, *ex.path_re[h.rule])) continue;
      if (!r.keywords.empty()) {
        const std::string ll = Lower(line);
        if (std::none_of(r.keywords.begin(), r.keywords.end(), [&](const std::string& k) {
              return ll.find(Lower(k)) != std::string::npos;
            })) {
          continue;
        }
      }
      const int groups = re.NumberOfCapturingGroups();
      std::vector<re2::StringPiece> sub(static_cast<std::size_t>(groups) + 1);
      std::size_t at = 0;
      while (at <= line.size() &&
             re.Match(re2::StringPiece(line.data(), line.size()), at, line.size(),
                      re2::RE2::UNANCHORED, sub.data(), groups + 1)) {
        const re2::StringPiece whole = sub[0];
        at = static_cast<std::size_t>(whole.data() - line.data()) +
             std::max<std::size_t>(whole.size(), 1);
        const int g = r.secret_group > 0 && r.secret_group <= groups ? r.secret_group : 0;
        const re2::StringPiece v = sub[static_cast<std::size_t>(g)];
        if (v.empty()) continue;
        const std::string_view value(v.data(), v.size());
        const std::string_view whole_view(whole.data(), whole.size());
        if (LooksLikePlaceholder(value)) continue;
        const bool generic = IsGenericRule(r);
        if (generic &&
            (IsSamplePath(path) ||
             !GenericValueIsLiteral(path, line, std::string_view::npos,
                                    static_cast<std::size_t>(v.data() - line.data()),
                                    static_cast<std::size_t>(v.data() - line.data()) + v.size()))) {
          continue;
        }
        const double entropy = ShannonEntropy(value);
        if (r.min_entropy > 0 && entropy < r.min_entropy) continue;
        if (std::any_of(ex.allowlists.begin(), ex.allowlists.end(),
                        [&](const CompiledAllowlist& a) {
                          return Allowed(a, r.id, path, value, whole_view, line);
                        })) {
          continue;
        }
        if (!seen_value.insert(r.id + ":" + std::string(value)).second) continue;
        SecretFinding f;
        f.confidence = generic ? "possible" : "likely";
        f.entropy = entropy;
        f.redacted = Redact(value);
        f.value_offset = static_cast<std::size_t>(value.data() - content.data());
        f.value_size = value.size();
        out.push_back(Completed(std::move(f), r, path,
                                static_cast<int>(line_it - line_starts.begin()) + 1,
                                static_cast<int>(v.data() - line.data()) + 1, value));
      }
      continue;
    }
    std::string_view value = h.value_from <= h.to
                                 ? content.substr(h.value_from, h.to - h.value_from)
                                 : ValueOf(r, match);
    // Quotes or separators that closed the value.
    while (!value.empty() && (value.back() == '"' || value.back() == '\'' || value.back() == ','))
      value.remove_suffix(1);
    if (value.size() < 8) continue;
    SecretFinding f;
    f.confidence = "likely";
    if (r.value == Value::kPemBlock) {
      // The block must have a body and an END line to be a key at all.
      const std::string end_marker = "-----END";
      const auto end = content.find(end_marker, h.to);
      if (end == std::string_view::npos || end - h.to < 64) continue;
      const std::string_view body = content.substr(h.to, end - h.to);
      if (LooksLikePlaceholder(body.substr(0, 200))) continue;
      const auto end_line = content.find('\n', end);
      value = content.substr(
          h.from, (end_line == std::string_view::npos ? content.size() : end_line) - h.from);
      // Verified when the block is a key OpenSSL can read (or an OpenSSH key
      // with its magic), likely otherwise (a truncated or made-up body).
      f.confidence = PrivateKeyParses(value) ? "verified" : "likely";
    } else {
      if (LooksLikePlaceholder(value)) continue;
      if (IsGenericRule(r)) {
        // A secret-named key's value: a literal in the right place, or code.
        if (IsSamplePath(path) || h.value_from > h.to ||
            !GenericValueIsLiteral(path, line, h.from - line_start, h.value_from - line_start,
                                   h.value_from - line_start + value.size())) {
          continue;
        }
        f.confidence = "possible";
      }
      f.entropy = ShannonEntropy(value);
      if (r.min_entropy > 0 && f.entropy < r.min_entropy) continue;
      if ((r.id == "github-token" || r.id == "npm-token")) {
        if (!TokenChecksumValid(value)) {  // right shape, not a real token
          specific_lines.insert(static_cast<int>(line_it - line_starts.begin()) + 1);
          continue;
        }
        f.confidence = "verified";
      }
    }
    if (std::any_of(ex.allowlists.begin(), ex.allowlists.end(), [&](const CompiledAllowlist& a) {
          return Allowed(a, r.id, path, value, match, line);
        })) {
      continue;
    }
    if (!seen_value.insert(r.id + ":" + std::string(value)).second) continue;
    f.redacted = r.value == Value::kPemBlock ? std::string(match) + " …" : Redact(value);
    f.value_offset = static_cast<std::size_t>(value.data() - content.data());
    f.value_size = value.size();
    out.push_back(Completed(std::move(f), r, path,
                            static_cast<int>(line_it - line_starts.begin()) + 1,
                            static_cast<int>(h.from - line_start) + 1, value));
  }
  // A value reported by a specific rule is not reported again as generic.
  for (const auto& f : out)
    if (f.rule_id != "generic-secret") specific_lines.insert(f.line);
  out.erase(std::remove_if(out.begin(), out.end(),
                           [&](const SecretFinding& f) {
                             return f.rule_id == "generic-secret" &&
                                    specific_lines.count(f.line) != 0;
                           }),
            out.end());
  std::sort(out.begin(), out.end(), [](const SecretFinding& a, const SecretFinding& b) {
    return std::tie(a.line, a.column, a.rule_id) < std::tie(b.line, b.column, b.rule_id);
  });
  return out;
}

// The assignment rules' candidates in a file, after vectorscan's.
void AddAssignments(const CompiledExtras& ex, std::string_view content, std::vector<Hit>* hits) {
  if (!ex.finder || hits->size() >= kMaxHits) return;
  std::vector<AssignmentMatch> found;
  ex.finder->Find(content, &found, kMaxHits - hits->size());
  for (const auto& m : found)
    hits->push_back({ex.finder_rules[m.rule], m.from, m.to, m.value_from});
}

// A batch's vectorscan matches, each given to its file (as an offset in
// it), at most kMaxHits a file.
struct BatchHits {
  const std::vector<SecretRule>* rules;
  const std::vector<SecretScanner::BatchFile>* files;
  std::vector<std::vector<Hit>> hits;
};

int OnBatchMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned, void* ctx) {
  auto* b = static_cast<BatchHits*>(ctx);
  const auto& files = *b->files;
  if (to == 0) return 0;
  // The file holding the match's last byte.
  const auto it = std::upper_bound(
      files.begin(), files.end(), to - 1,
      [](unsigned long long at, const SecretScanner::BatchFile& f) { return at < f.offset; });
  if (it == files.begin()) return 0;
  const std::size_t i = static_cast<std::size_t>(it - files.begin()) - 1;
  const auto& f = files[i];
  if (!(*b->rules)[id].start_of_match) from = f.offset;  // no start tracked: read from the line's
  if (from < f.offset || to > f.offset + f.size) return 0;  // across files (no rule does)
  auto& hits = b->hits[i];
  if (hits.size() < kMaxHits) hits.push_back({id, from - f.offset, to - f.offset});
  return 0;
}

}  // namespace

std::vector<SecretFinding> SecretScanner::Scan(const std::string& path, std::string_view content) {
  if (content.empty() || content.size() > 0xFFFFFFFFu) return {};
  const CompiledExtras& ex = *impl_->extras;
  std::vector<Hit> hits;
  if (impl_->db && hs_scan(impl_->db.get(), content.data(), static_cast<unsigned>(content.size()),
                           0, impl_->scratch, OnMatch, &hits) != HS_SUCCESS) {
    return {};
  }
  AddAssignments(ex, content, &hits);
  return FindingsOf(rules_, ex, path, content, hits);
}

std::vector<std::vector<SecretFinding>> SecretScanner::ScanBatch(
    std::string_view text, const std::vector<BatchFile>& files) {
  std::vector<std::vector<SecretFinding>> out(files.size());
  const CompiledExtras& ex = *impl_->extras;
  auto content_of = [&](const BatchFile& f) {
    return f.offset < text.size() ? text.substr(f.offset, f.size) : std::string_view();
  };
  if (!ex.batchable || files.size() < 2 || text.size() > 0xFFFFFFFFu) {
    for (std::size_t i = 0; i < files.size(); ++i)
      out[i] = Scan(*files[i].path, content_of(files[i]));
    return out;
  }
  BatchHits b{&rules_, &files, std::vector<std::vector<Hit>>(files.size())};
  if (impl_->db && hs_scan(impl_->db.get(), text.data(), static_cast<unsigned>(text.size()), 0,
                           impl_->scratch, OnBatchMatch, &b) != HS_SUCCESS) {
    return out;
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string_view content = content_of(files[i]);
    if (content.empty()) continue;
    AddAssignments(ex, content, &b.hits[i]);
    out[i] = FindingsOf(rules_, ex, *files[i].path, content, b.hits[i]);
  }
  return out;
}

}  // namespace ps::security
