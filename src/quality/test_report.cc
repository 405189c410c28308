#include "quality/test_report.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>

#include "core/xml.h"
#include "quality/text.h"

namespace ps::quality {

std::string_view ToString(Outcome o) {
  switch (o) {
    case Outcome::kPassed:
      return "passed";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kError:
      return "error";
    case Outcome::kSkipped:
      return "skipped";
  }
  return "?";
}

void TestReport::Add(Outcome o, FailedTest failure) {
  ++tests;
  switch (o) {
    case Outcome::kPassed:
      ++passed;
      return;
    case Outcome::kSkipped:
      ++skipped;
      return;
    case Outcome::kFailed:
      ++failed;
      break;
    case Outcome::kError:
      ++errors;
      break;
  }
  failure.outcome = o;
  if (failures.size() < kMaxFailures) failures.push_back(std::move(failure));
}

void TestReport::Merge(const TestReport& o) {
  if (format.empty()) {
    format = o.format;
  } else if (!o.format.empty() && format.find(o.format) == std::string::npos) {
    format += "+" + o.format;
  }
  tests += o.tests;
  passed += o.passed;
  failed += o.failed;
  errors += o.errors;
  skipped += o.skipped;
  flaky += o.flaky;
  time_s += o.time_s;
  for (const auto& f : o.failures) {
    if (failures.size() >= kMaxFailures) break;
    failures.push_back(f);
  }
}

Json TestReport::ToJson() const {
  Json list = Json::array();
  for (const auto& f : failures) {
    Json j = {{"name", f.name}, {"outcome", ToString(f.outcome)}, {"message", f.message}};
    if (!f.file.empty()) j["file"] = f.file;
    if (f.line > 0) j["line"] = f.line;
    list.push_back(std::move(j));
  }
  return {{"format", format}, {"tests", tests},   {"passed", passed},
          {"failed", failed}, {"errors", errors}, {"skipped", skipped},
          {"flaky", flaky},   {"time_s", time_s}, {"failures", list}};
}

std::string Excerpt(std::string_view text, int max_lines, std::size_t max_bytes) {
  while (!text.empty() && (text.front() == '\n' || text.front() == '\r')) text.remove_prefix(1);
  std::size_t end = 0;
  int lines = 0;
  while (end < text.size() && end < max_bytes) {
    if (text[end] == '\n' && ++lines == max_lines) break;
    ++end;
  }
  // Not in the middle of a UTF-8 sequence.
  while (end > 0 && end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
    --end;
  std::string out(text.substr(0, end));
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' '))
    out.pop_back();
  if (end < text.size()) out += " ...";
  return out;
}

namespace {

using text::Body;
using text::ToLong;
double ToDouble(std::string_view s) { return text::ToDouble(s, 1e9); }

std::string Bounded(std::string_view s, std::size_t n = 512) { return Excerpt(s, 1, n); }

// --- JUnit XML -------------------------------------------------------------------------

class JUnitReader final : public XmlHandler {
 public:
  TestReport report;
  bool saw_root = false;

  void Start(const std::vector<std::string>& path, const XmlAttrs& a) override {
    const std::string& e = path.back();
    if (path.size() == 1) saw_root = e == "testsuites" || e == "testsuite" || e == "testcase";
    if (e == "testsuite") {
      suites_.push_back(std::string(a.Get("name")));
      suite_cases_.push_back(0);
      suite_attrs_.push_back({ToLong(a.Get("tests")), ToLong(a.Get("failures")),
                              ToLong(a.Get("errors")),
                              ToLong(a.Get("skipped")) + ToLong(a.Get("disabled"))});
      if (suites_.size() == 1) suite_time_ += ToDouble(a.Get("time"));
    } else if (e == "testcase") {
      in_case_ = true;
      case_ = {};
      std::string cls(a.Get("classname"));
      std::string name(a.Get("name"));
      case_.failure.name = Bounded(cls.empty() || cls == "test" ? name : cls + "." + name);
      if (case_.failure.name.empty() && !suites_.empty())
        case_.failure.name = Bounded(suites_.back());
      case_.failure.file = Bounded(a.Get("file"), 300);
      case_.failure.line = static_cast<int>(ToLong(a.Get("line")));
      case_time_ += ToDouble(a.Get("time"));
      for (auto& n : suite_cases_) ++n;
    } else if (in_case_ && (e == "failure" || e == "error")) {
      // The worst outcome wins (a case may hold both).
      if (case_.outcome != Outcome::kFailed) {
        case_.outcome = e == "failure" ? Outcome::kFailed : Outcome::kError;
      }
      if (case_.failure.message.empty()) case_.failure.message = Excerpt(a.Get("message"));
      if (case_.failure.message.empty()) case_.failure.message = Bounded(a.Get("type"));
    } else if (in_case_ && e == "skipped" && case_.outcome == Outcome::kPassed) {
      case_.outcome = Outcome::kSkipped;
    } else if (in_case_ && (e == "flakyFailure" || e == "flakyError")) {
      case_.flaky = true;
    }
  }

