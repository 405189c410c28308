// .gitignore rules, as git reads them: patterns from each .gitignore apply to
// its folder's subtree, later rules win, '!' re-includes, a trailing '/'
// matches folders only, a '/' elsewhere anchors the pattern to the file's
// folder, '*' and '?' stay within one path segment, '**' crosses them.
//
// A repository is untrusted input: each pattern is compiled once into a
// position automaton run bit-parallel, so matching is linear in the path
// (times the pattern's length / 64) whatever the pattern — no backtracking,
// no per-match allocation — and the common shapes (a name, "*.ext",
// "prefix*") take a string comparison. The work is counted, so a walk can
// bound it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ps::stages::audit {

// A glob compiled with git's wildmatch rules ('*', '?', '[...]', '**').
class Glob {
 public:
  explicit Glob(std::string_view pattern);
  // Adds the characters examined to `*work` when given.
  bool Match(std::string_view text, std::uint64_t* work = nullptr) const;
  // Memory the compiled pattern holds (bytes, about).
  std::size_t Bytes() const {
    return literal_.size() + (accepts_.size() + 4 * words_) * sizeof(std::uint64_t) + 64;
  }

 private:
  enum class Kind { kLiteral, kSuffix, kPrefix, kGeneral };
  Kind kind_ = Kind::kGeneral;
  std::string literal_;  // kLiteral, kSuffix ("*" + literal_), kPrefix (literal_ + "*")
  // kGeneral: element i of the pattern is a state bit; bit m (the number of
  // elements) is "matched". Words of 64 bits, least significant first.
  std::size_t elements_ = 0;
  std::size_t words_ = 0;
  std::vector<std::uint64_t> accepts_;  // [byte * words_ + w]: char elements taking byte
  std::vector<std::uint64_t> any_;      // '**' elements (any byte, '/' too): stay
  std::vector<std::uint64_t> star_;     // '*' elements (any byte but '/'): stay
  std::vector<std::uint64_t> skip1_;    // elements that may match nothing: on to the next
  std::vector<std::uint64_t> skip2_;    // "**/" (any then '/', or nothing): past the '/'
  bool too_long_ = false;               // no real rule is this long: matches nothing
};

class IgnoreRules {
 public:
  // Adds the rules of the .gitignore found in `base` ("" for the root,
  // "a/b" otherwise, no trailing slash).
  void Add(const std::string& base, std::string_view content);
  // Whether `path` (relative to the root, '/'-separated) is ignored.
  bool Ignored(std::string_view path, bool is_dir) const;
  std::size_t size() const { return rules_.size(); }
  // Characters examined by matching so far. Past `limit`, Ignored answers
  // false without matching (the caller sees work() > limit and says so).
  std::uint64_t work() const { return work_; }
  void SetWorkLimit(std::uint64_t limit) { limit_ = limit; }
  // Memory the compiled rules hold; Add stops adding (and full() turns
  // true) past `limit`: a 1 MB .gitignore of one-character patterns would
  // otherwise compile into a gigabyte.
  void SetMemoryLimit(std::size_t limit) { memory_limit_ = limit; }
  bool full() const { return full_; }

 private:
  struct Rule {
    std::string base;  // folder of the .gitignore
    Glob glob;
    bool negate = false;
    bool dir_only = false;
    bool anchored = false;  // contains a '/' before its end: relative to base
  };
  std::vector<Rule> rules_;
  mutable std::uint64_t work_ = 0;
  std::uint64_t limit_ = UINT64_MAX;
  std::size_t bytes_ = 0, memory_limit_ = SIZE_MAX;
  bool full_ = false;
};

// Glob matching with git's wildmatch rules (compiles `pattern` each call).
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace ps::stages::audit
