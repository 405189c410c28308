// Assignments of long values to secret-named keys ("api_key = 'k3Y…'",
// "password: hunter2…", "aws_secret_access_key=…"), found without a regex
// engine.
//
// The keywords (token, secret, password…) are common words in code: a
// literal matcher stops at every "token" (and at every "price" for
// "private") and then runs an automaton towards an assignment that is
// mostly not there — measured, the generic rule cost more than the other
// 22 rules together, and the AWS secret key rule a third of those. The
// finder starts from the rarer side instead: an assignment sign followed by
// a long value. A vector pass marks the bytes that can be in a value and
// the signs 32 or 64 at a time (AVX2, AVX-512) and keeps the signs followed, a few bytes
// on, by a run of value bytes; only at those does it look back for the
// keywords. One pass serves all the rules.
//
// A rule finds exactly what its expression says (tested against RE2 on
// random text), K one of its keywords, Q one of its qualifiers, caseless,
// V = [A-Za-z0-9_/+=.~!@#$%^&*()\x7f-] (the value bytes: those of keys and
// tokens, and the punctuation of passwords):
//
//   name rules:      K [A-Za-z0-9_.-]{0,20} ["']? [ \t]* [:=] [ \t]{0,6} ["']? V{16,}
//   qualified rules: Q .{0,20} K .{0,20} [:=] [ \t]{0,6} ["']? V{16,}
//
// and, with `value_length` set, the value is exactly that many bytes of
// [A-Za-z0-9/+] and no other value byte follows. One match per value (the
// keyword or qualifier that starts first); a rule's matches do not
// overlap: the '=' of base64 padding inside a value is not taken for
// another assignment.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ps::security {

struct AssignmentRule {
  std::vector<std::string> keywords;    // any case; longer than 32 bytes: left out
  std::vector<std::string> qualifiers;  // empty: a name rule
  std::size_t value_length = 0;         // 0: 16 value bytes or more
};

struct AssignmentMatch {
  std::size_t rule = 0;        // index in the finder's rules
  std::size_t from = 0;        // where the keyword (or qualifier) starts
  std::size_t value_from = 0;  // where the value starts
  std::size_t to = 0;          // one past the value's end
};

class AssignmentFinder {
 public:
  explicit AssignmentFinder(std::vector<AssignmentRule> rules);

  // How the signs are found: the best pass the CPU has, or a given one
  // (tests compare them; a pass the CPU lacks falls back to the portable).
  enum class Pass { kBest, kAvx512, kAvx2, kPortable };
  static bool Supported(Pass pass);

  // Appends the matches in `text`, in the order of their signs, at most
  // `limit` in all.
  void Find(std::string_view text, std::vector<AssignmentMatch>* out, std::size_t limit = 100'000,
            Pass pass = Pass::kBest) const;

  static constexpr std::size_t kMaxNameGap = 20;  // bytes between keyword and sign
  static constexpr std::size_t kMaxValueGap = 6;  // blanks after the sign
  static constexpr std::size_t kMinValue = 16;    // value bytes
  static constexpr std::size_t kMaxKeyword = 32;

 private:
  struct Rule {
    std::vector<std::string> keywords, qualifiers;  // lower case
    std::size_t value_length = 0;
    std::size_t longest = 0;  // keyword
  };
  // Where the keyword (or qualifier) starts when the key before the sign
  // at `sign` satisfies the rule; npos otherwise.
  std::size_t KeyStart(const Rule& r, std::string_view text, std::size_t sign) const;
  std::vector<Rule> rules_;
};

}  // namespace ps::security
