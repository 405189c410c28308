// What the report readers share: lines, leading noise, bounded numbers.
// Internal to quality/.
#pragma once

#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace ps::quality::text {

// Lines of `text`, without their '\r'.
inline std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    pos = eol + 1;
  }
  return out;
}

// `s` without a byte-order mark and leading whitespace (to sniff a format).
inline std::string_view Body(std::string_view s) {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t'))
    s.remove_prefix(1);
  return s;
}

// A non-negative integer below 2^40 after optional spaces; 0 otherwise.
inline long ToLong(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && v >= 0 && v < (1L << 40) ? v : 0;
}

// A number in [0, max]; 0 otherwise.
inline double ToDouble(std::string_view s, double max) {
  const std::string t(s.substr(0, 64));
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  return end != t.c_str() && v >= 0 && v <= max ? v : 0;
}

}  // namespace ps::quality::text
