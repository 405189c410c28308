// Secret detection: one pass of many patterns over each file (vectorscan, a
// compiled multi-pattern automaton), then per candidate the checks that keep
// documented examples, placeholders and variable references out — entropy,
// stopwords, the token's own checksum where its format carries one (GitHub,
// npm), a private key block that actually parses. A finding never holds the
// secret whole: only a redacted form and a fingerprint (sha256 of rule and
// value) that baselines and ignore lists can name.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/problem.h"
#include "security/assignments.h"

namespace ps::security {

struct SecretRule {
  std::string id;        // "github-pat"
  std::string title;     // "GitHub personal access token"
  std::string pattern;   // vectorscan (PCRE subset: no captures, no lookaround)
  std::string severity;  // "critical", "high", "medium"
  std::string remediation;
  // How the value sits in the match: the whole match, or what follows the
  // last ':' / '=' (assignments), or the password of a URL; kRegexGroup:
  // imported rules, whose value is re-read with RE2 (`secret_group`).
  enum class Value {
    kWhole,
    kAfterAssignment,
    kUrlPassword,
    kPemBlock,
    kRegexGroup
  } value = Value::kWhole;
  double min_entropy = 0;  // bits per character the value must reach (0: no check)
  // Whether vectorscan tracks where the match starts. Imported rules with
  // bounded gaps ("aws ... secret ... = VALUE") would make its automaton too
  // large; they are read from the start of the line instead.
  bool start_of_match = true;
  // Imported (gitleaks) rules: the capture group holding the secret (0: the
  // whole match), keywords one of which the line must hold, and a path
  // regular expression the file must match.
  int secret_group = 0;
  std::vector<std::string> keywords{};
  std::string path_regex{};
  // Set: the rule is found by the AssignmentFinder (assignments.h), not by
  // vectorscan; `pattern` then states what the finder finds (tests hold it
  // to that).
  std::optional<AssignmentRule> assignment{};
};

// What is not a secret whatever a rule says (gitleaks' allowlists):
// findings in matching paths, values matching a regex (or whose match or
// line does, per `target`), values holding a stopword, findings of listed
// commits. `rules` limits it to some rule ids (empty: all).
struct SecretAllowlist {
  std::string description;
  std::vector<std::string> paths, regexes, stopwords, commits, rules;
  std::string target = "secret";  // secret | match | line
  bool require_all = false;       // gitleaks' condition = "AND"
};

// A gitleaks TOML configuration, imported: its rules (ids kept) and its
// global and per-rule allowlists. Rules whose expression vectorscan or RE2
// cannot compile are left out with a warning.
struct ImportedSecretConfig {
  std::vector<SecretRule> rules;
  std::vector<SecretAllowlist> allowlists;
  std::vector<std::string> warnings;
  bool extends_default = true;  // [extend] useDefault (ours stand for gitleaks' defaults)
};
Result<ImportedSecretConfig> ImportGitleaksConfig(std::string_view toml_text,
                                                  const std::string& name = ".gitleaks.toml");

// The rules ProdSprint ships.
const std::vector<SecretRule>& BuiltinSecretRules();

struct SecretFinding {
  std::string rule_id, title, severity, remediation;
  std::string file;
  int line = 0, column = 0;  // 1-based
  std::string commit;        // history scans: the commit that introduced it
  std::string redacted;      // "ghp_…a1b2" — never the whole secret
  std::string fingerprint;   // sha256(rule_id + ":" + value), hex
  double entropy = 0;
  // "verified": the value passed its format's own check (checksum, parse);
  // "likely": a provider's format matched and passed entropy/stopword
  // checks; "possible": a generic match (a secret-named key given a literal
  // with the look of a key or a password), unverified: a warning that
  // blocks only when policy.security.unverified_secrets says so.
  std::string confidence;
  // Where the value lies in the scanned content (bytes; not in ToJson): for
  // redacting it from a copy of the text.
  std::size_t value_offset = 0, value_size = 0;
  Json ToJson() const;
};

// A rule's expression as vectorscan takes it: a leading (?i) becomes the
// caseless flag (in *flags, as HS_FLAG_CASELESS), Go's named groups (?P<n>
// PCRE's (?<n>.
std::string PatternForVectorscan(std::string pattern, bool* caseless);

// Whether a variable name says it holds a secret (API_KEY, DB_PASSWORD,
// STRIPE_SECRET, DATABASE_URL, SIGNING_KEY, WEBHOOK...).
bool IsSecretName(std::string_view name);

// Shannon entropy of `s` in bits per character.
double ShannonEntropy(std::string_view s);
// Whether a value is a placeholder, a documented example or a reference to
// a variable rather than a secret ("changeme", "xxxx", "${TOKEN}",
// "AKIAIOSFODNN7EXAMPLE", "<your-key>").
bool LooksLikePlaceholder(std::string_view value);
// Whether a generic rule's candidate (a secret-named key assigned a long
// value) is a literal that may be a secret, not code or a name. `line` is
// the candidate's line; `key_from` where the key's keyword starts in it
// (npos: unknown), [value_from, value_to) the value. Code is not a secret: in
// a source file an unquoted value (an identifier, a call, a member access, a
// type), anywhere a value followed by a call's or an index's bracket, a
// dotted or worded name ("settings.SECRET_KEY", "random_lower_string"), a
// path; nor is a value of a key that names something about a secret rather
// than the secret ("token_count", "password_reset_url", "api_key_header"),
// nor a value without the character mix of a key or a password (two
// classes of lower case, upper case, digits and punctuation).
bool GenericValueIsLiteral(std::string_view path, std::string_view line, std::size_t key_from,
                           std::size_t value_from, std::size_t value_to);
// Files of tests, fixtures, examples and documentation folders, where a
// generic match is a sample, not a leak.
bool IsSamplePath(std::string_view path);

// "ghp_abcd…wxyz": enough to find it, not enough to use it.
std::string Redact(std::string_view value);
// `text` with every value the built-in rules recognise (a GitHub token, an
// AWS key, a secret-named assignment's literal...) replaced by
// "[redacted:RULE]", each occurrence; the rules of what was replaced are
// added to *rules. For whatever ProdSprint stores or prints that came from a
// repository: a secret is recognised by its form, not by a variable's name.
// Fails closed: if the rules cannot be loaded, the whole text is replaced.
std::string RedactRecognisedSecrets(std::string_view text,
                                    std::vector<std::string>* rules = nullptr);

// GitHub and npm tokens end in a CRC32 of their body, base62: true if it
// matches (a real token, not a random string of the right shape).
bool TokenChecksumValid(std::string_view token);
// The 6-character checksum such a token ends in, for its 30-character body.
std::string TokenChecksum(std::string_view body);

class SecretScanner {
 public:
  // Compiles the rules once (vectorscan database). A Problem if a pattern
  // does not compile (a bug in the rule table, or an imported rule).
  static Result<std::unique_ptr<SecretScanner>> Create(
      std::vector<SecretRule> rules, std::vector<SecretAllowlist> allowlists = {});
  ~SecretScanner();
  SecretScanner(const SecretScanner&) = delete;
  SecretScanner& operator=(const SecretScanner&) = delete;

  // Scans one file's bytes. Lines carrying an inline ignore
  // ("prodsprint:ignore" or "gitleaks:allow") are skipped. Thread-safe
  // only with one scanner per thread (each holds its scratch space).
  std::vector<SecretFinding> Scan(const std::string& path, std::string_view content);
  // Several files at once: `text` holds them one after another, each
  // followed by a '\n' (file i is text.substr(files[i].offset,
  // files[i].size); offsets increasing). The findings are each file's, as
  // Scan gives them; vectorscan runs once over all, not once a file: a call
  // costs about a microsecond, as much as scanning 8 KB. Rules that could
  // match across a line (imported ones) make it scan file by file.
  struct BatchFile {
    const std::string* path = nullptr;
    std::size_t offset = 0, size = 0;
  };
  std::vector<std::vector<SecretFinding>> ScanBatch(std::string_view text,
                                                    const std::vector<BatchFile>& files);
  // Another scanner over the same compiled rules, with its own scratch
  // space: one per thread.
  Result<std::unique_ptr<SecretScanner>> Clone() const;
  const std::vector<SecretRule>& rules() const { return rules_; }

 private:
  SecretScanner() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<SecretRule> rules_;
};

}  // namespace ps::security