  void End(const std::vector<std::string>& path, std::string_view text) override {
    const std::string& e = path.back();
    if (in_case_ && (e == "failure" || e == "error") && !text.empty()) {
      const std::string body = Excerpt(text);
      if (case_.failure.message.empty()) {
        case_.failure.message = body;
      } else if (body.find(case_.failure.message) == std::string::npos) {
        case_.failure.message = Excerpt(case_.failure.message + "\n" + body);
      } else {
        case_.failure.message = body;
      }
    } else if (e == "testcase" && in_case_) {
      in_case_ = false;
      if (case_.flaky && case_.outcome == Outcome::kPassed) ++report.flaky;
      report.Add(case_.outcome, case_.outcome == Outcome::kPassed ? FailedTest{} : case_.failure);
    } else if (e == "testsuite" && !suites_.empty()) {
      // A suite that lists counts but no cases (some runners report a
      // suite-level failure that way: a setup error, a crash).
      const Counts c = suite_attrs_.back();
      if (suite_cases_.back() == 0 && c.tests > 0) {
        for (long i = 0; i < c.failures && i < 100000; ++i)
          report.Add(Outcome::kFailed, {Bounded(suites_.back()), "", 0, Outcome::kFailed, ""});
        for (long i = 0; i < c.errors && i < 100000; ++i)
          report.Add(Outcome::kError, {Bounded(suites_.back()), "", 0, Outcome::kError, ""});
        for (long i = 0; i < c.skipped && i < 100000; ++i) report.Add(Outcome::kSkipped);
        for (long i = c.failures + c.errors + c.skipped; i < c.tests && i < 100000; ++i)
          report.Add(Outcome::kPassed);
      }
      suites_.pop_back();
      suite_cases_.pop_back();
      suite_attrs_.pop_back();
    }
  }

  double time() const { return suite_time_ > 0 ? suite_time_ : case_time_; }

 private:
  struct Counts {
    long tests, failures, errors, skipped;
  };
  struct Case {
    Outcome outcome = Outcome::kPassed;
    bool flaky = false;
    FailedTest failure;
  };
  std::vector<std::string> suites_;
  std::vector<long> suite_cases_;
  std::vector<Counts> suite_attrs_;
  bool in_case_ = false;
  Case case_;
  double suite_time_ = 0, case_time_ = 0;
};

// --- TRX (Visual Studio test results) --------------------------------------------------

class TrxReader final : public XmlHandler {
 public:
  TestReport report;
  bool saw_root = false;

  void Start(const std::vector<std::string>& path, const XmlAttrs& a) override {
    const std::string& e = path.back();
    if (path.size() == 1) saw_root = e == "TestRun";
    if (e == "UnitTestResult") {
      in_result_ = true;
      outcome_ = std::string(a.Get("outcome"));
      failure_ = {};
      failure_.name = Bounded(a.Get("testName"));
      report.time_s += Duration(a.Get("duration"));
    }
  }
  void End(const std::vector<std::string>& path, std::string_view text) override {
    const std::string& e = path.back();
    if (!in_result_) return;
    if (e == "Message" && failure_.message.empty()) failure_.message = Excerpt(text);
    if (e == "UnitTestResult") {
      in_result_ = false;
      Outcome o = Outcome::kPassed;
      if (outcome_ == "Failed") o = Outcome::kFailed;
      if (outcome_ == "Error" || outcome_ == "Timeout" || outcome_ == "Aborted")
        o = Outcome::kError;
      if (outcome_ == "NotExecuted" || outcome_ == "Inconclusive" || outcome_ == "Pending" ||
          outcome_ == "Disconnected" || outcome_ == "NotRunnable") {
        o = Outcome::kSkipped;
      }
      report.Add(o, o == Outcome::kPassed ? FailedTest{} : failure_);
    }
  }

