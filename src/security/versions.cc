#include "security/versions.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <vector>

namespace ps::security {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = Lower(c);
  return out;
}

// Compares two runs of digits as numbers of any length (no overflow).
int CompareDigits(std::string_view a, std::string_view b) {
  while (a.size() > 1 && a.front() == '0') a.remove_prefix(1);
  while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int Sign(int x) { return x < 0 ? -1 : (x > 0 ? 1 : 0); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Natural order: runs of digits compare as numbers, other runs as text,
// separators ignored; a version that is a prefix of the other sorts first.
int NaturalCompare(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  while (true) {
    while (i < a.size() && !IsDigit(a[i]) && !IsAlpha(a[i])) ++i;
    while (j < b.size() && !IsDigit(b[j]) && !IsAlpha(b[j])) ++j;
    if (i >= a.size() || j >= b.size()) break;
    const bool da = IsDigit(a[i]), db = IsDigit(b[j]);
    std::size_t ei = i, ej = j;
    while (ei < a.size() && (da ? IsDigit(a[ei]) : IsAlpha(a[ei]))) ++ei;
    while (ej < b.size() && (db ? IsDigit(b[ej]) : IsAlpha(b[ej]))) ++ej;
    int c;
    if (da && db) {
      c = CompareDigits(a.substr(i, ei - i), b.substr(j, ej - j));
    } else if (da != db) {
      c = da ? 1 : -1;  // a number sorts after text (1.0.1 > 1.0.beta)
    } else {
      c = Sign(LowerCopy(a.substr(i, ei - i)).compare(LowerCopy(b.substr(j, ej - j))));
    }
    if (c != 0) return c;
    i = ei, j = ej;
  }
  const bool ra = i < a.size(), rb = j < b.size();
  if (ra == rb) return 0;
  return ra ? 1 : -1;
}

// --- SemVer (npm, Cargo, Hex, Pub), Go, NuGet -----------------------------

struct SemVer {
  std::vector<std::string_view> core;  // digits
  std::vector<std::string_view> pre;   // identifiers
};

std::optional<SemVer> ParseSemVer(std::string_view v, std::size_t max_core) {
  v = Trim(v);
  if (!v.empty() && (v.front() == 'v' || v.front() == 'V' || v.front() == '=')) v.remove_prefix(1);
  if (const auto plus = v.find('+'); plus != std::string_view::npos) v = v.substr(0, plus);
  SemVer out;
  std::string_view core = v, pre;
  if (const auto dash = v.find('-'); dash != std::string_view::npos) {
    core = v.substr(0, dash);
    pre = v.substr(dash + 1);
    if (pre.empty()) return std::nullopt;
  }
  std::size_t start = 0;
  while (true) {
    const auto dot = core.find('.', start);
    const auto part = core.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty() || !std::all_of(part.begin(), part.end(), IsDigit)) return std::nullopt;
    out.core.push_back(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (out.core.size() > max_core) return std::nullopt;
  start = 0;
  while (!pre.empty()) {
    const auto dot = pre.find('.', start);
    const auto id = pre.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (id.empty()) return std::nullopt;
    out.pre.push_back(id);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

int CompareSemVer(const SemVer& a, const SemVer& b, bool case_insensitive) {
  const std::size_t n = std::max(a.core.size(), b.core.size());
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view x = i < a.core.size() ? a.core[i] : "0";
    const std::string_view y = i < b.core.size() ? b.core[i] : "0";
    if (int c = CompareDigits(x, y)) return c;
  }
  // A pre-release sorts before its release.
  if (a.pre.empty() != b.pre.empty()) return a.pre.empty() ? 1 : -1;
  for (std::size_t i = 0; i < std::min(a.pre.size(), b.pre.size()); ++i) {
    const auto& x = a.pre[i];
    const auto& y = b.pre[i];
    const bool nx = std::all_of(x.begin(), x.end(), IsDigit);
    const bool ny = std::all_of(y.begin(), y.end(), IsDigit);
    int c;
    if (nx && ny) {
      c = CompareDigits(x, y);
    } else if (nx != ny) {
      c = nx ? -1 : 1;  // numeric identifiers sort before alphanumeric ones
    } else {
      c = case_insensitive ? Sign(LowerCopy(x).compare(LowerCopy(y))) : Sign(x.compare(y));
    }
    if (c) return c;
  }
  if (a.pre.size() != b.pre.size()) return a.pre.size() < b.pre.size() ? -1 : 1;
  return 0;
}

// --- PEP 440 (PyPI) --------------------------------------------------------

struct Pep440 {
  std::string epoch = "0";
  std::vector<std::string> release;
  // Pre-release: phase 0 a, 1 b, 2 rc; -1 none.
  int pre_phase = -1;
  std::string pre_n = "0";
  bool post = false;
  std::string post_n = "0";
  bool dev = false;
  std::string dev_n = "0";
};

std::optional<Pep440> ParsePep440(std::string_view raw) {
  const std::string s = LowerCopy(Trim(raw));
  std::string_view v = s;
  if (!v.empty() && v.front() == 'v') v.remove_prefix(1);
  if (const auto plus = v.find('+'); plus != std::string_view::npos) v = v.substr(0, plus);
  Pep440 out;
  std::size_t i = 0;
  auto digits = [&]() {
    const std::size_t b = i;
    while (i < v.size() && IsDigit(v[i])) ++i;
    return std::string(v.substr(b, i - b));
  };
  auto sep = [&]() {
    if (i < v.size() && (v[i] == '.' || v[i] == '-' || v[i] == '_')) ++i;
  };
  auto word = [&](std::initializer_list<std::string_view> words) -> std::string_view {
    for (auto w : words) {
      if (v.substr(i, w.size()) == w) {
        i += w.size();
        return w;
      }
    }
    return {};
  };
  std::string first = digits();
  if (first.empty()) return std::nullopt;
  if (i < v.size() && v[i] == '!') {
    out.epoch = first;
    ++i;
    first = digits();
    if (first.empty()) return std::nullopt;
  }
  out.release.push_back(first);
  while (i + 1 < v.size() && v[i] == '.' && IsDigit(v[i + 1])) {
    ++i;
    out.release.push_back(digits());
  }
  // Pre-release.
  {
    const std::size_t save = i;
    sep();
    const auto w = word({"alpha", "beta", "preview", "pre", "rc", "a", "b", "c"});
    if (!w.empty()) {
      out.pre_phase = (w == "alpha" || w == "a") ? 0 : (w == "beta" || w == "b") ? 1 : 2;
      sep();
      const auto n = digits();
      if (!n.empty()) out.pre_n = n;
    } else {
      i = save;
    }
  }
  // Post-release: "-1" or ".post1" / "rev" / "r".
  {
    const std::size_t save = i;
    if (i + 1 < v.size() && v[i] == '-' && IsDigit(v[i + 1])) {
      ++i;
      out.post = true;
      out.post_n = digits();
    } else {
      sep();
      const auto w = word({"post", "rev", "r"});
      if (!w.empty()) {
        out.post = true;
        sep();
        const auto n = digits();
        if (!n.empty()) out.post_n = n;
      } else {
        i = save;
      }
    }
  }
  {
    const std::size_t save = i;
    sep();
    if (!word({"dev"}).empty()) {
      out.dev = true;
      sep();
      const auto n = digits();
      if (!n.empty()) out.dev_n = n;
    } else {
      i = save;
    }
  }
  if (i != v.size()) return std::nullopt;
  while (out.release.size() > 1 && CompareDigits(out.release.back(), "0") == 0) {
    out.release.pop_back();
  }
  return out;
}

int ComparePep440(const Pep440& a, const Pep440& b) {
  if (int c = CompareDigits(a.epoch, b.epoch)) return c;
  const std::size_t n = std::max(a.release.size(), b.release.size());
  for (std::size_t i = 0; i < n; ++i) {
    const std::string x = i < a.release.size() ? a.release[i] : "0";
    const std::string y = i < b.release.size() ? b.release[i] : "0";
    if (int c = CompareDigits(x, y)) return c;
  }
  // Pre-release key: a bare dev release sorts before any pre-release of the
  // same version; no pre-release sorts after all of them.
  auto pre_rank = [](const Pep440& p) {
    if (p.pre_phase < 0 && !p.post && p.dev) return -1;
    if (p.pre_phase < 0) return 3;
    return p.pre_phase;
  };
  if (int c = pre_rank(a) - pre_rank(b)) return Sign(c);
  if (a.pre_phase >= 0 && b.pre_phase >= 0) {
    if (int c = CompareDigits(a.pre_n, b.pre_n)) return c;
  }
  if (a.post != b.post) return a.post ? 1 : -1;
  if (a.post) {
    if (int c = CompareDigits(a.post_n, b.post_n)) return c;
  }
  if (a.dev != b.dev) return a.dev ? -1 : 1;
  if (a.dev) return CompareDigits(a.dev_n, b.dev_n);
  return 0;
}

// --- Maven (ComparableVersion) ---------------------------------------------

struct MavenItem {
  bool number = false;
  std::string text;  // digits, or a lower-case qualifier
};

// alpha < beta < milestone < rc < snapshot < "" (release) < sp; others after.
int QualifierRank(const std::string& q) {
  if (q == "alpha" || q == "a") return 0;
  if (q == "beta" || q == "b") return 1;
  if (q == "milestone" || q == "m") return 2;
  if (q == "rc" || q == "cr") return 3;
  if (q == "snapshot") return 4;
  if (q.empty() || q == "ga" || q == "final" || q == "release") return 5;
  if (q == "sp") return 6;
  return 7;
}

int CompareQualifiers(const std::string& a, const std::string& b) {
  const int ra = QualifierRank(a), rb = QualifierRank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 7) return Sign(a.compare(b));
  return 0;
}

std::vector<MavenItem> ParseMaven(std::string_view v) {
  const std::string s = LowerCopy(Trim(v));
  std::vector<MavenItem> items;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '.' || s[i] == '-' || s[i] == '_') {
      ++i;
      continue;
    }
    const bool num = IsDigit(s[i]);
    const std::size_t b = i;
    while (i < s.size() && s[i] != '.' && s[i] != '-' && s[i] != '_' && IsDigit(s[i]) == num) ++i;
    std::string text = s.substr(b, i - b);
    // "a1", "b2", "m3" are shorthands only when a number follows directly.
    if (!num && text.size() == 1 && i < s.size() && IsDigit(s[i])) {
      text = text == "a" ? "alpha" : text == "b" ? "beta" : text == "m" ? "milestone" : text;
    }
    items.push_back({num, text});
  }
  // Trailing zeros and release qualifiers carry no weight (1.0 == 1 == 1.0.0-ga).
  while (!items.empty() && ((items.back().number && CompareDigits(items.back().text, "0") == 0) ||
                            (!items.back().number && QualifierRank(items.back().text) == 5))) {
    items.pop_back();
  }
  return items;
}

int CompareMaven(std::string_view a, std::string_view b) {
  const auto x = ParseMaven(a), y = ParseMaven(b);
  const std::size_t n = std::max(x.size(), y.size());
  for (std::size_t i = 0; i < n; ++i) {
    int c = 0;
    if (i >= x.size() || i >= y.size()) {
      // A missing item is 0 for a number and the release for a qualifier.
      const MavenItem& present = i < x.size() ? x[i] : y[i];
      const int side = i < x.size() ? 1 : -1;
      c = present.number ? (CompareDigits(present.text, "0") == 0 ? 0 : 1)
                         : CompareQualifiers(present.text, "");
      c *= side;
    } else if (x[i].number && y[i].number) {
      c = CompareDigits(x[i].text, y[i].text);
    } else if (x[i].number != y[i].number) {
      c = x[i].number ? 1 : -1;
    } else {
      c = CompareQualifiers(x[i].text, y[i].text);
    }
    if (c) return c;
  }
  return 0;
}

// --- RubyGems (Gem::Version) -----------------------------------------------

std::vector<std::string> RubySegments(std::string_view v) {
  std::vector<std::string> out;
  const std::string s(Trim(v));
  std::size_t i = 0;
  while (i < s.size()) {
    if (!IsDigit(s[i]) && !IsAlpha(s[i])) {
      ++i;
      continue;
    }
    const bool num = IsDigit(s[i]);
    const std::size_t b = i;
    while (i < s.size() && (num ? IsDigit(s[i]) : IsAlpha(s[i]))) ++i;
    out.push_back(s.substr(b, i - b));
  }
  // Canonical: zeros just before the first text segment, and at the end, go.
  auto first_text = std::find_if(out.begin(), out.end(),
                                 [](const std::string& x) { return !IsDigit(x.front()); });
  auto it = first_text;
  while (it != out.begin() && CompareDigits(*(it - 1), "0") == 0 && IsDigit((it - 1)->front())) {
    --it;
  }
  out.erase(it, first_text);
  while (!out.empty() && IsDigit(out.back().front()) && CompareDigits(out.back(), "0") == 0) {
    out.pop_back();
  }
  return out;
}

int CompareRuby(std::string_view a, std::string_view b) {
  const auto x = RubySegments(a), y = RubySegments(b);
  const std::size_t n = std::max(x.size(), y.size());
  for (std::size_t i = 0; i < n; ++i) {
    const std::string l = i < x.size() ? x[i] : "0";
    const std::string r = i < y.size() ? y[i] : "0";
    const bool ln = IsDigit(l.front()), rn = IsDigit(r.front());
    int c;
    if (ln && rn) {
      c = CompareDigits(l, r);
    } else if (ln != rn) {
      c = ln ? 1 : -1;  // a text segment marks a pre-release
    } else {
      c = Sign(l.compare(r));
    }
    if (c) return c;
  }
  return 0;
}

}  // namespace

