// Untrusted XML read as a stream of elements (expat underneath): test
// reports, coverage reports, Maven POMs. Bounded: nesting deeper than
// `max_depth` and any entity declaration (the billion-laughs family) stop the
// parse with an error; no external DTD or entity is ever loaded.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/problem.h"

namespace ps {

// The attributes of a start tag (expat's name/value pairs).
class XmlAttrs {
 public:
  explicit XmlAttrs(const char** pairs) : pairs_(pairs) {}
  // The value of `name` ("" when absent).
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;

 private:
  const char** pairs_;
};

class XmlHandler {
 public:
  virtual ~XmlHandler() = default;
  // `path`: the open elements from the root, this one last, each without a
  // namespace prefix ("testsuites", "testsuite", "testcase").
  virtual void Start(const std::vector<std::string>& path, const XmlAttrs& attrs) {}
  // `text`: the element's own character data (not its children's), at most
  // XmlOptions::max_text bytes of it.
  virtual void End(const std::vector<std::string>& path, std::string_view text) {}
};

struct XmlOptions {
  std::size_t max_depth = 256;
  std::size_t max_text = 64 * 1024;
};

// Reads `text` whole; a Problem (invalid-input, with the line) when it is not
// well-formed XML or breaks a bound. The handler has seen the elements up to
// the error.
Status ParseXml(std::string_view text, XmlHandler& handler, const XmlOptions& options = {});

// Text for an XML attribute or element: & < > " escaped, control characters
// XML 1.0 cannot hold (all but tab, newline, carriage return) as '?'.
std::string XmlEscape(std::string_view s);

}  // namespace ps