 private:
  // "hh:mm:ss.fffffff"
  static double Duration(std::string_view d) {
    double total = 0;
    for (int i = 0; i < 3; ++i) {
      const auto colon = d.find(':');
      const std::string_view part = i < 2 ? d.substr(0, colon) : d;
      total = total * 60 + ToDouble(part);
      if (i < 2) {
        if (colon == std::string_view::npos) return 0;
        d.remove_prefix(colon + 1);
      }
    }
    return total;
  }
  bool in_result_ = false;
  std::string outcome_;
  FailedTest failure_;
};

Result<Json> ParseJsonDocument(std::string_view text, const char* what) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return problems::InvalidInput(std::string(what) + " is not a JSON object");
  }
  return j;
}

const Json* Field(const Json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

// A string member, at most `n` bytes (all its lines: callers excerpt).
std::string StringField(const Json& j, const char* key, std::size_t n = 512) {
  const Json* f = Field(j, key);
  return f && f->is_string() ? Excerpt(f->get_ref<const std::string&>(), 1 << 20, n)
                             : std::string();
}

long NumberField(const Json& j, const char* key) {
  const Json* f = Field(j, key);
  if (!f || !f->is_number()) return 0;
  const double v = f->get<double>();
  return v > 0 && v < 1e12 ? static_cast<long>(v) : 0;
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// "name=3" pairs or "3 name" pairs separated by commas -> name -> count.
std::map<std::string, long> CountList(std::string_view list, bool number_first) {
  std::map<std::string, long> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view part = TrimLeft(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (number_first) {
      const auto space = part.find(' ');
      if (space == std::string_view::npos) continue;
      std::string word(part.substr(space + 1));
      while (!word.empty() && (word.back() == ')' || word.back() == ' ')) word.pop_back();
      // "1 failure" counts as failures; "2 skipped" stays.
      for (const char* one : {"test", "doctest", "failure", "error", "run", "skip", "property"}) {
        if (word == one) word = word == "property" ? "properties" : word + "s";
      }
      out[word] = ToLong(part.substr(0, space));
    } else {
      const auto eq = part.find('=');
      if (eq == std::string_view::npos) continue;
      out[std::string(part.substr(0, eq))] = ToLong(part.substr(eq + 1));
    }
  }
  return out;
}

}  // namespace

Result<TestReport> ParseJUnitXml(std::string_view xml) {
  JUnitReader r;
  PS_TRY(ParseXml(xml, r));
  if (!r.saw_root) {
    return problems::InvalidInput(
        "not a JUnit XML report (its root is not <testsuites>, "
        "<testsuite> or <testcase>)");
  }
  r.report.format = "junit";
  r.report.time_s = r.time();
  return r.report;
}

Result<TestReport> ParseTrx(std::string_view xml) {
  TrxReader r;
  PS_TRY(ParseXml(xml, r));
  if (!r.saw_root) return problems::InvalidInput("not a TRX report (its root is not <TestRun>)");
  r.report.format = "trx";
  return r.report;
}

Result<TestReport> ParseGoTestJson(std::string_view text) {
  TestReport report;
  report.format = "go-test-json";
  // Output lines of tests still running, to explain a failure (bounded).
  std::map<std::string, std::string> output;
  std::map<std::string, std::string> package_output;
  bool any = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line.front() != '{') continue;  // build output between events
    Json e = Json::parse(line.begin(), line.end(), nullptr, false);
    if (e.is_discarded() || !e.is_object()) continue;
    const std::string action = StringField(e, "Action", 32);
    if (action.empty()) continue;
    any = true;
    const std::string pkg = StringField(e, "Package", 300);
    const std::string test = StringField(e, "Test", 300);
    const std::string key = pkg + " " + test;
    if (action == "output") {
      std::string& out = test.empty() ? package_output[pkg] : output[key];
      if (out.size() < 4096) out += StringField(e, "Output", 1024) + "\n";
      continue;
    }
    if (action != "pass" && action != "fail" && action != "skip") continue;
    if (test.empty()) {
      // A package's own result: a failure without any failed test is a
      // build failure or a crash outside a test.
      if (const Json* el = Field(e, "Elapsed"); el && el->is_number()) {
        report.time_s += std::max(0.0, el->get<double>());
      }
      if (action == "fail") {
        bool had_failed_test = false;
        for (const auto& f : report.failures) had_failed_test |= f.file == pkg;
        if (!had_failed_test) {
          report.Add(Outcome::kError, {pkg, pkg, 0, Outcome::kError, Excerpt(package_output[pkg])});
        }
      }
      continue;
    }
    const Outcome o = action == "pass"   ? Outcome::kPassed
                      : action == "skip" ? Outcome::kSkipped
                                         : Outcome::kFailed;
    report.Add(o, o == Outcome::kFailed ? FailedTest{test, pkg, 0, o, Excerpt(output[key])}
                                        : FailedTest{});
    output.erase(key);
  }
  if (!any) return problems::InvalidInput("no `go test -json` events in the output");
  return report;
}

