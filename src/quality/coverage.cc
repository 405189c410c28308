#include "quality/coverage.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <vector>

#include "core/xml.h"
#include "quality/text.h"

namespace ps::quality {

FileCoverage Coverage::Total() const {
  FileCoverage t;
  for (const auto& [path, f] : files) {
    t.lines += f.lines;
    t.lines_covered += f.lines_covered;
    t.branches += f.branches;
    t.branches_covered += f.branches_covered;
  }
  return t;
}

double Coverage::LinePercent() const {
  const FileCoverage t = Total();
  return t.lines == 0 ? 100.0 : 100.0 * static_cast<double>(t.lines_covered) / t.lines;
}

double Coverage::BranchPercent() const {
  const FileCoverage t = Total();
  return t.branches == 0 ? -1.0 : 100.0 * static_cast<double>(t.branches_covered) / t.branches;
}

void Coverage::Merge(const Coverage& o) {
  if (format.empty()) {
    format = o.format;
    unit = o.unit;
  } else if (!o.format.empty() && format.find(o.format) == std::string::npos) {
    format += "+" + o.format;
  }
  for (const auto& [path, f] : o.files) {
    auto [it, added] = files.emplace(path, f);
    if (added) continue;
    FileCoverage& mine = it->second;
    if (f.lines > mine.lines || (f.lines == mine.lines && f.lines_covered > mine.lines_covered)) {
      mine.lines = f.lines;
      mine.lines_covered = f.lines_covered;
    }
    if (f.branches > mine.branches ||
        (f.branches == mine.branches && f.branches_covered > mine.branches_covered)) {
      mine.branches = f.branches;
      mine.branches_covered = f.branches_covered;
    }
  }
}

Json Coverage::ToJson(std::size_t max_files) const {
  const FileCoverage t = Total();
  // The least covered files first: what a reader wants to see.
  std::vector<std::pair<double, std::string>> order;
  for (const auto& [path, f] : files) {
    order.push_back({f.lines == 0 ? 100.0 : 100.0 * f.lines_covered / f.lines, path});
  }
  std::sort(order.begin(), order.end());
  Json list = Json::array();
  for (const auto& [pct, path] : order) {
    if (list.size() >= max_files) break;
    const FileCoverage& f = files.at(path);
    list.push_back({{"path", path},
                    {"lines", f.lines},
                    {"covered", f.lines_covered},
                    {"percent", std::round(pct * 100) / 100}});
  }
  Json j = {{"format", format},
            {"unit", unit},
            {"lines", t.lines},
            {"lines_covered", t.lines_covered},
            {"line_percent", std::round(LinePercent() * 100) / 100},
            {"files", files.size()},
            {"least_covered", list}};
  if (t.branches > 0) {
    j["branches"] = t.branches;
    j["branches_covered"] = t.branches_covered;
    j["branch_percent"] = std::round(BranchPercent() * 100) / 100;
  }
  return j;
}

namespace {

constexpr std::size_t kMaxFiles = 200000;
constexpr long kMaxCount = 1L << 40;

using text::Body;
using text::Lines;
using text::ToLong;
double Rate(std::string_view s) { return text::ToDouble(s, 1e12); }

// --- Cobertura -------------------------------------------------------------------------

class CoberturaReader final : public XmlHandler {
 public:
  bool saw_root = false;
  long root_valid = -1, root_covered = -1;
  double root_rate = -1;
  // Per file: line -> hits; branch conditions per line (covered, total).
  std::map<std::string, std::map<long, long>> hits;
  std::map<std::string, std::map<long, std::pair<long, long>>> conditions;

