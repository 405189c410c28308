// Writing HCL as `terraform fmt` would: string literals quoted and escaped,
// names made valid identifiers, and each run of one-line attributes in a
// block with its '=' aligned (a blank line, a nested block or a multi-line
// value ends a run, as in hclwrite).
#pragma once

#include <string>

namespace ps::stages::plan::hcl {

// "a\"b${x}" -> "\"a\\\"b$${x}\"": a literal string, never an interpolation.
std::string Str(const std::string& s);
// "orders-api" -> "orders_api": a resource or module name.
std::string Name(const std::string& s);
// Aligns '=' in runs of one-line attributes; trims trailing spaces.
std::string Format(const std::string& text);

}  // namespace ps::stages::plan::hcl
