#include "stages/audit/gitignore.h"

#include <algorithm>
#include <cctype>

namespace ps::stages::audit {

namespace {

bool HasSpecial(std::string_view s) { return s.find_first_of("*?[\\") != std::string_view::npos; }

// dst = src << n (bits move towards the more significant end).
void ShiftLeft(const std::uint64_t* src, std::uint64_t* dst, std::size_t words, unsigned n) {
  for (std::size_t w = words; w-- > 0;) {
    std::uint64_t v = src[w] << n;
    if (w > 0) v |= src[w - 1] >> (64 - n);
    dst[w] = v;
  }
}

}  // namespace

Glob::Glob(std::string_view p) {
  if (p.size() > 1024) {
    too_long_ = true;
    return;
  }
  // The common shapes first: a plain name, "*.ext", "prefix*".
  if (!HasSpecial(p)) {
    kind_ = Kind::kLiteral;
    literal_ = p;
    return;
  }
  if (p.size() > 1 && p[0] == '*' && !HasSpecial(p.substr(1))) {
    kind_ = Kind::kSuffix;
    literal_ = p.substr(1);
    return;
  }
  if (p.size() > 1 && p.back() == '*' && !HasSpecial(p.substr(0, p.size() - 1))) {
    kind_ = Kind::kPrefix;
    literal_ = p.substr(0, p.size() - 1);
    return;
  }
  // The elements: a set of bytes (a character, '?', a class), '*', '**' or
  // "**/" (then a '/' element).
  enum class E { kSet, kStar, kAny, kDirStar };
  struct Element {
    E type;
    std::vector<bool> set;  // kSet: 256
  };
  std::vector<Element> el;
  auto set_of = [](auto&& accepts) {
    std::vector<bool> s(256);
    for (int c = 0; c < 256; ++c) s[c] = c != '/' && accepts(static_cast<unsigned char>(c));
    return s;
  };
  std::size_t i = 0;
  while (i < p.size()) {
    const char c = p[i];
    if (c == '*') {
      std::size_t run = 1;
      while (i + run < p.size() && p[i + run] == '*') ++run;
      // As git's wildmatch: "**" crosses folders only as a whole segment
      // ("**/x", "a/**/x", "a/**", "**"); elsewhere it is a '*'.
      const bool segment_start = i == 0 || p[i - 1] == '/';
      if (run > 1 && segment_start && i + run < p.size() && p[i + run] == '/') {
        el.push_back({E::kDirStar, {}});
      } else if (run > 1 && segment_start && i + run == p.size()) {
        el.push_back({E::kAny, {}});
      } else {
        el.push_back({E::kStar, {}});
      }
      i += run;
      continue;
    }
    if (c == '?') {
      el.push_back({E::kSet, set_of([](unsigned char) { return true; })});
      ++i;
      continue;
    }
    if (c == '[') {
      // A bracket expression, as git's wildmatch reads it: ranges, escapes,
      // POSIX classes ("[[:alpha:]]"); without its closing ']' the pattern
      // matches nothing.
      std::size_t k = i + 1;
      bool negate = false;
      if (k < p.size() && (p[k] == '!' || p[k] == '^')) {
        negate = true;
        ++k;
      }
      std::vector<bool> in(256);
      bool first = true, bad = false;
      while (k < p.size() && (first || p[k] != ']')) {
        first = false;
        if (p[k] == '[' && k + 1 < p.size() && p[k + 1] == ':') {
          const std::size_t end = p.find(":]", k + 2);
          if (end == std::string_view::npos) {
            bad = true;
            break;
          }
          const std::string_view name = p.substr(k + 2, end - k - 2);
          int (*test)(int) = name == "alnum"    ? ::isalnum
                             : name == "alpha"  ? ::isalpha
                             : name == "blank"  ? ::isblank
                             : name == "cntrl"  ? ::iscntrl
                             : name == "digit"  ? ::isdigit
                             : name == "graph"  ? ::isgraph
                             : name == "lower"  ? ::islower
                             : name == "print"  ? ::isprint
                             : name == "punct"  ? ::ispunct
                             : name == "space"  ? ::isspace
                             : name == "upper"  ? ::isupper
                             : name == "xdigit" ? ::isxdigit
                                                : nullptr;
          if (!test) {  // an unknown class: git's pattern matches nothing
            bad = true;
            break;
          }
          for (int b = 0; b < 128; ++b) in[b] = in[b] || test(b) != 0;
          k = end + 2;
          continue;
        }
        unsigned char lo = static_cast<unsigned char>(p[k]);
        if (lo == '\\' && k + 1 < p.size()) lo = static_cast<unsigned char>(p[++k]);
        unsigned char hi = lo;
        if (k + 2 < p.size() && p[k + 1] == '-' && p[k + 2] != ']') {
          k += 2;
          hi = static_cast<unsigned char>(p[k]);
          if (hi == '\\' && k + 1 < p.size()) hi = static_cast<unsigned char>(p[++k]);
        }
        for (int b = lo; b <= hi; ++b) in[b] = true;
        ++k;
      }
      if (bad || k >= p.size()) {
        too_long_ = true;  // matches nothing
        return;
      }
      el.push_back({E::kSet, set_of([&](unsigned char b) { return in[b] != negate; })});
      i = k + 1;
      continue;
    }
    char lit = c;
    if (c == '\\' && i + 1 < p.size()) lit = p[++i];
    std::vector<bool> s(256);
    s[static_cast<unsigned char>(lit)] = true;
    el.push_back({E::kSet, std::move(s)});
    ++i;
  }
  elements_ = el.size();
  words_ = (elements_ + 1 + 63) / 64;
  accepts_.assign(256 * words_, 0);
  any_.assign(words_, 0);
  star_.assign(words_, 0);
  skip1_.assign(words_, 0);
  skip2_.assign(words_, 0);
  for (std::size_t k = 0; k < el.size(); ++k) {
    const std::uint64_t bit = std::uint64_t{1} << (k % 64);
    const std::size_t w = k / 64;
    switch (el[k].type) {
      case E::kSet:
        for (int b = 0; b < 256; ++b) {
          if (el[k].set[b]) accepts_[b * words_ + w] |= bit;
        }
        break;
      case E::kStar:
        star_[w] |= bit;
        skip1_[w] |= bit;
        break;
      case E::kAny:
        any_[w] |= bit;
        skip1_[w] |= bit;
        break;
      case E::kDirStar:
        any_[w] |= bit;
        skip1_[w] |= bit;  // onto its '/' after some folders
        skip2_[w] |= bit;  // or no folder at all
        break;
    }
  }
}

bool Glob::Match(std::string_view t, std::uint64_t* work) const {
  if (too_long_ || t.size() > 4096) return false;  // no real rule or path is this long
  switch (kind_) {
    case Kind::kLiteral:
      if (work) *work += 1;
      return t == literal_;
    case Kind::kSuffix:
      if (work) *work += literal_.size() + 1;
      return t.size() >= literal_.size() && t.substr(t.size() - literal_.size()) == literal_ &&
             t.substr(0, t.size() - literal_.size()).find('/') == std::string_view::npos;
    case Kind::kPrefix:
      if (work) *work += literal_.size() + 1;
      return t.size() >= literal_.size() && t.substr(0, literal_.size()) == literal_ &&
             t.substr(literal_.size()).find('/') == std::string_view::npos;
    case Kind::kGeneral:
      break;
  }
  const std::size_t n = words_;
  // Small patterns (nearly all) stay on the stack.
  std::uint64_t stack[5 * 8];
  std::vector<std::uint64_t> heap;
  std::uint64_t* buf = stack;
  if (n > 8) {
    heap.resize(5 * n);
    buf = heap.data();
  }
  std::uint64_t* d = buf;
  std::uint64_t* next = buf + n;
  std::uint64_t* t1 = buf + 2 * n;
  std::uint64_t* t2 = buf + 3 * n;
  std::uint64_t* stay = buf + 4 * n;
  std::fill(d, d + n, 0);
  d[0] = 1;
  // Every state reachable without reading, through the elements that may
  // match nothing. "**/" may be skipped whole (skip2) only when just
  // entered: once it has read something it must end with its '/'. Each
  // round is counted: a chain of k "**/" takes up to k rounds.
  auto close = [&](std::uint64_t* x, bool entered) {
    while (true) {
      if (work) *work += n;
      for (std::size_t w = 0; w < n; ++w) {
        t1[w] = x[w] & skip1_[w];
        t2[w] = entered ? x[w] & skip2_[w] : 0;
      }
      ShiftLeft(t1, t1, n, 1);
      ShiftLeft(t2, t2, n, 2);
      bool changed = false;
      for (std::size_t w = 0; w < n; ++w) {
        const std::uint64_t v = x[w] | t1[w] | t2[w];
        changed = changed || v != x[w];
        x[w] = v;
      }
      if (!changed) return;
    }
  };
  close(d, true);
  for (const char ch : t) {
    const auto b = static_cast<unsigned char>(ch);
    const std::uint64_t* acc = &accepts_[b * n];
    for (std::size_t w = 0; w < n; ++w) t1[w] = d[w] & acc[w];
    ShiftLeft(t1, next, n, 1);  // entered by reading a byte
    close(next, true);
    bool alive = false;
    for (std::size_t w = 0; w < n; ++w) {
      stay[w] = (d[w] & any_[w]) | (b != '/' ? d[w] & star_[w] : 0);
      alive = alive || next[w] != 0 || stay[w] != 0;
    }
    if (work) *work += n;
    if (!alive) return false;
    close(stay, false);
    for (std::size_t w = 0; w < n; ++w) next[w] |= stay[w];
    std::swap(d, next);
  }
  return (d[elements_ / 64] >> (elements_ % 64)) & 1;
}

bool GlobMatch(std::string_view p, std::string_view t) { return Glob(p).Match(t); }

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
    Rule r{base, Glob(""), false, false, false};
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
    r.glob = Glob(line);
    bytes_ += r.glob.Bytes() + r.base.size();
    if (bytes_ > memory_limit_) {
      full_ = true;
      return;
    }
    rules_.push_back(std::move(r));
    if (pos > content.size()) break;
  }
}

bool IgnoreRules::Ignored(std::string_view path, bool is_dir) const {
  // The last rule that matches decides: read from the end, stop at it.
  for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
    const Rule& r = *it;
    if (++work_ > limit_) return false;
    std::string_view rel = path;
    if (!r.base.empty()) {
      if (path.size() <= r.base.size() || path.substr(0, r.base.size()) != r.base ||
          path[r.base.size()] != '/') {
        continue;
      }
      rel = path.substr(r.base.size() + 1);
    }
    if (r.dir_only && !is_dir) continue;
    if (!r.anchored) {
      auto slash = rel.rfind('/');
      if (slash != std::string_view::npos) rel = rel.substr(slash + 1);
    }
    if (r.glob.Match(rel, &work_)) return !r.negate;
  }
  return false;
}

}  // namespace ps::stages::audit
