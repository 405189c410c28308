// .gitignore rules, as git reads them: patterns from each .gitignore apply to
// its folder's subtree, later rules win, '!' re-includes, a trailing '/'
// matches folders only, a '/' elsewhere anchors the pattern to the file's
// folder, '*' and '?' stay within one path segment, '**' crosses them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ps::stages::audit {

class IgnoreRules {
 public:
  // Adds the rules of the .gitignore found in `base` ("" for the root,
  // "a/b" otherwise, no trailing slash).
  void Add(const std::string& base, std::string_view content);
  // Whether `path` (relative to the root, '/'-separated) is ignored.
  bool Ignored(std::string_view path, bool is_dir) const;
  std::size_t size() const { return rules_.size(); }

 private:
  struct Rule {
    std::string base;     // folder of the .gitignore
    std::string pattern;  // without leading '!' and trailing '/'
    bool negate = false;
    bool dir_only = false;
    bool anchored = false;  // contains a '/' before its end: relative to base
  };
  std::vector<Rule> rules_;
};

// Glob matching with git's wildmatch rules ('*', '?', '[...]', '**').
// Linear in |pattern| x |text| whatever the pattern.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace ps::stages::audit
