// How commands print what the application layer returns (print.h).
#include "cli/print.h"

#include <cmath>
#include <iostream>

#include "core/clock.h"
#include "load/histogram.h"
#include "quality/test_report.h"
#include "store/model_json.h"

namespace ps::cli {

using store::Run;
using store::RunStatus;

std::string Short(const std::string& v) { return v.substr(0, 12); }

void PrintDetail(const Term& t, const Session& s, const RunDetail& d) {
  const Run& r = d.run;
  std::cout << t.Bold("Run " + r.id) << "  " << store::ToString(r.kind) << "  "
            << t.Status(std::string(store::ToString(r.status))) << "\n";
  std::cout << Table({{"Project", d.project.name + "  " + t.Dim(d.project.repo_url)},
                      {"Created", FormatTime(r.created_at)},
                      {"Duration", HumanDuration(RunDuration(r))},
                      {"Replays", std::to_string(r.attempt)},
                      {"Logs", (s.state_dir / r.logs_ref).string()}});
  if (r.status == RunStatus::kError && r.error.is_object()) {
    auto p = Problem::FromJson(r.error);
    if (p) std::cout << t.Red("Error") << "     " << p->Message() << "\n";
  }
  std::vector<std::vector<std::string>> rows = {
      {t.Bold("STAGE"), t.Bold("STATUS"), t.Bold("ATTEMPTS"), t.Bold("DURATION"), t.Bold("NOTE")}};
  for (const auto& st : d.stages) {
    std::string note;
    if (st.error.is_object()) {
      auto p = Problem::FromJson(st.error);
      if (p) note = p->Message();
    }
    if (st.status == store::StageStatus::kBlocked && !st.needs.empty()) {
      std::string needs;
      for (const auto& n : st.needs) needs += (needs.empty() ? "" : ", ") + n;
      note = "waits for " + needs;
    }
    const bool finished = st.finished_at > 0 && st.started_at > 0;
    rows.push_back({st.name, t.Status(std::string(store::ToString(st.status))),
                    std::to_string(st.attempt) + "/" + std::to_string(st.max_attempts),
                    finished ? HumanDuration(st.finished_at - st.started_at) : "", note});
  }
  std::cout << "\n" << Table(rows);
  if (d.attempts.size() > d.stages.size()) {
    std::vector<std::vector<std::string>> arows = {
        {t.Bold("ATTEMPT"), t.Bold("OUTCOME"), t.Bold("WORKER"), t.Bold("STARTED")}};
    for (const auto& a : d.attempts) {
      arows.push_back({a.stage + "#" + std::to_string(a.attempt),
                       t.Status(std::string(store::ToString(a.status))), a.worker,
                       FormatTime(a.started_at)});
    }
    std::cout << "\n" << Table(arows);
  }
  std::size_t waiting = 0;
  for (const auto& dl : d.dead_letters) waiting += dl.replayed_at == 0;
  if (waiting > 0) {
    std::cout << "\n"
              << t.Yellow(std::to_string(waiting) + " dead letter(s)")
              << ": replay with 'prodsprint runs retry " << r.id << "'\n";
  }
  if (!d.artifacts.empty()) {
    std::vector<std::vector<std::string>> rows2 = {
        {t.Bold("ARTIFACT"), t.Bold("TYPE"), t.Bold("SIZE"), t.Bold("SHA256")}};
    for (const auto& a : d.artifacts) {
      rows2.push_back({a.name, std::string(store::ToString(a.type)), std::to_string(a.size),
                       a.sha256.substr(0, 16)});
    }
    std::cout << "\n" << Table(rows2);
  }
}

// A Field's value as text for tables ("" when absent; "!" marks a conflict).
std::string FieldText(const Json& field) {
  if (!field.is_object() || !field.contains("value")) return "";
  const Json& v = field["value"];
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_object() && v.contains("version")) {
    text = v.value("runtime", "") + " " + v["version"].get<std::string>();
  } else if (v.is_object() && v.contains("tool")) {
    text = v["tool"].is_string() ? v["tool"].get<std::string>() : "yes";
  } else if (!v.is_null()) {
    text = Dump(v);
  }
  if (field.value("conflict", false)) text += " (!)";
  return text;
}

