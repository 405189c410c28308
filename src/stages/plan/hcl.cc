#include "stages/plan/hcl.h"

#include <cctype>
#include <sstream>
#include <vector>

namespace ps::stages::plan::hcl {

std::string Str(const std::string& s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if ((c == '$' || c == '%') && i + 1 < s.size() && s[i + 1] == '{') {
      out += c;
      out += c;  // $${ and %%{ are literal
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Name(const std::string& s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '_';
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "s_" + out;
  return out;
}

namespace {

// Net bracket depth a line opens, ignoring brackets inside strings.
int Depth(const std::string& s) {
  int d = 0;
  bool in_str = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_str) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_str = false;
      }
      continue;
    }
    if (c == '"') in_str = true;
    if (c == '#') break;
    if (c == '{' || c == '[' || c == '(') ++d;
    if (c == '}' || c == ']' || c == ')') --d;
  }
  return d;
}

struct Attr {
  bool ok = false;
  std::size_t indent = 0;
  std::string key, value;
};

// `  key = value` on one line (the value closes every bracket it opens).
Attr ParseAttr(const std::string& line) {
  Attr a;
  std::size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  a.indent = i;
  std::size_t k = i;
  if (k < line.size() && line[k] == '"') {
    auto close = line.find('"', k + 1);
    if (close == std::string::npos) return a;
    k = close + 1;
  } else {
    while (k < line.size() && (std::isalnum(static_cast<unsigned char>(line[k])) ||
                               line[k] == '_' || line[k] == '-')) {
      ++k;
    }
  }
  if (k == i) return a;
  std::size_t e = k;
  while (e < line.size() && line[e] == ' ') ++e;
  if (e >= line.size() || line[e] != '=' || (e + 1 < line.size() && line[e + 1] == '=')) return a;
  std::size_t v = e + 1;
  while (v < line.size() && line[v] == ' ') ++v;
  a.key = line.substr(i, k - i);
  a.value = line.substr(v);
  a.ok = Depth(a.value) == 0;
  return a;
}

}  // namespace

std::string Format(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    while (!l.empty() && l.back() == ' ') l.pop_back();
    lines.push_back(l);
  }
  std::string out;
  std::size_t i = 0;
  while (i < lines.size()) {
    Attr a = ParseAttr(lines[i]);
    if (!a.ok) {
      out += lines[i] + "\n";
      ++i;
      continue;
    }
    // A run of one-line attributes at the same indent: '=' aligned.
    std::vector<Attr> run{a};
    std::size_t j = i + 1;
    while (j < lines.size()) {
      Attr b = ParseAttr(lines[j]);
      if (!b.ok || b.indent != a.indent) break;
      run.push_back(b);
      ++j;
    }
    std::size_t width = 0;
    for (const auto& r : run) width = std::max(width, r.key.size());
    for (const auto& r : run) {
      out += std::string(r.indent, ' ') + r.key + std::string(width - r.key.size(), ' ') + " = " +
             r.value + "\n";
    }
    i = j;
  }
  // One trailing newline, no blank lines at the end.
  while (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n')
    out.pop_back();
  return out;
}

}  // namespace ps::stages::plan::hcl
