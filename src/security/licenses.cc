#include "security/licenses.h"

#include <algorithm>
#include <cctype>

namespace ps::security {
namespace {

std::string Squash(std::string_view text) {
  // Lower case, runs of whitespace and punctuation as one space.
  std::string out;
  out.reserve(std::min<std::size_t>(text.size(), 64 * 1024));
  bool space = false;
  for (std::size_t i = 0; i < text.size() && out.size() < 64 * 1024; ++i) {
    const auto ch = static_cast<unsigned char>(text[i]);
    if (std::isalnum(ch)) {
      if (space && !out.empty()) out += ' ';
      space = false;
      out += static_cast<char>(std::tolower(ch));
    } else {
      space = true;
    }
  }
  return out;
}

bool Has(const std::string& s, std::string_view needle) {
  return s.find(needle) != std::string::npos;
}

}  // namespace

std::string IdentifyLicenseText(std::string_view text) {
  const std::string t = Squash(text);
  const bool later =
      Has(t, "or at your option any later version") || Has(t, "or any later version");
  auto gpl = [&](const char* base) { return std::string(base) + (later ? "-or-later" : "-only"); };
  if (Has(t, "gnu affero general public license")) return gpl("AGPL-3.0");
  if (Has(t, "gnu lesser general public license")) {
    return gpl(Has(t, "version 2 1") ? "LGPL-2.1" : "LGPL-3.0");
  }
  if (Has(t, "gnu library general public license")) return gpl("LGPL-2.0");
  if (Has(t, "gnu general public license")) {
    return gpl(Has(t, "version 3 29 june 2007") || Has(t, "version 3") ? "GPL-3.0" : "GPL-2.0");
  }
  if (Has(t, "mozilla public license version 2 0") || Has(t, "mozilla public license 2 0"))
    return "MPL-2.0";
  if (Has(t, "eclipse public license v 2 0") || Has(t, "eclipse public license version 2 0")) {
    return "EPL-2.0";
  }
  if (Has(t, "apache license") && Has(t, "version 2 0")) return "Apache-2.0";
  if (Has(t, "boost software license version 1 0")) return "BSL-1.0";
  if (Has(t, "this is free and unencumbered software released into the public domain")) {
    return "Unlicense";
  }
  if (Has(t, "creative commons legal code") && Has(t, "cc0 1 0")) return "CC0-1.0";
  if (Has(t, "permission is hereby granted free of charge to any person obtaining a copy")) {
    return "MIT";
  }
  if (Has(t, "permission to use copy modify and or distribute this software for any purpose")) {
    // ISC requires the notice; 0BSD drops that condition.
    return Has(t, "provided that the above copyright notice and this permission notice appear")
               ? "ISC"
               : "0BSD";
  }
  if (Has(t, "redistribution and use in source and binary forms with or without modification")) {
    if (Has(t, "neither the name of") ||
        Has(t, "names of its contributors may be used to endorse")) {
      return "BSD-3-Clause";
    }
    return "BSD-2-Clause";
  }
  return "";
}

namespace {

// Recursive descent over: expr := term (OR term)*; term := factor (AND
// factor)*; factor := '(' expr ')' | id [WITH id].
class ExprParser {
 public:
  explicit ExprParser(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
      if (s[i] == ' ' || s[i] == '\t') {
        ++i;
      } else if (s[i] == '(' || s[i] == ')') {
        tokens_.emplace_back(1, s[i++]);
      } else {
        const std::size_t b = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '(' && s[i] != ')') ++i;
        tokens_.emplace_back(s.substr(b, i - b));
      }
    }
  }
  bool Parse(std::vector<std::set<std::string>>& out) {
    if (!Expr(out, 0) || pos_ != tokens_.size()) return false;
    return true;
  }