// The audit as a human reads it: languages, files, a table of services,
// conflicts and warnings.
void PrintAudit(const Term& t, const Json& result, const std::string& what) {
  std::cout << t.Bold("Audit of " + what) << "\n";
  std::string langs;
  int shown = 0;
  for (const auto& l : result["languages"]) {
    if (shown++ == 6) break;
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f%%", l["percent"].get<double>());
    langs += (langs.empty() ? "" : ", ") + l["name"].get<std::string>() + " " + pct;
  }
  const Json& st = result["stats"];
  std::cout << Table(
      {{t.Bold("Languages"), langs.empty() ? "(none)" : langs},
       {t.Bold("Files"), std::to_string(st["files"].get<long long>()) + " (" +
                             std::to_string(st["ignored"].get<long long>()) + " ignored, " +
                             std::to_string(st["vendored"].get<long long>()) + " vendored, " +
                             std::to_string(st["generated"].get<long long>()) + " generated)"}});
  std::vector<std::vector<std::string>> rows = {
      {t.Bold("SERVICE"), t.Bold("ROOT"), t.Bold("KIND"), t.Bold("FRAMEWORK"), t.Bold("RUNTIME"),
       t.Bold("PORT"), t.Bold("START"), t.Bold("BACKING")}};
  int conflicts = 0;
  for (const auto& s : result["services"]) {
    std::string backing;
    for (const auto& b : s["backing_services"]) {
      backing += (backing.empty() ? "" : ",") + b["name"].get<std::string>();
    }
    for (const auto& [k, v] : s.items()) conflicts += v.is_object() && v.value("conflict", false);
    std::string lang = FieldText(s["language"]);
    std::string fw = FieldText(s["framework"]);
    rows.push_back({s["name"].get<std::string>(), s["root"].get<std::string>(),
                    FieldText(s["kind"]), fw.empty() ? lang : fw, FieldText(s["runtime_version"]),
                    FieldText(s["port"]), FieldText(s["start_command"]), backing});
  }
  std::cout << "\n";
  if (rows.size() == 1) {
    std::cout << "no deployable service found\n";
  } else {
    std::cout << Table(rows);
  }
  if (conflicts > 0) {
    std::cout << "\n"
              << t.Yellow(std::to_string(conflicts) + " conflicting fact(s)")
              << " marked (!): sources disagree; --json lists every candidate with its evidence\n";
  }
  if (!result["warnings"].empty()) {
    std::cout << "\n"
              << t.Yellow(std::to_string(result["warnings"].size()) + " warning(s)") << "\n";
    int n = 0;
    for (const auto& w : result["warnings"]) {
      if (n++ == 10) break;
      std::cout << "  " << w["file"].get<std::string>() << ": " << w["message"].get<std::string>()
                << "\n";
    }
  }
}

// The security gate's summary as `up` and `check --gate all` show it.
void PrintSecurityGate(const Term& term, const Json& g, const std::string& run_id,
                       const std::string& path) {
  std::cout << "\n"
            << term.Bold("Security gate") << ": "
            << (g["passed"].get<bool>() ? term.Green("passed") : term.Red("blocked")) << " - "
            << g["secrets"].size() << " secret(s), " << g["dependencies"]["components"]
            << " component(s), "
            << (g["vulnerabilities"]["checked"].get<bool>()
                    ? std::to_string(g["vulnerabilities"]["list"].size()) +
                          " known vulnerabilit(ies)"
                    : std::string("vulnerabilities not checked (no advisory database)"))
            << ", " << g["iac"].size()
            << " container/IaC finding(s); SBOMs stored as artifacts of run " << run_id << "\n";
  for (const auto& b : g["blockers"]) std::cout << "  - " << b.get<std::string>() << "\n";
  std::cout << term.Dim("  'prodsprint check " + path + " --gate security' lists the findings")
            << "\n";
}

// The readiness checklist: each gate's state, waivers, and whether ready.
void PrintChecklist(const Term& term, const Json& c) {
  std::cout << "\n"
            << term.Bold("Readiness") << ": "
            << (c["ready"].get<bool>() ? term.Green("ready") : term.Red("not ready")) << "\n";
  for (const auto& g : c["gates"]) {
    const std::string status = g.value("status", "");
    const std::string mark = status == "passed"         ? term.Green("v")
                             : status == "waived"       ? term.Yellow("~")
                             : status == "not measured" ? term.Yellow("?")
                                                        : term.Red("x");
    std::cout << "  " << mark << " " << g.value("gate", "") << "  " << status;
    if (status == "waived" && g.contains("waiver")) {
      const Json& w = g["waiver"];
      std::cout << " until " << FormatTime(w.value("until", Millis{0})).substr(0, 10) << " by "
                << w.value("by", "") << ": " << w.value("reason", "");
    }
    if (g.contains("note")) std::cout << "  " << term.Dim("(" + g["note"].get<std::string>() + ")");
    std::cout << "\n";
  }
}

