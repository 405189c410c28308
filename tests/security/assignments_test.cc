// The assignment finder held to the expressions the rule table states for
// it: on seeded random text made of the pieces assignments are made of,
// every line RE2 matches the finder matches, every line it does not the
// finder leaves alone, and each match is one RE2 takes whole. The vector
// pass and the portable loop agree byte for byte.
#include "security/assignments.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <random>

#include "security/secrets.h"

namespace ps::security {
namespace {

const SecretRule& RuleById(const std::string& id) {
  for (const auto& r : BuiltinSecretRules())
    if (r.id == id) return r;
  throw std::runtime_error("no rule " + id);
}

// The rule's pattern as RE2 reads it (bytes, not UTF-8, like vectorscan);
// a trailing "no value byte follows" lookahead becomes "a non-value byte
// or the end" (RE2 has no lookaround; the test matches single lines).
std::string ForRe2(std::string pattern) {
  const std::string ahead = "(?![A-Za-z0-9_/+=.~!@#$%^&*()\\x7f-])";
  const auto at = pattern.find(ahead);
  if (at != std::string::npos)
    pattern.replace(at, ahead.size(), "(?:[^A-Za-z0-9_/+=.~!@#$%^&*()\\x7f-]|$)");
  return pattern;
}

re2::RE2::Options Latin1() {
  re2::RE2::Options o;
  o.set_encoding(re2::RE2::Options::EncodingLatin1);
  o.set_log_errors(false);
  return o;
}

AssignmentFinder FinderFor(const SecretRule& r) {
  EXPECT_TRUE(r.assignment.has_value()) << r.id;
  return AssignmentFinder({*r.assignment});
}

// Text made of the pieces of assignments: keywords in several cases, key
// names, blanks, quotes, signs, value bytes, other punctuation, newlines;
// every other line built like an assignment, most of them near misses.
std::string RandomText(std::mt19937_64& rng, std::size_t pieces) {
  static const std::vector<std::string> kPieces = {
      "token",       "TOKEN",      "Secret",     "password", "passwd",
      "api_key",     "API-KEY",    "apikey",     "auth_key", "PRIVATE_KEY",
      "private-key", "credential", "aws",        "AWS_",     "private",
      "secret",      "price",      "tok",        "key",      "_",
      ".",           "-",          "/",          "+",        "~",
      "=",           "==",         ":",          " ",        "  ",
      "\t",          "\"",         "'",          "\n",       ",",
      ";",           "(",          ")",          "{",        "$",
      "!@#",         "%^&*",       "\x7f",       "x",        "Q9",
      "abcdefgh",    "ABCDEFGHIJ", "0123456789", "k3Y/p+Qz", "wJalrXUtnFEMI",
      "\xc3\xa9",    "\x01"};
  static const std::vector<std::string> kQualifiers = {"aws", "AWS", "Aws_", "aws-x.", ""};
  static const std::vector<std::string> kKeys = {
      "secret",     "SECRET",      "private", "token",    "Password",
      "passwd",     "api_key",     "ApiKey",  "auth-key", "private_key",
      "credential", "credentials", "pass",    "tok",      "key"};
  static const std::vector<std::string> kNames = {
      "", "_ID", "_access_key", ".value", "-x", "_for_the_service_account", "s", "0"};
  static const std::vector<std::string> kValues = {"AbCdEfGhIjKlMnOpQrSt",
                                                   "uv/+0123456789wxyzAB",
                                                   "k3Y",
                                                   "abcdefgh",
                                                   "==",
                                                   "-_.~",
                                                   "Zz09",
                                                   "wJalrXUtnFEMI/K7MDENG",
                                                   "aB3!xY9@kL2#mN5$pQ7%",
                                                   "&*^",
                                                   "(a)b(c)d(e)f(g)h)"};
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  std::string s;
  for (std::size_t i = 0; i < pieces; ++i) {
    if (rng() % 8 != 0) {
      s += pick(kPieces);
      continue;
    }
    for (int k = static_cast<int>(rng() % 3); k > 0; --k) s += pick(kPieces);
    s += pick(kQualifiers);
    for (int k = static_cast<int>(rng() % 3); k > 0; --k) s += rng() % 2 ? " " : pick(kNames);
    s += pick(kKeys) + pick(kNames);
    if (rng() % 3 == 0) s += rng() % 2 ? "\"" : "'";
    s += std::string(rng() % 4 == 0 ? rng() % 9 : rng() % 2, rng() % 3 ? ' ' : '\t');
    s += rng() % 2 ? "=" : ":";
    s += std::string(rng() % 4 == 0 ? rng() % 9 : rng() % 2, ' ');
    if (rng() % 3 == 0) s += rng() % 2 ? "\"" : "'";
    for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) s += pick(kValues);
    if (rng() % 2) s += pick(kPieces);
    s += "\n";
  }
  return s;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto nl = text.find('\n', start);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    out.push_back(text.substr(start, end - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

void AgreesWithRe2(const std::string& rule_id) {
  const SecretRule& rule = RuleById(rule_id);
  const re2::RE2 re(ForRe2(rule.pattern), Latin1());
  ASSERT_TRUE(re.ok()) << re.error();
  // The whole match: the pattern without what it asks of the next byte.
  std::string whole = rule.pattern;
  if (const auto at = whole.find("(?!"); at != std::string::npos) whole = whole.substr(0, at);
  const re2::RE2 whole_re(whole, Latin1());
  ASSERT_TRUE(whole_re.ok()) << whole_re.error();
  const AssignmentFinder finder = FinderFor(rule);
  std::mt19937_64 rng(20261126);
  int matched_lines = 0, lines = 0;
  for (int round = 0; round < 6000; ++round) {
    const std::string text = RandomText(rng, 20 + rng() % 200);
    std::vector<AssignmentMatch> found;
    finder.Find(text, &found);
    for (std::string_view line : Lines(text)) {
      ++lines;
      const std::size_t begin = static_cast<std::size_t>(line.data() - text.data());
      const std::size_t end = begin + line.size();
      const bool re_says = re2::RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), re);
      const bool finder_says = std::any_of(found.begin(), found.end(), [&](const auto& m) {
        return m.from >= begin && m.to <= end;
      });
      matched_lines += re_says;
      ASSERT_EQ(re_says, finder_says) << rule_id << " on line [" << line << "]";
    }
    for (const auto& m : found) {
      ASSERT_LE(m.from, m.value_from);
      ASSERT_LE(m.value_from, m.to);
      const std::string_view taken(text.data() + m.from, m.to - m.from);
      EXPECT_TRUE(re2::RE2::FullMatch(re2::StringPiece(taken.data(), taken.size()), whole_re))
          << rule_id << " took [" << taken << "]";
    }
  }
  // The text is made to hold both kinds of line in numbers.
  EXPECT_GT(matched_lines, 100) << "of " << lines;
  EXPECT_GT(lines - matched_lines, 2000);
}

TEST(AssignmentFinder, GenericRuleFindsWhatItsPatternSays) { AgreesWithRe2("generic-secret"); }

TEST(AssignmentFinder, AwsSecretRuleFindsWhatItsPatternSays) {
  AgreesWithRe2("aws-secret-access-key");
}

TEST(AssignmentFinder, VectorPassesAndPortableLoopAgree) {
  std::vector<AssignmentRule> rules;
  for (const auto& r : BuiltinSecretRules())
    if (r.assignment) rules.push_back(*r.assignment);
  ASSERT_EQ(rules.size(), 2u);
  const AssignmentFinder finder(rules);
  using Pass = AssignmentFinder::Pass;
  std::vector<Pass> passes;
  for (Pass p : {Pass::kAvx512, Pass::kAvx2})
    if (AssignmentFinder::Supported(p)) passes.push_back(p);
  if (passes.empty()) GTEST_SKIP() << "this CPU has no vector pass";
  std::mt19937_64 rng(7);
  for (int round = 0; round < 600; ++round) {
    // Lengths around the 64-byte blocks, and past a 64 KiB slice.
    const std::size_t pieces = round < 500 ? rng() % 80 : 20000 + rng() % 4000;
    const std::string text = RandomText(rng, pieces);
    std::vector<AssignmentMatch> portable;
    finder.Find(text, &portable, 100000, Pass::kPortable);
    for (Pass p : passes) {
      std::vector<AssignmentMatch> vec;
      finder.Find(text, &vec, 100000, p);
      ASSERT_EQ(vec.size(), portable.size())
          << "pass " << static_cast<int>(p) << ", text of " << text.size() << " bytes";
      for (std::size_t i = 0; i < vec.size(); ++i) {
        EXPECT_EQ(vec[i].rule, portable[i].rule);
        EXPECT_EQ(vec[i].from, portable[i].from);
        EXPECT_EQ(vec[i].value_from, portable[i].value_from);
        EXPECT_EQ(vec[i].to, portable[i].to);
      }
    }
  }
}

TEST(AssignmentFinder, ValuesKeepTheirPaddingAndTheKeywordThatStartsFirst) {
  const AssignmentFinder finder = FinderFor(RuleById("generic-secret"));
  const std::string text = "config.api_key_token = \"QWxhZGRpbjpvcGVuIHNlc2FtZQ==\"\n";
  std::vector<AssignmentMatch> found;
  finder.Find(text, &found);
  ASSERT_EQ(found.size(), 1u);  // the '=' of the padding is not another assignment
  EXPECT_EQ(text.substr(found[0].from, 7), "api_key");
  EXPECT_EQ(text.substr(found[0].value_from, found[0].to - found[0].value_from),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

TEST(AssignmentFinder, LeavesShortValuesFarKeywordsAndOtherLinesAlone) {
  const AssignmentFinder finder = FinderFor(RuleById("generic-secret"));
  for (const std::string text : {
           "token_count = 42\n",                                               // short value
           "token_for_the_very_long_variable_name = abcdefghijklmnopqrstu\n",  // 21+ bytes on
           "token\n= abcdefghijklmnopqrstuvwx\n",                              // another line
           "password =        abcdefghijklmnopqrstuvwx\n",  // seven blanks after the sign
           "secret = abcdefghijklmnop",                     // 16 exactly: found (below)
       }) {
    std::vector<AssignmentMatch> found;
    finder.Find(text, &found);
    EXPECT_EQ(found.size(), text.rfind("secret", 0) == 0 ? 1u : 0u) << text;
  }
}

TEST(AssignmentFinder, StaysLinearOnTextMadeOfAssignments) {
  // Every sign is a candidate and every key a keyword: one match per run
  // of value bytes, found in one pass (a quadratic finder would not end).
  std::string text;
  for (int i = 0; i < 200000; ++i) text += "token=";
  text += "abcdefghijklmnopqrstuvwxyz\n";
  for (int i = 0; i < 20000; ++i) text += "aws_secret=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789/+Ab\n";
  std::vector<AssignmentRule> rules;
  for (const auto& r : BuiltinSecretRules())
    if (r.assignment) rules.push_back(*r.assignment);
  const AssignmentFinder finder(rules);
  std::vector<AssignmentMatch> found;
  finder.Find(text, &found);
  std::size_t generic = 0, aws = 0;
  for (const auto& m : found) (m.rule == 0 ? aws : generic)++;
  EXPECT_EQ(generic, 20001u);  // the long run, then each line's
  EXPECT_EQ(aws, 20000u);
  found.clear();
  finder.Find(text, &found, 10);
  EXPECT_EQ(found.size(), 10u);
}

}  // namespace
}  // namespace ps::security
