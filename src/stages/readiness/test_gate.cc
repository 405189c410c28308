#include "stages/readiness/test_gate.h"

#include <sys/stat.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "core/fs.h"
#include "core/process.h"
#include "core/xml.h"
#include "quality/runners.h"

namespace ps::stages::readiness {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxReportBytes = 64ull << 20;

bool Matches(std::string_view pattern, std::string_view name) {
  // '*' matches any run of characters (within one path part).
  std::size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string Percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v);
  return buf;
}

std::int64_t MtimeNs(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

Millis SteadyMs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<Millis>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::int64_t NowNs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Whether the service's python3 (its .venv's when PATH leads there) imports
// `module`; module names only, never shell text.
bool PythonImports(const TestTarget& t, const std::string& module) {
  if (module.empty() ||
      module.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.") != std::string::npos) {
    return false;
  }
  SpawnOptions so;
  so.argv = {"/bin/sh", "-c", "exec python3 -c 'import " + module + "'"};
  so.cwd = t.cwd;
  so.env = t.env;
  so.secrets_file = t.secrets_file;
  auto exit = RunToCompletion(so, 20'000);
  return exit.ok() && exit->ok();
}

}  // namespace

std::vector<std::string> GlobFiles(const std::string& base, const std::string& pattern) {
  const bool absolute = !pattern.empty() && pattern.front() == '/';
  std::vector<std::string> parts;
  std::size_t pos = absolute ? 1 : 0;
  while (pos <= pattern.size()) {
    const auto slash = pattern.find('/', pos);
    parts.push_back(
        pattern.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos));
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  std::vector<std::string> current = {absolute ? std::string("/") : base};
  for (std::size_t i = 0; i < parts.size() && !current.empty(); ++i) {
    const std::string& part = parts[i];
    std::vector<std::string> next;
    for (const auto& dir : current) {
      if (part.find('*') == std::string::npos) {
        const fs::path p = fs::path(dir) / part;
        std::error_code ec;
        if (fs::exists(p, ec)) next.push_back(p.string());
        continue;
      }
      std::error_code ec;
      for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (Matches(part, name)) next.push_back(it->path().string());
        if (next.size() >= 1000) break;
      }
    }
    std::sort(next.begin(), next.end());
    current = std::move(next);
  }
  std::stable_sort(current.begin(), current.end(), [](const std::string& a, const std::string& b) {
    return MtimeNs(a) < MtimeNs(b);
  });
  return current;
}

Json ServiceTests::ToJson() const {
  Json j = {{"service", service}, {"runner", runner},   {"test_command", test_command},
            {"command", command}, {"cwd", cwd},         {"log", log},
            {"exit", exit},       {"exit_ok", exit_ok}, {"seconds", seconds},
            {"notes", notes}};
  j["report"] = report ? report->ToJson() : Json(nullptr);
  j["coverage"] = coverage ? coverage->ToJson(50) : Json(nullptr);
  if (!exit_ok) j["log_tail"] = log_tail;
  return j;
}

quality::TestReport TestGateResult::Totals() const {
  quality::TestReport t;
  for (const auto& s : services) {
    if (s.report) t.Merge(*s.report);
  }
  return t;
}

std::optional<quality::Coverage> TestGateResult::MergedCoverage() const {
  std::optional<quality::Coverage> merged;
  for (const auto& s : services) {
    if (!s.coverage) continue;
    if (!merged) merged.emplace();
    // Paths are per service: prefix them so two services' "index.js" stay apart.
    quality::Coverage c = *s.coverage;
    quality::Coverage prefixed;
    prefixed.format = c.format;
    prefixed.unit = c.unit;
    for (const auto& [path, f] : c.files) prefixed.files[s.service + ":" + path] = f;
    merged->Merge(prefixed);
  }
  return merged;
}

Json TestGateResult::ToJson() const {
  Json list = Json::array();
  for (const auto& s : services) list.push_back(s.ToJson());
  const auto totals = Totals();
  const auto cov = MergedCoverage();
  Json j = {{"passed", passed()},      {"blockers", blockers},          {"services", list},
            {"tests", totals.tests},   {"passed_tests", totals.passed}, {"failed", totals.failed},
            {"errors", totals.errors}, {"skipped", totals.skipped},     {"flaky", totals.flaky}};
  j["coverage"] = cov ? Json(std::round(cov->LinePercent() * 10) / 10) : Json(nullptr);
  if (!skipped_reason.empty()) j["skipped_reason"] = skipped_reason;
  j["measured"] = !services.empty();  // no test ran: the gate measured nothing
  return j;
}