  void Start(const std::vector<std::string>& path, const XmlAttrs& a) override {
    const std::string& e = path.back();
    if (path.size() == 1) {
      saw_root = e == "coverage";
      if (a.Has("lines-valid")) root_valid = ToLong(a.Get("lines-valid"));
      if (a.Has("lines-covered")) root_covered = ToLong(a.Get("lines-covered"));
      if (a.Has("line-rate")) root_rate = Rate(a.Get("line-rate"));
      return;
    }
    if (e == "class") {
      file_ = std::string(a.Get("filename").substr(0, 1024));
      if (file_.empty()) file_ = std::string(a.Get("name").substr(0, 1024));
      if (hits.size() < kMaxFiles) hits[file_];  // a class with no lines still counts as a file
      return;
    }
    // Lines of a class; not those repeated under <method> (the same lines).
    if (e == "line" && path.size() >= 2 && path[path.size() - 2] == "lines" && path.size() >= 3 &&
        path[path.size() - 3] == "class" && hits.count(file_)) {
      const long nr = ToLong(a.Get("number"));
      long& h = hits[file_][nr];
      h = std::max(h, ToLong(a.Get("hits")));
      if (a.Get("branch") == "true") {
        // condition-coverage="50% (1/2)"
        const std::string_view cc = a.Get("condition-coverage");
        const auto open = cc.find('('), slash = cc.find('/'), close = cc.find(')');
        if (open != std::string_view::npos && slash != std::string_view::npos &&
            close != std::string_view::npos && open < slash && slash < close) {
          auto& c = conditions[file_][nr];
          c.first = std::max(c.first, ToLong(cc.substr(open + 1, slash - open - 1)));
          c.second = std::max(c.second, ToLong(cc.substr(slash + 1, close - slash - 1)));
        }
      }
    }
  }

 private:
  std::string file_;
};

// --- JaCoCo ----------------------------------------------------------------------------

class JacocoReader final : public XmlHandler {
 public:
  bool saw_root = false;
  Coverage cov;
  FileCoverage report_total;
  bool report_has_lines = false;

  void Start(const std::vector<std::string>& path, const XmlAttrs& a) override {
    const std::string& e = path.back();
    if (path.size() == 1) saw_root = e == "report";
    if (e == "package") package_ = std::string(a.Get("name").substr(0, 1024));
    if (e == "sourcefile" && path.size() >= 2 && path[path.size() - 2] == "package") {
      file_ = (package_.empty() ? "" : package_ + "/") + std::string(a.Get("name").substr(0, 1024));
      if (cov.files.size() < kMaxFiles) cov.files[file_];
    }
    if (e != "counter" || path.size() < 2) return;
    const std::string& parent = path[path.size() - 2];
    const std::string_view type = a.Get("type");
    if (type != "LINE" && type != "BRANCH") return;
    const long missed = ToLong(a.Get("missed")), covered = ToLong(a.Get("covered"));
    FileCoverage* target = nullptr;
    if (parent == "sourcefile" && cov.files.count(file_)) target = &cov.files[file_];
    if (parent == "report" && path.size() == 2) {
      target = &report_total;
      report_has_lines |= type == "LINE";
    }
    if (!target) return;
    if (type == "LINE") {
      target->lines = missed + covered;
      target->lines_covered = covered;
    } else {
      target->branches = missed + covered;
      target->branches_covered = covered;
    }
  }