// The test gate as `up` shows it: counts, coverage, each service's runner,
// the failing tests and the blockers.
void PrintTestGate(const Term& term, const Json& t, const std::string& run_id) {
  std::cout << "\n"
            << term.Bold("Test gate") << ": "
            << (!t["passed"].get<bool>()     ? term.Red("blocked")
                : !t.value("measured", true) ? term.Yellow("not measured")
                                             : term.Green("passed"))
            << " - ";
  if (t["services"].empty()) {
    std::cout << "no tests were run"
              << (t.contains("skipped_reason") ? " (" + t["skipped_reason"].get<std::string>() + ")"
                                               : std::string())
              << "\n";
  } else {
    std::cout << t["tests"] << " test(s): " << t["passed_tests"] << " passed, " << t["failed"]
              << " failed, " << t["errors"] << " error(s), " << t["skipped"] << " skipped";
    if (t["coverage"].is_number()) {
      char pct[32];
      std::snprintf(pct, sizeof pct, "%.1f%%", t["coverage"].get<double>());
      std::cout << "; coverage " << pct;
    }
    std::cout << "; JUnit XML and logs stored as artifacts of run " << run_id << "\n";
    for (const auto& s : t["services"]) {
      std::cout << "  " << s.value("service", "") << "  " << s.value("runner", "") << "  "
                << term.Dim(s.value("test_command", "")) << "  " << s.value("exit", "") << " in "
                << HumanDuration(static_cast<Millis>(s.value("seconds", 0.0) * 1000)) << "\n";
      if (s["report"].is_object()) {
        int shown = 0;
        for (const auto& f : s["report"]["failures"]) {
          if (shown++ == 5) break;
          std::cout << "    " << term.Red("x") << " " << f.value("name", "") << ": "
                    << quality::Excerpt(f.value("message", ""), 1, 160) << "\n";
        }
      }
    }
  }
  for (const auto& sm : t.value("smoke", Json::array())) {
    std::cout << "  smoke " << sm.value("service", "") << ": " << sm.value("routes", 0)
              << " route(s) found, " << sm["suite"].size() << " in the suite";
    if (sm.value("ran", false)) {
      std::cout << ", requested from staging: " << sm.value("failed", 0) << " failed";
    } else {
      std::cout << " (" << sm.value("note", "") << ")";
    }
    std::cout << "\n";
  }
  for (const auto& b : t["blockers"]) std::cout << "  - " << b.get<std::string>() << "\n";
}

// The performance gate as `up` shows it: per service the load, throughput,
// latency percentiles, the baseline and the regressions found.
void PrintPerfGate(const Term& term, const Json& p, const std::string& run_id) {
  std::cout << "\n"
            << term.Bold("Performance gate") << ": "
            << (!p.value("measured", true) ? term.Yellow("not measured")
                : p["passed"].get<bool>()  ? term.Green("passed")
                                           : term.Red("blocked"))
            << " - ";
  if (p["services"].empty()) {
    std::cout << (p.contains("skipped_reason") ? p["skipped_reason"].get<std::string>()
                                               : std::string("nothing was loaded"))
              << "\n";
  } else {
    std::cout << p.value("rate", 0) << " requests/s per service, open loop, for "
              << HumanDuration(p.value("duration_ms", Millis{0}))
              << "; measurements stored as artifacts of run " << run_id << "\n";
  }
  for (const auto& s : p["services"]) {
    const Json& sum = s["summary"];
    const Json& l = sum["latency_ms"];
    std::cout << "  " << s.value("service", "") << "  "
              << FormatNumber(std::round(sum.value("achieved_rate", 0.0) * 10) / 10) << "/s, "
              << sum.value("failed", 0) << " failed  p50 " << load::FormatMs(l.value("p50", 0.0))
              << "  p95 " << load::FormatMs(l.value("p95", 0.0)) << "  p99 "
              << load::FormatMs(l.value("p99", 0.0)) << "  p99.9 "
              << load::FormatMs(l.value("p99_9", 0.0)) << "  max "
              << load::FormatMs(l.value("max", 0.0)) << "\n";
    const Json& b = s["baseline"];
    if (b.is_object() && b.value("paired", false)) {
      std::cout << "    "
                << term.Dim("compared with version " + b.value("version", "").substr(0, 12) + " (" +
                            b.value("source", "") +
                            "), run beside it on staging and loaded at the same time")
                << "\n";
    } else if (b.is_object()) {
      std::cout << "    " << term.Yellow("regression not judged: ") << term.Dim(b.value("note", ""))
                << "\n";
    }
    if (s.contains("baseline_note"))
      std::cout << "    " << term.Dim(s["baseline_note"].get<std::string>()) << "\n";
    for (const auto& r : s["routes"]) {
      const Json& rl = r["latency_ms"];
      std::string verdict, beside;
      if (r.contains("compared")) {
        const Json& c = r["compared"];
        const Json bl = c.value("baseline_latency_ms", Json::object());
        beside = "  (baseline p50 " + load::FormatMs(bl.value("p50", 0.0)) + "  p95 " +
                 load::FormatMs(bl.value("p95", 0.0)) + ")";
        verdict = !c.value("judged", true)      ? term.Dim("not judged")
                  : c.value("regressed", false) ? term.Red("regressed")
                                                : term.Green("no regression");
      }
      std::cout << "    " << r.value("route", "") << "  p50 "
                << load::FormatMs(rl.value("p50", 0.0)) << "  p95 "
                << load::FormatMs(rl.value("p95", 0.0)) << term.Dim(beside) << "  " << verdict
                << "\n";
    }
  }
  for (const auto& b : p["blockers"]) std::cout << "  - " << b.get<std::string>() << "\n";
}