std::string TestGateResult::JUnitXml() const {
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  const auto t = Totals();
  char head[256];
  std::snprintf(head, sizeof head,
                "<testsuites name=\"prodsprint tests\" tests=\"%ld\" failures=\"%ld\" "
                "errors=\"%ld\" skipped=\"%ld\" time=\"%.3f\">\n",
                t.tests, t.failed, t.errors, t.skipped, t.time_s);
  x += head;
  for (const auto& s : services) {
    const quality::TestReport r = s.report.value_or(quality::TestReport{});
    // A run that left no report is one erroring case, so CI shows it.
    const bool no_report = !s.report;
    std::snprintf(head, sizeof head,
                  "  <testsuite tests=\"%ld\" failures=\"%ld\" errors=\"%ld\" skipped=\"%ld\" "
                  "time=\"%.3f\" ",
                  no_report ? 1L : r.tests, r.failed, no_report ? 1L : r.errors, r.skipped,
                  s.seconds);
    x += head + std::string("name=\"") + XmlEscape(s.service) + "\">\n";
    if (no_report) {
      x += "    <testcase name=\"" + XmlEscape(s.command) + "\" classname=\"" +
           XmlEscape(s.service) + "\"><error message=\"" + XmlEscape(s.exit) + "\">" +
           XmlEscape(s.log_tail) + "</error></testcase>\n";
    }
    for (const auto& f : r.failures) {
      const char* tag = f.outcome == quality::Outcome::kError ? "error" : "failure";
      x += "    <testcase name=\"" + XmlEscape(f.name) + "\" classname=\"" + XmlEscape(s.service) +
           "\"" + (f.file.empty() ? "" : " file=\"" + XmlEscape(f.file) + "\"") +
           (f.line > 0 ? " line=\"" + std::to_string(f.line) + "\"" : "") + "><" + tag +
           " message=\"" + XmlEscape(quality::Excerpt(f.message, 1, 200)) + "\">" +
           XmlEscape(f.message) + "</" + tag + "></testcase>\n";
    }
    x += "  </testsuite>\n";
  }
  x += "</testsuites>\n";
  return x;
}

