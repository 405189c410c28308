#include "stages/audit/gitignore.h"

namespace ps::stages::audit {

namespace {

// Matches one bracket expression at pattern[pi] against c; sets `end` past it.
bool MatchClass(std::string_view p, std::size_t pi, char c, std::size_t* end) {
  std::size_t i = pi + 1;
  bool negate = false;
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < p.size() && (first || p[i] != ']')) {
    first = false;
    char lo = p[i];
    if (lo == '\\' && i + 1 < p.size()) lo = p[++i];
    char hi = lo;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = p[i + 2];
      i += 2;
    }
    if (c >= lo && c <= hi) matched = true;
    ++i;
  }
  if (i >= p.size()) {  // no closing ']': a literal '['
    *end = pi + 1;
    return c == '[';
  }
  *end = i + 1;
  return matched != negate;
}

}  // namespace

namespace {

// Memoised wildmatch: memo[i * (n + 1) + j] is 0 unknown, 1 match, 2 no match.
class Matcher {
 public:
  Matcher(std::string_view p, std::string_view t)
      : p_(p), t_(t), memo_((p.size() + 1) * (t.size() + 1), 0) {}

  bool Match(std::size_t i, std::size_t j) {
    auto& m = memo_[i * (t_.size() + 1) + j];
    if (m == 0) m = Compute(i, j) ? 1 : 2;
    return m == 1;
  }

 private:
  bool Compute(std::size_t i, std::size_t j) {
    const std::size_t n = t_.size();
    if (i == p_.size()) return j == n;
    if (p_[i] == '*') {
      if (i + 1 < p_.size() && p_[i + 1] == '*') {
        const std::size_t k = i + 2;
        if (k < p_.size() && p_[k] == '/' && (i == 0 || p_[i - 1] == '/')) {
          // "**/": zero or more whole folders.
          if (Match(k + 1, j)) return true;
          for (std::size_t jj = j; jj < n; ++jj) {
            if (t_[jj] == '/' && Match(k + 1, jj + 1)) return true;
          }
          return false;
        }
        for (std::size_t jj = j; jj <= n; ++jj) {
          if (Match(k, jj)) return true;
        }
        return false;
      }
      for (std::size_t jj = j;; ++jj) {
        if (Match(i + 1, jj)) return true;
        if (jj == n || t_[jj] == '/') return false;
      }
    }
    if (j == n) return false;
    const char c = t_[j];
    if (p_[i] == '?') return c != '/' && Match(i + 1, j + 1);
    if (p_[i] == '[') {
      std::size_t end = i + 1;
      const bool ok = MatchClass(p_, i, c, &end);
      return c != '/' && ok && Match(end, j + 1);
    }
    if (p_[i] == '\\' && i + 1 < p_.size()) return c == p_[i + 1] && Match(i + 2, j + 1);
    return c == p_[i] && Match(i + 1, j + 1);
  }

  std::string_view p_, t_;
  std::vector<char> memo_;
};

}  // namespace

bool GlobMatch(std::string_view p, std::string_view t) {
  if (p.size() > 1024 || t.size() > 4096) return false;  // no real rule or path is this long
  return Matcher(p, t).Match(0, 0);
}

void IgnoreRules::Add(const std::string& base, std::string_view content) {
  std::size_t pos = 0;
  while (pos <= content.size()) {
    std::size_t eol = content.find('\n', pos);
    if (eol == std::string_view::npos) eol = content.size();
    std::string line(content.substr(pos, eol - pos));
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Trailing spaces are ignored unless escaped.
    while (!line.empty() && line.back() == ' ' &&
           !(line.size() >= 2 && line[line.size() - 2] == '\\')) {
      line.pop_back();
    }
    if (line.empty() || line[0] == '#') continue;
    Rule r;
    r.base = base;
    if (line[0] == '!') {
      r.negate = true;
      line.erase(0, 1);
    } else if (line[0] == '\\' && line.size() > 1 && (line[1] == '#' || line[1] == '!')) {
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') {
      r.dir_only = true;
      line.pop_back();
    }
    if (line.empty()) continue;
    r.anchored = line.find('/') != std::string::npos;
    if (line[0] == '/') line.erase(0, 1);
    r.pattern = line;
    rules_.push_back(std::move(r));
    if (pos > content.size()) break;
  }
}

bool IgnoreRules::Ignored(std::string_view path, bool is_dir) const {
  bool ignored = false;
  for (const auto& r : rules_) {
    std::string_view rel = path;
    if (!r.base.empty()) {
      if (path.size() <= r.base.size() || path.substr(0, r.base.size()) != r.base ||
          path[r.base.size()] != '/') {
        continue;
      }
      rel = path.substr(r.base.size() + 1);
    }
    if (r.dir_only && !is_dir) continue;
    bool match;
    if (r.anchored) {
      match = GlobMatch(r.pattern, rel);
    } else {
      auto slash = rel.rfind('/');
      match = GlobMatch(r.pattern, slash == std::string_view::npos ? rel : rel.substr(slash + 1));
    }
    if (match) ignored = !r.negate;
  }
  return ignored;
}

}  // namespace ps::stages::audit