Result<TestReport> ParseJestJson(std::string_view text) {
  PS_ASSIGN(Json j, ParseJsonDocument(text, "Jest's --json output"));
  const Json* results = Field(j, "testResults");
  if (!results || !results->is_array() || !Field(j, "numTotalTests")) {
    return problems::InvalidInput("not Jest's --json output (no testResults / numTotalTests)");
  }
  TestReport report;
  report.format = "jest-json";
  for (const auto& file : *results) {
    if (!file.is_object()) continue;
    const std::string path = StringField(file, "name", 300);
    const Json* cases = Field(file, "assertionResults");
    const bool has_cases = cases && cases->is_array() && !cases->empty();
    if (const Json* s = Field(file, "startTime"), *e = Field(file, "endTime");
        s && e && s->is_number() && e->is_number()) {
      report.time_s += std::max(0.0, (e->get<double>() - s->get<double>()) / 1000.0);
    }
    if (!has_cases) {
      // The file failed before any test ran (a syntax error, a bad import).
      if (StringField(file, "status", 32) == "failed") {
        report.Add(Outcome::kError,
                   {path, path, 0, Outcome::kError, Excerpt(StringField(file, "message", 4096))});
      }
      continue;
    }
    for (const auto& c : *cases) {
      if (!c.is_object()) continue;
      const std::string status = StringField(c, "status", 32);
      Outcome o = Outcome::kPassed;
      if (status == "failed") o = Outcome::kFailed;
      if (status == "pending" || status == "skipped" || status == "todo" || status == "disabled")
        o = Outcome::kSkipped;
      FailedTest f;
      if (o == Outcome::kFailed) {
        f.name = StringField(c, "fullName");
        if (f.name.empty()) f.name = StringField(c, "title");
        f.file = path;
        if (const Json* m = Field(c, "failureMessages");
            m && m->is_array() && !m->empty() && m->front().is_string()) {
          f.message = Excerpt(m->front().get_ref<const std::string&>());
        }
        if (const Json* loc = Field(c, "location"); loc && loc->is_object()) {
          f.line = static_cast<int>(NumberField(*loc, "line"));
        }
      }
      report.Add(o, std::move(f));
    }
  }
  return report;
}