Result<TestGateResult> RunTestGate(const TestGateOptions& o) {
  TestGateResult result;
  result.skipped_reason = o.skipped_reason;
  const PolicyConfig& p = o.policy;
  if (o.targets.empty()) {
    if (p.tests_required && !o.nothing_to_release) {
      result.blockers.push_back(
          (o.skipped_reason.empty() ? std::string("no service has a test command")
                                    : o.skipped_reason) +
          "; the policy requires tests (policy.tests.required: false allows a release without)");
    }
    return result;
  }
  PS_TRY(EnsureDir(o.report_dir));
  for (const auto& t : o.targets) {
    if (o.stopping && o.stopping()) return problems::Cancelled("the test gate was stopped");
    ServiceTests st;
    st.service = t.service;
    st.cwd = t.cwd;
    st.test_command = t.command;
    const std::string dir = (fs::path(o.report_dir) / t.service).string();
    std::error_code ec;
    fs::remove_all(dir, ec);
    PS_TRY(EnsureDir(dir));
    const auto has = [&](const std::string& what) {
      if (what.rfind("python-module:", 0) == 0) return PythonImports(t, what.substr(14));
      return !GlobFiles(t.cwd, what).empty();
    };
    const auto plan = quality::PlanTestInvocation(t.framework, t.command, dir, has);
    st.runner = plan.runner;
    st.command = plan.command;
    if (!plan.note.empty()) st.notes.push_back(plan.note);
    st.log = (fs::path(o.report_dir) / (t.service + ".log")).string();
    fs::remove(st.log, ec);
    if (o.progress) o.progress("testing " + t.service + ": " + plan.command);

    SpawnOptions so;
    so.argv = {"/bin/sh", "-c", plan.command};
    so.cwd = t.cwd;
    so.env = t.env;
    so.secrets_file = t.secrets_file;
    so.secrets_file = t.secrets_file;
    so.log_path = st.log;
    const std::int64_t started_ns = NowNs();
    const Millis t0 = SteadyMs();
    auto exit = RunToCompletion(so, o.timeout_ms, o.stopping);
    st.seconds = static_cast<double>(SteadyMs() - t0) / 1000.0;
    if (!exit.ok()) {
      if (o.stopping && o.stopping()) return problems::Cancelled("the test gate was stopped");
      st.exit = exit.problem().Is("timeout") ? "timeout" : "not started";
      st.notes.push_back(exit.problem().detail);
    } else {
      st.exit = exit->Describe();
      st.exit_ok = exit->ok();
    }
    st.log_tail = LogTail(st.log, 3000);

    // Results: the runner's report files written during this run, or its output.
    if (plan.output_is_report) {
      if (auto text = ReadFile(st.log, kMaxReportBytes); text.ok()) {
        auto r = quality::ParseRunnerOutput(plan.runner, *text);
        if (r.ok()) {
          st.report = std::move(*r);
        } else {
          st.notes.push_back("output: " + r.problem().detail);
        }
      }
    }
    for (const auto& pattern : plan.reports) {
      for (const auto& file : GlobFiles(t.cwd, pattern)) {
        if (MtimeNs(file) + 2'000'000'000 < started_ns) continue;  // from an earlier run
        auto text = ReadFile(file, kMaxReportBytes);
        auto r = text.ok() ? quality::ParseTestReport(*text)
                           : Result<quality::TestReport>(text.problem());
        if (!r.ok()) {
          st.notes.push_back(file + ": " + r.problem().detail);
          continue;
        }
        if (!st.report) st.report.emplace();
        st.report->Merge(*r);
      }
    }
    for (const auto& pattern : plan.coverage) {
      for (const auto& file : GlobFiles(t.cwd, pattern)) {
        if (MtimeNs(file) + 2'000'000'000 < started_ns) continue;
        auto text = ReadFile(file, kMaxReportBytes);
        auto c =
            text.ok() ? quality::ParseCoverage(*text) : Result<quality::Coverage>(text.problem());
        if (!c.ok()) {
          st.notes.push_back(file + ": " + c.problem().detail);
          continue;
        }
        // Paths as the service sees them; the tests themselves do not count.
        quality::Coverage cov = std::move(*c);
        quality::Coverage rel;
        rel.format = cov.format;
        rel.unit = cov.unit;
        const std::string prefix = t.cwd + "/";
        for (auto& [path, f] : cov.files) {
          rel.files[path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : path] = f;
        }
        rel.DropFiles([](const std::string& path) {
          return quality::IsTestPath(path) || path.find("node_modules/") != std::string::npos;
        });
        if (!st.coverage) st.coverage.emplace();
        st.coverage->Merge(rel);
      }
    }

    // The service's share of the decision.
    const std::string who = "tests of " + t.service;
    if (st.exit == "timeout") {
      result.blockers.push_back(who + " did not finish within " +
                                std::to_string(o.timeout_ms / 1000) + " s");
    } else if (st.exit == "not started") {
      result.blockers.push_back(who + " could not start: " + st.notes.back());
    } else if (!st.report) {
      if (!st.exit_ok) {
        result.blockers.push_back(who + ": '" + t.command + "' failed (" + st.exit +
                                  ") and left no report; see " + st.log);
      } else {
        st.notes.push_back("no report was read: only the exit status counts");
      }
    } else if (!st.exit_ok && st.report->ok()) {
      result.blockers.push_back(who + ": '" + t.command + "' ended with " + st.exit +
                                " although its report shows no failing test; see " + st.log);
    }
    result.services.push_back(std::move(st));
  }
  const auto totals = result.Totals();
  const long failing = totals.failed + totals.errors;
  if (failing > p.tests_max_failures) {
    std::string names;
    for (std::size_t i = 0; i < totals.failures.size() && i < 3; ++i) {
      names += (i ? ", " : "") + totals.failures[i].name;
    }
    result.blockers.push_back(
        std::to_string(failing) +
        " failing test(s) (policy.tests.max_failures: " + std::to_string(p.tests_max_failures) +
        ")" + (names.empty() ? "" : ": " + names + (failing > 3 ? ", ..." : "")));
  }
  if (p.tests_coverage_min > 0) {
    const auto cov = result.MergedCoverage();
    if (!cov) {
      result.blockers.push_back("no coverage report was produced; the policy requires " +
                                std::to_string(p.tests_coverage_min) +
                                "% (policy.tests.coverage_min)");
    } else if (cov->LinePercent() + 1e-9 < p.tests_coverage_min) {
      result.blockers.push_back("coverage " + Percent(cov->LinePercent()) + " of " + cov->unit +
                                " is below policy.tests.coverage_min (" +
                                std::to_string(p.tests_coverage_min) + "%)");
    }
  }
  return result;
}

}  // namespace ps::stages::readiness
