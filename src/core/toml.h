// TOML: toml++ (compiled once, in core/toml_impl.cc), made safe for input
// from outside. Include this header, never <toml++/toml.h> directly.
#pragma once

// toml++ asserts on conditions of its input (an invalid key start, in
// parse_key): with assert() on (debug, ASan) a manifest holding `[?x]`
// aborts. Input errors must be parse errors, so its asserts are off in
// every build, as they are under NDEBUG.
#ifndef TOML_ASSERT
#define TOML_ASSERT(expr) static_assert(true)
#endif
#include <toml++/toml.h>

#include <optional>
#include <string>
#include <string_view>

namespace ps {

// toml++ 3.3's is_non_ascii_horizontal_whitespace() reaches
// __builtin_unreachable() for any code point of four spans of its lookup
// table that is not whitespace: U+00A1..U+0499, U+2C5E..U+3057 (but
// U+3000) and U+FB26..U+FEFE (undefined behaviour on input; found by
// audit_fuzz and the lockfile fuzzers; the spans are those of its formula,
// child = (c - 0xA0) / 0x3FA with the children its mask and switch leave
// out). Before parsing, every byte of such a code point, and of a malformed
// UTF-8 sequence, becomes '?' (byte for byte: positions in warnings still
// hold). Manifest keys, package names and versions are ASCII; what changes
// is at most an author's name or a comment.
inline void ScrubTomlHazards(std::string& s) {
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned cp = 0, min = 0;
    if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1Fu, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0Fu, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07u, min = 0x10000;
    }
    bool ok = len > 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      ok = (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!ok) {
      s[i++] = '?';  // the lead byte; what follows is looked at again
      continue;
    }
    if ((cp >= 0xA1 && cp <= 0x499) || (cp >= 0x2C5E && cp <= 0x3057 && cp != 0x3000) ||
        (cp >= 0xFB26 && cp <= 0xFEFE)) {
      for (std::size_t k = 0; k < len; ++k) s[i + k] = '?';
    }
    i += len;
  }
}

// Parses untrusted TOML: the table, or nullopt with `error` set to
// toml++'s description.
inline std::optional<toml::table> ParseUntrustedToml(std::string text, const std::string& path,
                                                     std::string* error = nullptr) {
  ScrubTomlHazards(text);
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    if (error) *error = std::string(e.description());
    return std::nullopt;
  }
}

}  // namespace ps
