// Untrusted YAML: the guards every reader of a repository's YAML goes through.
// yaml-cpp 0.7 (Debian 12) recurses once per nesting level, and its LoadAll
// loops forever, allocating a null document per turn, when a document yields
// no node without consuming a token (a stream of just "," does:
// jbeder/yaml-cpp#1040, fixed upstream in 0.8.0 by #1319).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string_view>
#include <vector>

namespace ps {

// Whether YAML text nests at most `max_depth` levels (flow brackets, and
// indentation / 4). Untrusted YAML is checked with this before it is parsed.
bool YamlNestingWithinLimit(std::string_view text, int max_depth = 64);

// One document of a stream, and the 0-based line of the original text it
// starts on (add it to a node's Mark().line to point into the file).
struct YamlDocument {
  YAML::Node node;
  int first_line = 0;
};

// The documents of a YAML stream, in order, as YAML::LoadAll would give them
// but without its endless loop: the stream is cut at the document markers
// ("---" and "..." at the start of a line, which YAML forbids inside content)
// and each part is loaded on its own. Directives ("%YAML", "%TAG") stay with
// the document they precede. Documents that hold nothing are left out.
// Throws YAML::Exception (its mark's line already in the original's terms)
// for malformed input.
std::vector<YamlDocument> LoadYamlStream(std::string_view text);

}  // namespace ps