 private:
  bool Expr(std::vector<std::set<std::string>>& out, int depth) {
    if (!Term(out, depth)) return false;
    while (Peek("OR") || Peek("or")) {
      ++pos_;
      std::vector<std::set<std::string>> rhs;
      if (!Term(rhs, depth)) return false;
      out.insert(out.end(), rhs.begin(), rhs.end());
    }
    return true;
  }
  bool Term(std::vector<std::set<std::string>>& out, int depth) {
    if (!Factor(out, depth)) return false;
    while (Peek("AND") || Peek("and")) {
      ++pos_;
      std::vector<std::set<std::string>> rhs;
      if (!Factor(rhs, depth)) return false;
      std::vector<std::set<std::string>> product;
      for (const auto& a : out) {
        for (const auto& b : rhs) {
          auto u = a;
          u.insert(b.begin(), b.end());
          product.push_back(std::move(u));
          if (product.size() > 256) return false;
        }
      }
      out = std::move(product);
    }
    return true;
  }
  bool Factor(std::vector<std::set<std::string>>& out, int depth) {
    if (depth > 32 || pos_ >= tokens_.size()) return false;
    if (tokens_[pos_] == "(") {
      ++pos_;
      if (!Expr(out, depth + 1) || !Peek(")")) return false;
      ++pos_;
      return true;
    }
    std::string id = tokens_[pos_];
    if (id == ")" || id == "AND" || id == "OR" || id == "WITH") return false;
    ++pos_;
    if (Peek("WITH") || Peek("with")) {
      ++pos_;
      if (pos_ >= tokens_.size() || tokens_[pos_] == "(" || tokens_[pos_] == ")") return false;
      id += " WITH " + tokens_[pos_++];
    }
    out = {{id}};
    return true;
  }
  bool Peek(std::string_view t) const { return pos_ < tokens_.size() && tokens_[pos_] == t; }
  std::vector<std::string> tokens_;
  std::size_t pos_ = 0;
};

bool Matches(const std::string& license, const std::vector<std::string>& list) {
  // "GPL-2.0-only WITH Classpath-exception-2.0" matches "GPL-2.0-only" too.
  const std::string base = license.substr(0, license.find(" WITH "));
  for (const auto& entry : list) {
    if (entry.empty()) continue;
    if (entry.back() == '*') {
      const std::string_view prefix(entry.data(), entry.size() - 1);
      if (std::string_view(license).substr(0, prefix.size()) == prefix) return true;
    } else if (entry == license || entry == base) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<std::set<std::string>> LicenseChoices(std::string_view expression) {
  std::vector<std::set<std::string>> out;
  ExprParser p(expression);
  if (!p.Parse(out)) return {};
  return out;
}

Json LicenseFinding::ToJson() const {
  return {{"purl", purl},
          {"package", name},
          {"version", version},
          {"license", license},
          {"verdict", verdict},
          {"direct", direct},
          {"dev", dev},
          {"sources", sources},
          {"remediation", "Replace " + name +
                              " with a dependency under an accepted license, or change "
                              "policy.security.licenses after a legal review."}};
}

std::vector<LicenseFinding> CheckLicenses(const DependencyGraph& graph,
                                          const LicensePolicy& policy) {
  std::vector<LicenseFinding> out;
  if (policy.allow.empty() && policy.deny.empty()) return out;
  for (const auto& c : graph.components) {
    if (c.licenses.empty()) continue;
    // Several declared licenses are alternatives (Composer's list).
    std::vector<std::set<std::string>> choices;
    std::string expr;
    for (const auto& l : c.licenses) {
      auto ch = LicenseChoices(l);
      if (ch.empty()) ch = {{l}};  // free text: judged as written
      choices.insert(choices.end(), ch.begin(), ch.end());
      expr += (expr.empty() ? "" : " OR ") + l;
    }
    auto acceptable = [&](const std::set<std::string>& choice) {
      for (const auto& l : choice) {
        if (Matches(l, policy.deny)) return false;
        if (!policy.allow.empty() && !Matches(l, policy.allow)) return false;
      }
      return true;
    };
    if (std::any_of(choices.begin(), choices.end(), acceptable)) continue;
    const bool denied = std::all_of(choices.begin(), choices.end(), [&](const auto& choice) {
      return std::any_of(choice.begin(), choice.end(),
                         [&](const std::string& l) { return Matches(l, policy.deny); });
    });
    LicenseFinding f;
    f.purl = c.purl;
    f.name = c.name;
    f.version = c.version;
    f.license = expr;
    f.verdict = denied ? "denied" : "not-allowed";
    f.direct = c.direct;
    f.dev = c.dev;
    f.sources.assign(c.sources.begin(), c.sources.end());
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace ps::security