 private:
  std::string package_, file_;
};

}  // namespace

Result<Coverage> ParseLcov(std::string_view text) {
  Coverage cov;
  cov.format = "lcov";
  std::string file;
  bool in_record = false, any = false;
  std::map<long, long> da;          // line -> hits
  std::set<std::string> brda_seen;  // "line,block,branch"
  long brda_total = 0, brda_taken = 0;
  long lf = -1, lh = -1, brf = -1, brh = -1;
  auto finish = [&] {
    if (!in_record) return;
    if (cov.files.size() < kMaxFiles || cov.files.count(file)) {
      FileCoverage f;
      if (!da.empty()) {
        f.lines = static_cast<long>(da.size());
        for (const auto& [line, h] : da) f.lines_covered += h > 0;
      } else if (lf >= 0) {
        f.lines = lf;
        f.lines_covered = std::min(lh < 0 ? 0 : lh, lf);
      }
      if (brda_total > 0) {
        f.branches = brda_total;
        f.branches_covered = brda_taken;
      } else if (brf >= 0) {
        f.branches = brf;
        f.branches_covered = std::min(brh < 0 ? 0 : brh, brf);
      }
      Coverage one;
      one.files[file] = f;
      cov.Merge(one);
    }
    in_record = false;
    da.clear();
    brda_seen.clear();
    brda_total = brda_taken = 0;
    lf = lh = brf = brh = -1;
  };
  for (std::string_view line : Lines(text)) {
    const auto colon = line.find(':');
    const std::string_view key = line.substr(0, colon);
    const std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (key == "SF") {
      finish();
      file = std::string(value.substr(0, 1024));
      in_record = any = true;
    } else if (line == "end_of_record") {
      finish();
    } else if (!in_record) {
      continue;
    } else if (key == "DA") {
      const auto comma = value.find(',');
      if (comma == std::string_view::npos) continue;
      const long nr = ToLong(value.substr(0, comma));
      const auto rest = value.substr(comma + 1);
      const long h = rest.substr(0, 1) == "-" ? 0 : ToLong(rest.substr(0, rest.find(',')));
      if (da.size() < 10'000'000) da[nr] = std::max(da[nr], h);
    } else if (key == "BRDA") {
      // line,block,branch,taken ('-' when the line never ran)
      const auto last = value.rfind(',');
      if (last == std::string_view::npos) continue;
      const std::string id(value.substr(0, std::min<std::size_t>(last, 256)));
      const bool taken = value.substr(last + 1) != "-" && ToLong(value.substr(last + 1)) > 0;
      if (brda_seen.size() < 10'000'000 && brda_seen.insert(id).second) {
        ++brda_total;
        brda_taken += taken;
      }
    } else if (key == "LF") {
      lf = ToLong(value);
    } else if (key == "LH") {
      lh = ToLong(value);
    } else if (key == "BRF") {
      brf = ToLong(value);
    } else if (key == "BRH") {
      brh = ToLong(value);
    }
  }
  finish();
  if (!any) return problems::InvalidInput("not an lcov tracefile (no SF: record)");
  return cov;
}

Result<Coverage> ParseCobertura(std::string_view xml) {
  CoberturaReader r;
  PS_TRY(ParseXml(xml, r));
  if (!r.saw_root)
    return problems::InvalidInput("not a Cobertura report (its root is not <coverage>)");
  Coverage cov;
  cov.format = "cobertura";
  for (const auto& [file, lines] : r.hits) {
    FileCoverage& f = cov.files[file];
    f.lines = static_cast<long>(lines.size());
    for (const auto& [nr, h] : lines) f.lines_covered += h > 0;
    if (auto c = r.conditions.find(file); c != r.conditions.end()) {
      for (const auto& [nr, cc] : c->second) {
        f.branches += cc.second;
        f.branches_covered += std::min(cc.first, cc.second);
      }
    }
  }
  // A report without line elements: the root's totals, as one entry.
  if (cov.Total().lines == 0 && r.root_valid > 0) {
    FileCoverage& f = cov.files["(all)"];
    f.lines = r.root_valid;
    f.lines_covered = r.root_covered >= 0 ? std::min(r.root_covered, r.root_valid)
                                          : static_cast<long>(std::clamp(r.root_rate, 0.0, 1.0) *
                                                              static_cast<double>(r.root_valid));
  }
  return cov;
}

Result<Coverage> ParseJacoco(std::string_view xml) {
  JacocoReader r;
  PS_TRY(ParseXml(xml, r));
  if (!r.saw_root) return problems::InvalidInput("not a JaCoCo report (its root is not <report>)");
  r.cov.format = "jacoco";
  // Without per-file counters, the report's own.
  if (r.cov.Total().lines == 0 && r.report_has_lines && r.report_total.lines > 0) {
    r.cov.files.clear();
    r.cov.files["(all)"] = r.report_total;
  }
  return r.cov;
}

Result<Coverage> ParseGoCoverProfile(std::string_view text) {
  const auto lines = Lines(text);
  if (lines.empty() || lines[0].rfind("mode: ", 0) != 0) {
    return problems::InvalidInput("not a Go cover profile (it does not start with 'mode: ')");
  }
  Coverage cov;
  cov.format = "go";
  cov.unit = "statements";
  // file:startLine.startCol,endLine.endCol numStmts count; a block listed
  // twice (profiles merged from several packages) counts once.
  std::map<std::string, std::map<std::string, std::pair<long, long>>> blocks;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.empty()) continue;
    if (line.rfind("mode: ", 0) == 0) continue;  // concatenated profiles
    const auto colon = line.rfind(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    const std::string_view rest = line.substr(colon + 1);
    const auto sp1 = rest.find(' ');
    const auto sp2 = rest.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) continue;
    const std::string file(line.substr(0, std::min<std::size_t>(colon, 1024)));
    const std::string range(rest.substr(0, std::min<std::size_t>(sp1, 128)));
    const long stmts = ToLong(rest.substr(sp1 + 1, sp2 - sp1 - 1));
    const long count = ToLong(rest.substr(sp2 + 1));
    if (blocks.size() >= kMaxFiles && !blocks.count(file)) continue;
    auto& b = blocks[file][range];
    b.first = std::max(b.first, stmts);
    b.second = std::max(b.second, count);
  }
  for (const auto& [file, bs] : blocks) {
    FileCoverage& f = cov.files[file];
    for (const auto& [range, b] : bs) {
      f.lines += b.first;
      if (b.second > 0) f.lines_covered += b.first;
    }
  }
  return cov;
}