Result<TestReport> ParseRspecJson(std::string_view text) {
  PS_ASSIGN(Json j, ParseJsonDocument(text, "RSpec's json output"));
  const Json* examples = Field(j, "examples");
  if (!examples || !examples->is_array()) {
    return problems::InvalidInput("not RSpec's json output (no examples)");
  }
  TestReport report;
  report.format = "rspec-json";
  for (const auto& ex : *examples) {
    if (!ex.is_object()) continue;
    const std::string status = StringField(ex, "status", 32);
    Outcome o = Outcome::kPassed;
    if (status == "failed") o = Outcome::kFailed;
    if (status == "pending") o = Outcome::kSkipped;
    if (const Json* t = Field(ex, "run_time"); t && t->is_number()) {
      report.time_s += std::max(0.0, t->get<double>());
    }
    FailedTest f;
    if (o == Outcome::kFailed) {
      f.name = StringField(ex, "full_description");
      f.file = StringField(ex, "file_path", 300);
      f.line = static_cast<int>(NumberField(ex, "line_number"));
      if (const Json* x = Field(ex, "exception"); x && x->is_object()) {
        f.message =
            Excerpt(StringField(*x, "class", 200) + ": " + StringField(*x, "message", 4096));
      }
    }
    report.Add(o, std::move(f));
  }
  // Errors outside examples (a spec file that does not load).
  if (const Json* s = Field(j, "summary"); s && s->is_object()) {
    const long outside = NumberField(*s, "errors_outside_of_examples_count");
    for (long i = 0; i < outside && i < 1000; ++i) {
      report.Add(Outcome::kError, {"(outside of examples)", "", 0, Outcome::kError,
                                   Excerpt(StringField(j, "messages", 1024))});
    }
  }
  return report;
}

Result<TestReport> ParseCargoTestOutput(std::string_view text) {
  TestReport report;
  report.format = "cargo-test";
  bool summary = false;
  std::map<std::string, std::string> failure_output;  // "---- name stdout ----" sections
  std::vector<std::string> failed_names;
  std::string section;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.rfind("---- ", 0) == 0 && line.size() > 17 &&
        line.substr(line.size() - 12) == " stdout ----") {
      section = std::string(line.substr(5, line.size() - 17));
      continue;
    }
    if (line.rfind("test result: ", 0) == 0) {
      summary = true;
      section.clear();
      continue;
    }
    if (line.rfind("test ", 0) == 0) {
      const auto dots = line.rfind(" ... ");
      if (dots == std::string_view::npos || dots < 5) continue;
      const std::string name = Bounded(line.substr(5, dots - 5), 300);
      const std::string_view verdict = line.substr(dots + 5);
      if (verdict == "ok") {
        report.Add(Outcome::kPassed);
      } else if (verdict.rfind("ignored", 0) == 0) {
        report.Add(Outcome::kSkipped);
      } else if (verdict == "FAILED") {
        failed_names.push_back(name);
      }
      continue;
    }
    if (!section.empty()) {
      std::string& out = failure_output[section];
      if (out.size() < 2048) out += std::string(line.substr(0, 512)) + "\n";
    }
  }
  if (!summary) return problems::InvalidInput("no 'test result:' summary in cargo test's output");
  for (const auto& n : failed_names) {
    report.Add(Outcome::kFailed, {n, "", 0, Outcome::kFailed, Excerpt(failure_output[n])});
  }
  return report;
}

Result<TestReport> ParseMinitestOutput(std::string_view text) {
  const auto lines = text::Lines(text);
  // The last "N runs, N assertions, N failures, N errors, N skips" counts
  // (rails test prints one per run).
  std::map<std::string, long> counts;
  bool found = false;
  for (const auto& line : lines) {
    if (line.find(" assertions, ") == std::string_view::npos) continue;
    std::map<std::string, long> c;
    std::string_view rest = line;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view part = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      const auto space = part.find(' ');
      if (space == std::string_view::npos) continue;
      std::string word(part.substr(space + 1));
      if (!word.empty() && word.back() != 's') word += 's';  // "1 failure" -> "failures"
      c[word] = ToLong(part.substr(0, space));
    }
    if ((c.count("runs") || c.count("tests")) && c.count("failures") && c.count("errors")) {
      counts = std::move(c);
      found = true;
    }
  }
  if (!found) return problems::InvalidInput("no 'N runs, N assertions' summary in the output");
  TestReport report;
  report.format = "minitest";
  const long runs = counts.count("runs") ? counts["runs"] : counts["tests"];
  const long failures = counts["failures"], errors = counts["errors"], skips = counts["skips"];
  // Failures are listed as "  1) Failure:", then "Class#test_name [file:line]:",
  // then the message.
  long f_left = failures, e_left = errors;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    std::string_view l = lines[i];
    while (!l.empty() && l.front() == ' ') l.remove_prefix(1);
    const auto paren = l.find(") ");
    if (paren == std::string_view::npos || paren == 0 ||
        l.substr(0, paren).find_first_not_of("0123456789") != std::string_view::npos)
      continue;
    const std::string_view kind = l.substr(paren + 2);
    if (kind != "Failure:" && kind != "Error:") continue;
    const Outcome o = kind == "Failure:" ? Outcome::kFailed : Outcome::kError;
    long& left = o == Outcome::kFailed ? f_left : e_left;
    if (left <= 0) continue;
    --left;
    std::string_view head = lines[i + 1];
    if (!head.empty() && head.back() == ':') head.remove_suffix(1);
    FailedTest f{"", "", 0, o, i + 2 < lines.size() ? Bounded(lines[i + 2]) : ""};
    const auto bracket = head.rfind(" [");
    if (bracket != std::string_view::npos && head.back() == ']') {
      const std::string_view where = head.substr(bracket + 2, head.size() - bracket - 3);
      const auto colon = where.rfind(':');
      f.file = Bounded(where.substr(0, colon), 300);
      if (colon != std::string_view::npos)
        f.line = static_cast<int>(ToLong(where.substr(colon + 1)));
      head = head.substr(0, bracket);
    }
    f.name = Bounded(head);
    report.Add(o, std::move(f));
  }
  for (long i = 0; i < f_left && i < 100000; ++i) report.Add(Outcome::kFailed, {"(unnamed)"});
  for (long i = 0; i < e_left && i < 100000; ++i) report.Add(Outcome::kError, {"(unnamed)"});
  for (long i = 0; i < skips && i < 100000; ++i) report.Add(Outcome::kSkipped);
  for (long i = failures + errors + skips; i < runs && i < 1000000; ++i)
    report.Add(Outcome::kPassed);
  return report;
}