VersionScheme SchemeOfEcosystem(std::string_view eco) {
  if (eco == "npm" || eco == "crates.io" || eco == "Hex" || eco == "Pub" || eco == "SemVer" ||
      eco == "Packagist") {
    return VersionScheme::kSemver;
  }
  if (eco == "Go") return VersionScheme::kGo;
  if (eco == "NuGet") return VersionScheme::kNuGet;
  if (eco == "PyPI") return VersionScheme::kPep440;
  if (eco == "Maven") return VersionScheme::kMaven;
  if (eco == "RubyGems") return VersionScheme::kRubyGems;
  return VersionScheme::kGeneric;
}

bool ValidVersion(VersionScheme scheme, std::string_view v) {
  switch (scheme) {
    case VersionScheme::kSemver:
    case VersionScheme::kGo:
      return ParseSemVer(v, 3).has_value();
    case VersionScheme::kNuGet:
      return ParseSemVer(v, 4).has_value();
    case VersionScheme::kPep440:
      return ParsePep440(v).has_value();
    case VersionScheme::kMaven:
    case VersionScheme::kRubyGems:
    case VersionScheme::kGeneric:
      return !Trim(v).empty() && std::any_of(v.begin(), v.end(), IsDigit);
  }
  return false;
}

int CompareVersions(VersionScheme scheme, std::string_view a, std::string_view b) {
  switch (scheme) {
    case VersionScheme::kSemver:
    case VersionScheme::kGo:
    case VersionScheme::kNuGet: {
      // Composer's "v1.2" and npm's "1.2" are lenient: up to four numbers.
      const std::size_t max_core = scheme == VersionScheme::kGo ? 3 : 4;
      auto x = ParseSemVer(a, max_core), y = ParseSemVer(b, max_core);
      if (x && y) return CompareSemVer(*x, *y, scheme == VersionScheme::kNuGet);
      break;
    }
    case VersionScheme::kPep440: {
      auto x = ParsePep440(a), y = ParsePep440(b);
      if (x && y) return ComparePep440(*x, *y);
      break;
    }
    case VersionScheme::kMaven:
      return CompareMaven(a, b);
    case VersionScheme::kRubyGems:
      return CompareRuby(a, b);
    case VersionScheme::kGeneric:
      break;
  }
  return NaturalCompare(a, b);
}

}  // namespace ps::security
