// Every answer of the audit carries its evidence (file:line and the text
// that gave it away) and a confidence in [0, 1]. A Field collects the
// candidates every source proposed; when sources disagree the Field reports
// all of them, marked as a conflict, instead of silently picking one.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"

namespace ps::stages::audit {

struct Evidence {
  std::string file;
  int line = 0;  // 0: the file as a whole
  std::string text;
  Json ToJson() const;
};

class Field {
 public:
  // Fields whose candidates are alternatives (commands: `npm start` and the
  // Dockerfile's CMD may both be right) list them but never conflict.
  static Field Alternatives() {
    Field f;
    f.alternatives_ = true;
    return f;
  }

  // Adds a candidate. Candidates with equal values merge their evidence and
  // keep the higher confidence.
  void Add(Json value, double confidence, Evidence evidence);
  bool empty() const { return candidates_.empty(); }
  // Adds every candidate of `other`.
  void Merge(const Field& other);
  // The chosen value (highest confidence, then earliest added), or null.
  const Json& value() const;
  // Two or more distinct values, the runner-up at confidence >= 0.5.
  bool Conflict() const;
  // {value, confidence, evidence[, conflict, candidates]} or null if empty.
  Json ToJson() const;

 private:
  struct Candidate {
    Json value;
    double confidence = 0;
    std::vector<Evidence> evidence;
  };
  const Candidate* Best() const;
  std::vector<Candidate> candidates_;
  bool alternatives_ = false;
};

// Whether two values can both be true: equal, or versions where one is a
// range (">=20") or a prefix of the other ("1.22" and "1.22.3").
bool Compatible(const Json& a, const Json& b);

// 1-based line number of byte offset `pos` in `text`.
int LineOf(std::string_view text, std::size_t pos);
// The line holding `pos`, without its leading blanks.
std::string LineTextAt(std::string_view text, std::size_t pos);

}  // namespace ps::stages::audit
