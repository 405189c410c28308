// Languages as GitHub Linguist names them, and Linguist's rules for what is
// not hand-written code: vendored and generated files, documentation,
// binaries. Only programming and markup languages count in a breakdown, as
// in Linguist.
#pragma once

#include <string_view>

namespace ps::stages::audit {

enum class LangType { kProgramming, kMarkup, kData, kProse };

struct Language {
  std::string_view name;
  LangType type;
};

// By file name first (Dockerfile, Makefile, Gemfile...), then extension.
// Null when unknown.
const Language* LanguageOf(std::string_view path);
// For a file without an extension: the language its interpreter line names
// (`#!/usr/bin/env python3`, `#!/bin/bash`), as Linguist does. Null if none.
const Language* LanguageOfShebang(std::string_view head);

inline bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsVendored(std::string_view path);
bool IsDocumentation(std::string_view path);
// Lock files, protobuf output, minified bundles... `head` is the start of
// the file's content (may be empty when not read).
bool IsGenerated(std::string_view path, std::string_view head);
// A NUL byte in the first 8000 bytes, as git decides.
bool LooksBinary(std::string_view head);

}  // namespace ps::stages::audit