Result<TestReport> ParseUnittestOutput(std::string_view text) {
  const auto lines = text::Lines(text);
  long ran = -1;
  std::map<std::string, long> counts;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view l = lines[i];
    if (l.rfind("Ran ", 0) == 0 && (l.find(" test") != std::string_view::npos)) {
      ran = ToLong(l.substr(4));
      counts.clear();
    } else if (ran >= 0 && l.rfind("FAILED (", 0) == 0) {
      counts = CountList(l.substr(8, l.size() > 9 ? l.size() - 9 : 0), false);
    } else if (ran >= 0 && l.rfind("OK (", 0) == 0) {
      counts = CountList(l.substr(4, l.size() > 5 ? l.size() - 5 : 0), false);
    }
  }
  if (ran < 0) return problems::InvalidInput("no 'Ran N tests' summary in the output");
  TestReport report;
  report.format = "unittest";
  long f_left = counts["failures"], e_left = counts["errors"];
  const long skipped = counts["skipped"] + counts["expected failures"];
  // "FAIL: test_x (pkg.Class)" / "ERROR: ..." headers, the traceback after
  // the dashes, its last line the reason.
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view l = lines[i];
    const bool fail = l.rfind("FAIL: ", 0) == 0, error = l.rfind("ERROR: ", 0) == 0;
    if (!fail && !error) continue;
    long& left = fail ? f_left : e_left;
    if (left <= 0) continue;
    --left;
    std::string reason;
    for (std::size_t j = i + 1; j < lines.size() && j < i + 400; ++j) {
      if (lines[j].rfind("=====", 0) == 0 || lines[j].rfind("Ran ", 0) == 0) break;
      if (lines[j].rfind("-----", 0) == 0) continue;
      if (!TrimLeft(lines[j]).empty()) reason = std::string(lines[j]);
    }
    const Outcome o = fail ? Outcome::kFailed : Outcome::kError;
    report.Add(o, {Bounded(l.substr(fail ? 6 : 7)), "", 0, o, Bounded(reason)});
  }
  for (long i = 0; i < f_left && i < 100000; ++i) report.Add(Outcome::kFailed, {"(unnamed)"});
  for (long i = 0; i < e_left && i < 100000; ++i) report.Add(Outcome::kError, {"(unnamed)"});
  for (long i = 0; i < skipped && i < 100000; ++i) report.Add(Outcome::kSkipped);
  for (long i = report.tests; i < ran && i < 1000000; ++i) report.Add(Outcome::kPassed);
  return report;
}

