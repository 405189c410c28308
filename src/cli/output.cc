#include "cli/output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace ps::cli {

int ExitCodeFor(const Problem& p) {
  auto slug = p.Slug();
  if (slug == "invalid-input" || slug == "invalid-config" || slug == "usage") return kExitUsage;
  if (slug == "not-found") return kExitNotFound;
  if (slug.substr(0, 6) == "store-") return kExitStore;
  if (slug == "conflict" || slug == "lease-lost" || slug == "ambiguous" ||
      slug == "environment-busy" || slug == "release-in-progress" ||
      slug == "no-release-in-progress" || slug.rfind("nothing-to-", 0) == 0) {
    return kExitConflict;
  }
  if (slug == "interrupted") return kExitInterrupted;
  return kExitFailed;
}

Term Term::Detect() {
  const char* no_color = std::getenv("NO_COLOR");
  bool color = isatty(STDOUT_FILENO) && !(no_color && *no_color);
  const char* term = std::getenv("TERM");
  if (term && std::string_view(term) == "dumb") color = false;
  return Term(color);
}

std::string Term::Wrap(const char* code, const std::string& s) const {
  if (!color_) return s;
  return std::string("\x1b[") + code + "m" + s + "\x1b[0m";
}

std::string Term::Status(const std::string& status) const {
  if (status == "done") return Green(status);
  if (status == "error" || status == "failed" || status == "lost" || status == "timeout") {
    return Red(status);
  }
  if (status == "running") return Cyan(status);
  if (status == "cancelled") return Yellow(status);
  return Dim(status);
}

namespace {
// Display width, not counting ANSI escape sequences; UTF-8 continuation bytes
// do not count either.
std::size_t Width(const std::string& s) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b') {
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++w;
  }
  return w;
}
}  // namespace

std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& r : rows) {
    if (r.size() > widths.size()) widths.resize(r.size(), 0);
    for (std::size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], Width(r[i]));
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(widths[i] - Width(r[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

void PrintProblem(const Problem& p, bool json) {
  if (json) {
    std::cout << Dump(p.ToJson(), 2) << std::endl;
    return;
  }
  std::cerr << "error: " << p.title;
  if (!p.detail.empty()) {
    std::cerr << (p.detail.find('\n') != std::string::npos ? ":\n  " : ": ");
    for (char c : p.detail) {
      std::cerr << c;
      if (c == '\n') std::cerr << "  ";
    }
  }
  std::cerr << std::endl;
}

std::string HumanDuration(Millis ms) {
  if (ms < 0) ms = 0;
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  if (ms < 3'600'000) return fmt::format("{}m{:02}s", ms / 60'000, (ms / 1000) % 60);
  return fmt::format("{}h{:02}m", ms / 3'600'000, (ms / 60'000) % 60);
}

std::string FormatNumber(double v) {
  if (v == static_cast<double>(static_cast<long long>(v)))
    return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{:.1f}", v);
}

}  // namespace ps::cli