Result<Coverage> ParseCoverage(std::string_view content) {
  const std::string_view body = Body(content);
  if (body.empty()) return problems::InvalidInput("the coverage report is empty");
  if (body.rfind("mode: ", 0) == 0) return ParseGoCoverProfile(body);
  if (body.front() == '<') {
    const bool jacoco = body.find("<report") != std::string_view::npos &&
                        body.find("<coverage") == std::string_view::npos;
    return jacoco ? ParseJacoco(content) : ParseCobertura(content);
  }
  if (body.rfind("TN:", 0) == 0 || body.rfind("SF:", 0) == 0) return ParseLcov(body);
  return problems::InvalidInput(
      "not a coverage report this reads (lcov, Cobertura XML, JaCoCo XML, Go cover profile)");
}

bool IsTestPath(std::string_view path) {
  std::string p(path);
  std::replace(p.begin(), p.end(), '\\', '/');
  p = "/" + p;
  for (const char* dir : {"/test/", "/tests/", "/__tests__/", "/spec/", "/testdata/", "/e2e/"}) {
    if (p.find(dir) != std::string::npos) return true;
  }
  const auto slash = p.rfind('/');
  const std::string name = p.substr(slash + 1);
  const auto dot = name.find('.');
  const std::string stem = name.substr(0, dot);
  const std::string ext = dot == std::string::npos ? "" : name.substr(dot);
  for (const char* mid : {".test.", ".spec.", "-test.", "_test."}) {
    if (name.find(mid) != std::string::npos) return true;
  }
  if (stem.size() > 5 && stem.rfind("test_", 0) == 0 && ext == ".py") return true;
  const auto us = name.rfind('_');
  if (us != std::string::npos) {
    const std::string tail = name.substr(us);
    if (tail == "_test.go" || tail == "_test.py" || tail == "_spec.rb" || tail == "_test.rb" ||
        tail == "_test.exs")
      return true;
  }
  if (stem.size() > 4 && (stem.substr(stem.size() - 4) == "Test" ||
                          (stem.size() > 5 && stem.substr(stem.size() - 5) == "Tests"))) {
    return ext == ".java" || ext == ".kt" || ext == ".cs" || ext == ".php" || ext == ".scala";
  }
  return false;
}

}  // namespace ps::quality
