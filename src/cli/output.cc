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

namespace {

// A streambuf that filters what it passes to another (see
// GuardTerminalOutput). An ESC is held until its sequence is known.
class ControlFilter final : public std::streambuf {
 public:
  explicit ControlFilter(std::streambuf* to) : to_(to) {}

 protected:
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    Put(static_cast<unsigned char>(ch));
    return ch;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::streamsize i = 0;
    while (i < n) {
      // Runs of plain bytes go through at once.
      std::streamsize j = i;
      while (pending_.empty() && j < n && Plain(static_cast<unsigned char>(s[j]))) ++j;
      if (j > i) {
        Raw(s + i, static_cast<std::size_t>(j - i));
        i = j;
        continue;
      }
      Put(static_cast<unsigned char>(s[i++]));
    }
    return n;
  }
  int sync() override {
    FlushPending(true);
    return to_->pubsync();
  }

 private:
  // DEL passes: terminals ignore it, and JSON (which writes it raw) must
  // stay JSON.
  static bool Plain(unsigned char c) { return c >= 0x20 || c == '\n' || c == '\t'; }
  // The colour sequences Term writes; any other (hidden text, black on
  // black) is a repository's, and shown.
  static bool Ours(const std::string& seq) {
    static const char* const kOurs[] = {"\x1b[0m",  "\x1b[1m",  "\x1b[2m", "\x1b[31m",
                                        "\x1b[32m", "\x1b[33m", "\x1b[36m"};
    for (const char* o : kOurs) {
      if (seq == o) return true;
    }
    return false;
  }
  void Raw(const char* s, std::size_t n) { to_->sputn(s, static_cast<std::streamsize>(n)); }
  void Escaped(unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    Raw(buf, 4);
  }
  // The held sequence is not a colour: its ESC shown, the rest re-read.
  void FlushPending(bool all) {
    if (pending_.empty()) return;
    std::string rest = pending_.substr(1);
    pending_.clear();
    Escaped(0x1b);
    for (char c : rest) Put(static_cast<unsigned char>(c));
    (void)all;
  }
  void Put(unsigned char c) {
    if (!pending_.empty()) {
      pending_ += static_cast<char>(c);
      if (pending_.size() == 2) {
        if (c != '[') FlushPending(false);
        return;
      }
      if (c == 'm') {  // ESC [ digits m: a colour, ours or not
        if (!Ours(pending_)) {
          FlushPending(false);
          return;
        }
        Raw(pending_.data(), pending_.size());
        pending_.clear();
        return;
      }
      if (!((c >= '0' && c <= '9') || c == ';') || pending_.size() > 16) FlushPending(false);
      return;
    }
    if (c == 0x1b) {
      pending_.assign(1, '\x1b');
      return;
    }
    if (c < 0x20 && c != '\n' && c != '\t') {
      Escaped(c);
      return;
    }
    const char b = static_cast<char>(c);
    Raw(&b, 1);
  }
  std::streambuf* to_;
  std::string pending_;
};

}  // namespace

void GuardTerminalOutput() {
  // Never destroyed: the streams are flushed at exit, after static objects go.
  static ControlFilter* const out = new ControlFilter(std::cout.rdbuf());
  static ControlFilter* const err = new ControlFilter(std::cerr.rdbuf());
  std::cout.rdbuf(out);
  std::cerr.rdbuf(err);
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
