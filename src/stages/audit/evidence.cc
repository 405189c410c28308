#include "stages/audit/evidence.h"

#include <algorithm>

namespace ps::stages::audit {

Json Evidence::ToJson() const {
  Json j{{"file", file}};
  if (line > 0) j["line"] = line;
  if (!text.empty()) j["text"] = text.size() > 200 ? text.substr(0, 200) + "…" : text;
  return j;
}

void Field::Add(Json value, double confidence, Evidence evidence) {
  for (auto& c : candidates_) {
    if (c.value == value) {
      c.confidence = std::max(c.confidence, confidence);
      if (c.evidence.size() < 8) c.evidence.push_back(std::move(evidence));
      return;
    }
  }
  candidates_.push_back({std::move(value), confidence, {std::move(evidence)}});
}

void Field::Merge(const Field& other) {
  for (const auto& c : other.candidates_) {
    for (const auto& e : c.evidence) Add(c.value, c.confidence, e);
  }
}

const Field::Candidate* Field::Best() const {
  const Candidate* best = nullptr;
  for (const auto& c : candidates_) {
    if (!best || c.confidence > best->confidence) best = &c;
  }
  return best;
}

const Json& Field::value() const {
  static const Json kNull;
  const Candidate* b = Best();
  return b ? b->value : kNull;
}

bool Compatible(const Json& a, const Json& b) {
  if (a == b) return true;
  if (!a.is_object() || !b.is_object() || !a.contains("version") || !b.contains("version") ||
      a.value("runtime", "") != b.value("runtime", "")) {
    return false;
  }
  const std::string va = a["version"].is_string() ? a["version"].get<std::string>() : "";
  const std::string vb = b["version"].is_string() ? b["version"].get<std::string>() : "";
  auto is_range = [](const std::string& v) {
    return v.find_first_of("<>^~*x| ") != std::string::npos;
  };
  if (is_range(va) || is_range(vb)) return true;
  auto prefix = [](const std::string& shorter, const std::string& longer) {
    return longer.rfind(shorter, 0) == 0 &&
           (longer.size() == shorter.size() || longer[shorter.size()] == '.');
  };
  return prefix(va, vb) || prefix(vb, va);
}

bool Field::Conflict() const {
  if (alternatives_) return false;
  const Candidate* best = Best();
  if (!best) return false;
  for (const auto& c : candidates_) {
    if (&c != best && c.confidence >= 0.5 && !Compatible(c.value, best->value)) return true;
  }
  return false;
}

Json Field::ToJson() const {
  const Candidate* best = Best();
  if (!best) return nullptr;
  Json ev = Json::array();
  for (const auto& e : best->evidence) ev.push_back(e.ToJson());
  Json j{{"value", best->value}, {"confidence", best->confidence}, {"evidence", ev}};
  if (candidates_.size() > 1) {
    Json all = Json::array();
    std::vector<const Candidate*> sorted;
    for (const auto& c : candidates_) sorted.push_back(&c);
    std::stable_sort(sorted.begin(), sorted.end(), [](const Candidate* a, const Candidate* b) {
      return a->confidence > b->confidence;
    });
    for (const Candidate* c : sorted) {
      Json cev = Json::array();
      for (const auto& e : c->evidence) cev.push_back(e.ToJson());
      all.push_back({{"value", c->value}, {"confidence", c->confidence}, {"evidence", cev}});
    }
    j["candidates"] = all;
    j["conflict"] = Conflict();
  }
  return j;
}

int LineOf(std::string_view text, std::size_t pos) {
  pos = std::min(pos, text.size());
  return 1 +
         static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
}

std::string LineTextAt(std::string_view t, std::size_t pos) {
  auto start = t.rfind('\n', pos);
  start = start == std::string_view::npos ? 0 : start + 1;
  auto end = t.find('\n', pos);
  std::string l(
      t.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
  l.erase(0, l.find_first_not_of(" \t"));
  return l;
}

}  // namespace ps::stages::audit