Result<TestReport> ParseExUnitOutput(std::string_view text) {
  const auto lines = text::Lines(text);
  std::map<std::string, long> counts;
  bool found = false;
  for (const auto& l : lines) {
    // "5 doctests, 3 tests, 1 failure, 2 skipped (1 excluded)"
    if (l.find(" failure") == std::string_view::npos || l.find(" test") == std::string_view::npos)
      continue;
    std::string_view body = l.substr(0, l.find(" ("));
    auto c = CountList(body, true);
    if (!c.count("failures") || !(c.count("tests") || c.count("doctests"))) continue;
    counts = std::move(c);
    found = true;
  }
  if (!found) return problems::InvalidInput("no 'N tests, N failures' summary in the output");
  TestReport report;
  report.format = "exunit";
  long left = counts["failures"];
  // "  1) test adds (MathTest)" then "     test/math_test.exs:5", then the reason.
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    const std::string_view l = TrimLeft(lines[i]);
    const auto paren = l.find(") ");
    if (paren == std::string_view::npos || paren == 0 ||
        l.substr(0, paren).find_first_not_of("0123456789") != std::string_view::npos)
      continue;
    if (left <= 0) break;
    --left;
    FailedTest f{Bounded(l.substr(paren + 2)), "", 0, Outcome::kFailed, ""};
    const std::string_view where = TrimLeft(lines[i + 1]);
    const auto colon = where.rfind(':');
    if (colon != std::string_view::npos && where.find(' ') == std::string_view::npos) {
      f.file = Bounded(where.substr(0, colon), 300);
      f.line = static_cast<int>(ToLong(where.substr(colon + 1)));
    }
    for (std::size_t j = i + 2; j < lines.size() && j < i + 6; ++j) {
      if (!TrimLeft(lines[j]).empty()) {
        f.message = Bounded(TrimLeft(lines[j]));
        break;
      }
    }
    report.Add(Outcome::kFailed, std::move(f));
  }
  for (long i = 0; i < left && i < 100000; ++i) report.Add(Outcome::kFailed, {"(unnamed)"});
  for (long i = 0; i < counts["skipped"] && i < 100000; ++i) report.Add(Outcome::kSkipped);
  const long total = counts["tests"] + counts["doctests"] + counts["properties"];
  for (long i = report.tests; i < total && i < 1000000; ++i) report.Add(Outcome::kPassed);
  return report;
}

Result<TestReport> ParseRunnerOutput(std::string_view runner, std::string_view text) {
  if (runner == "go test") return ParseGoTestJson(text);
  if (runner == "cargo test") return ParseCargoTestOutput(text);
  if (runner == "minitest") return ParseMinitestOutput(text);
  if (runner == "unittest") return ParseUnittestOutput(text);
  if (runner == "ExUnit") return ParseExUnitOutput(text);
  return problems::InvalidInput("the output of '" + std::string(runner) + "' is not a report");
}

Result<TestReport> ParseTestReport(std::string_view content) {
  const std::string_view body = Body(content);
  if (body.empty()) return problems::InvalidInput("the test report is empty");
  if (body.front() == '<') {
    // XML: TRX's root is <TestRun>; everything else is read as JUnit.
    const auto root = body.find("<TestRun");
    if (root != std::string_view::npos && body.find("<testsuite") == std::string_view::npos) {
      return ParseTrx(content);
    }
    return ParseJUnitXml(content);
  }
  if (body.front() == '{') {
    // One object: Jest or RSpec; one object per line: go test -json.
    const auto nl = body.find('\n');
    const std::string_view first = body.substr(0, nl);
    if (first.find("\"Action\"") != std::string_view::npos) return ParseGoTestJson(body);
    if (body.find("\"numTotalTests\"") != std::string_view::npos) return ParseJestJson(body);
    if (body.find("\"examples\"") != std::string_view::npos) return ParseRspecJson(body);
    return problems::InvalidInput("a JSON test report of an unknown kind");
  }
  if (body.find("test result: ") != std::string_view::npos) return ParseCargoTestOutput(body);
  if (body.find(" assertions, ") != std::string_view::npos) return ParseMinitestOutput(body);
  return problems::InvalidInput(
      "not a test report this reads (JUnit XML, TRX, go test -json, "
      "Jest or RSpec JSON, cargo or minitest output)");
}

}  // namespace ps::quality