void PrintServices(const Term& term, const Json& services) {
  std::vector<std::vector<std::string>> rows = {
      {term.Bold("SERVICE"), term.Bold("ACTION"), term.Bold("VERSION"), term.Bold("URL")}};
  for (const auto& s : services) {
    rows.push_back({s.value("service", ""), s.value("action", ""), Short(s.value("version", "")),
                    s.value("url", "")});
  }
  std::cout << Table(rows);
}

Result<int> Failed(const RunDetail& d, bool json) {
  if (json) {
    std::cout << Dump(DetailJson(d), 2) << std::endl;
    return kExitFailed;
  }
  auto p = Problem::FromJson(d.run.error);
  for (const auto& st : d.stages) {
    if (st.error.is_object()) p = Problem::FromJson(st.error);
  }
  if (p) {
    PrintProblem(*p, false);
    if (p->extensions.contains("log_tail")) {
      std::cerr << "--- " << p->extensions.value("log", "log") << " (end) ---\n"
                << p->extensions["log_tail"].get<std::string>() << "\n";
    }
  }
  std::cerr << "details: prodsprint run show " << d.run.id << "\n";
  return p ? ExitCodeFor(*p) : kExitFailed;
}

void PrintRelease(const Term& term, const Json& out, const std::string& env) {
  const std::string status = out.value("status", "");
  Millis took = 0;
  for (const auto& dec : out.value("decisions", Json::array())) took = dec.value("at_ms", took);
  std::cout << "\n"
            << term.Bold("Release " + Short(out.value("version", "")) + " to " + env) << "  ";
  if (status == "promoted") {
    std::cout << term.Green("promoted") << " after " << HumanDuration(took) << "\n";
  } else if (status == "unchanged") {
    std::cout << term.Dim("nothing to release: ") << out.value("detail", "") << "\n";
  } else {
    std::cout << term.Red(status) << ": " << out.value("reason", "") << "\n";
    if (out.contains("detection_ms")) {
      std::cout << "  new version's weight 0 after "
                << HumanDuration(out["detection_ms"].get<Millis>())
                << " from its first request; the stable version serves\n";
    }
  }
  for (const auto& dec : out.value("decisions", Json::array())) {
    const std::string what = dec.value("what", ""), verdict = dec.value("verdict", "");
    std::string line = "  " + HumanDuration(dec.value("at_ms", Millis{0})) + "  " + what +
                       (verdict == what || verdict == "continue" ? "" : " " + verdict) +
                       "  weight " + std::to_string(dec.value("weight", 0)) + "%";
    for (const auto& [svc, st] : dec["services"].items()) {
      const Json& rq = st["requests"];
      const Json& er = st["errors"];
      line += "  " + svc + ": new " + std::to_string(rq.value("canary", 0)) + " req, " +
              std::to_string(er.value("canary", 0)) + " failed; stable " +
              std::to_string(rq.value("stable", 0)) + " req, " +
              std::to_string(er.value("stable", 0)) + " failed";
    }
    std::cout << term.Dim(line) << "\n";
  }
}

}  // namespace ps::cli
