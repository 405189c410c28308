#include "cli/app.h"

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "artifacts/artifact_store.h"
#include "cli/backends.h"
#include "cli/builtin.h"
#include "cli/check_cmd.h"
#include "cli/deploy_cmd.h"
#include "cli/output.h"
#include "cli/plan_cmd.h"
#include "cli/readiness_cmd.h"
#include "cli/report.h"
#include "cli/session.h"
#include "core/config.h"
#include "core/fs.h"
#include "core/ids.h"
#include "core/xml.h"
#include "engine/engine.h"
#include "engine/worker_pool.h"
#include "load/histogram.h"
#include "quality/test_report.h"
#include "stages/audit/audit.h"
#include "stages/git/libgit2.h"
#include "stages/plan/blueprint.h"
#include "store/backends.h"
#include "store/model_json.h"
#include "store/tenancy.h"

namespace ps::cli {

namespace {

using store::Run;
using store::RunStatus;
using store::Tenant;
using store::Tx;

void OnSignal(int) { g_interrupted = true; }

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C kills at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

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

// --- commands -------------------------------------------------------------

int CmdVersion(bool json) {
  int major = 0, minor = 0, rev = 0;
  if (auto g = stages::git::Load(); g.ok()) (*g)->libgit2_version(&major, &minor, &rev);
  Json v{
      {"version", PS_VERSION},
      {"schema", store::StoreBackends()["sqlite"].value("schema", 0)},
      {"sqlite", sqlite3_libversion()},
      {"libgit2", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(rev)}};
  if (json) {
    std::cout << Dump(v, 2) << std::endl;
  } else {
    std::cout << "prodsprint " << PS_VERSION << " (state schema " << v["schema"] << ", sqlite "
              << v["sqlite"].get<std::string>() << ", libgit2 " << v["libgit2"].get<std::string>()
              << ")" << std::endl;
  }
  return kExitOk;
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

// The gates as JUnit XML, for CI: one test case per gate; a failed gate is a
// failure holding its blockers, a waived one is skipped with the waiver, one
// that measured nothing is skipped with the reason (never a pass).
std::string GatesJUnit(const Json& checklist) {
  const auto esc = [](const std::string& v) { return XmlEscape(v); };
  int failures = 0, skipped = 0;
  std::string cases;
  for (const auto& g : checklist["gates"]) {
    const std::string status = g.value("status", "");
    cases += "    <testcase classname=\"readiness\" name=\"" + esc(g.value("gate", "")) + "\">";
    if (status == "failed" || status == "not run") {
      ++failures;
      std::string body;
      for (const auto& b : g.value("blockers", Json::array())) {
        body += (b.is_string() ? b.get<std::string>() : b.dump()) + "\n";
      }
      cases += "<failure message=\"" + esc(status) + "\">" + esc(body) + "</failure>";
    } else if (status == "not measured") {
      // Not a pass: the gate ran and could measure nothing (the note says why).
      ++skipped;
      cases += "<skipped message=\"" + esc("not measured: " + g.value("note", "")) + "\"/>";
    } else if (status == "waived") {
      ++skipped;
      const Json& w = g["waiver"];
      cases += "<skipped message=\"" +
               esc("waived until " + FormatTime(w.value("until", Millis{0})) + " by " +
                   w.value("by", "") + ": " + w.value("reason", "")) +
               "\"/>";
    }
    cases += "</testcase>\n";
  }
  const std::string n = std::to_string(checklist["gates"].size());
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"prodsprint readiness\">\n"
         "  <testsuite name=\"readiness\" tests=\"" +
         n + "\" failures=\"" + std::to_string(failures) + "\" errors=\"0\" skipped=\"" +
         std::to_string(skipped) + "\">\n" + cases + "  </testsuite>\n</testsuites>\n";
}

// The gates as SARIF 2.1.0, for code-scanning tools: the security gate's own
// run (every finding with its location, as `check --gate security --sarif`
// writes it) when it is given, then a run of the checklist: one result per
// blocker of a failed gate (level error), a waived gate's blockers as
// suppressed results with the waiver as justification.
Json GatesSarif(const Json& checklist, const Json& security_sarif) {
  Json runs = Json::array();
  if (security_sarif.is_object() && security_sarif.contains("runs") &&
      security_sarif["runs"].is_array()) {
    for (const auto& r : security_sarif["runs"]) runs.push_back(r);
  }
  Json rules = Json::array();
  Json results = Json::array();
  int index = 0;
  for (const auto& g : checklist["gates"]) {
    const std::string gate = g.value("gate", "");
    const std::string status = g.value("status", "");
    const std::string id = "readiness/" + gate;
    rules.push_back({{"id", id},
                     {"name", gate + " gate"},
                     {"shortDescription", {{"text", "The " + gate + " readiness gate blocks"}}},
                     {"help",
                      {{"text", "docs/READINESS.md: what the " + gate +
                                    " gate checks, its policy and how to waive it"}}},
                     {"defaultConfiguration", {{"level", "error"}}}});
    if (status == "failed" || status == "waived" || status == "not run") {
      Json blockers = g.value("blockers", Json::array());
      if (blockers.empty()) blockers.push_back(status == "not run" ? "did not run" : "failed");
      for (const auto& b : blockers) {
        Json r = {{"ruleId", id},
                  {"ruleIndex", index},
                  {"level", "error"},
                  {"message", {{"text", b.is_string() ? b.get<std::string>() : b.dump()}}},
                  {"locations",
                   {{{"physicalLocation",
                      {{"artifactLocation", {{"uri", "prodsprint.yaml"}}},
                       {"region", {{"startLine", 1}}}}}}}}};
        if (status == "waived" && g.contains("waiver")) {
          const Json& w = g["waiver"];
          r["suppressions"] = {
              {{"kind", "external"},
               {"status", "accepted"},
               {"justification", w.value("reason", "") + " (waived by " + w.value("by", "") +
                                     " until " + FormatTime(w.value("until", Millis{0})) + ")"}}};
        }
        results.push_back(std::move(r));
      }
    } else if (status == "not measured") {
      results.push_back({{"ruleId", id},
                         {"ruleIndex", index},
                         {"level", "note"},
                         {"kind", "notApplicable"},
                         {"message", {{"text", "not measured: " + g.value("note", "")}}},
                         {"locations",
                          {{{"physicalLocation",
                             {{"artifactLocation", {{"uri", "prodsprint.yaml"}}},
                              {"region", {{"startLine", 1}}}}}}}}});
    }
    ++index;
  }
  runs.push_back({{"tool",
                   {{"driver",
                     {{"name", "ProdSprint readiness"},
                      {"version", PS_VERSION},
                      {"informationUri", "https://prodsprint.dev/docs/readiness"},
                      {"rules", rules}}}}},
                  {"results", results},
                  {"properties", {{"ready", checklist.value("ready", false)}}}});
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", runs}};
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

std::string Who();

Result<int> CmdUp(const Options& o, const std::string& path, bool json, int workers, bool apply,
                  const std::string& ref) {
  PS_ASSIGN(const fs::path repo, RepoFolder(path));
  std::error_code ec;
  // A revision that does not exist is a usage error now, not a failed run.
  if (!ref.empty()) PS_TRY(stages::audit::OpenView(repo.string(), ref));
  PS_ASSIGN(auto s, OpenSession(o, repo / "prodsprint.yaml", true));
  if (workers > 0) s->config.engine.workers = workers;
  const Term term = Term::Detect();

  // The project is the repository, registered on first use.
  PS_ASSIGN(store::Project project, EnsureProject(*s, repo));

  if (!json) {
    std::cerr << term.Bold("ProdSprint") << " " << PS_VERSION << "  " << project.name << "  "
              << term.Dim(repo.string()) << "\n";
  }
  // The runs of the pipeline, in order: each resumes an unfinished run of its
  // kind rather than starting anew, and the next starts only if it is done.
  // The runs of the pipeline, in order, each towards one environment. For
  // the newest run of a kind and environment: unfinished with the same
  // input, it is resumed; failed with the same input (the same source
  // fingerprint and revision), it is resumed from its failed stage (`runs
  // retry`: finished stages are not redone); a finished readiness run with
  // the same input is reused when `reuse` (nothing it checked changed).
  // Otherwise a new run starts (an unfinished one with another input is
  // cancelled first: it is for a version no longer wanted).
  auto run_kind = [&](store::RunKind kind, const Json& given,
                      const std::function<void()>& on_interrupt = {},
                      bool reuse = false) -> Result<Run> {
    const Json input = WithSettings(*s, given);
    PS_ASSIGN(auto runs, store::ReadValue<std::vector<Run>>(*s->store, [&](Tx& tx) {
                return tx.ListRuns(s->tenant, {project.id, 50});
              }));
    const std::string kind_name(store::ToString(kind));
    std::string run_id;
    for (const auto& r : runs) {
      if (r.kind != kind || r.input.value("env", "") != input.value("env", "")) continue;
      const bool same = r.input == input;
      if (!Finished(r.status)) {
        if (same) {
          run_id = r.id;
          if (!json) std::cerr << "resuming unfinished " << kind_name << " run " << r.id << "\n";
          break;
        }
        (void)s->engine->Cancel(s->tenant, r.id, "up (a newer " + kind_name + " run)");
        continue;
      }
      if (same && r.status == RunStatus::kError && s->engine->Retry(s->tenant, r.id, Who()).ok()) {
        run_id = r.id;
        if (!json)
          std::cerr << "resuming failed " << kind_name << " run " << r.id
                    << " from its failed stage (finished stages are not redone)\n";
      } else if (same && reuse && r.status == RunStatus::kDone) {
        if (!json)
          std::cerr << term.Dim(kind_name + " run " + r.id +
                                " reused: it checked this very version with this input")
                    << "\n";
        return r;
      }
      break;  // only the newest run of the kind counts
    }
    if (run_id.empty()) {
      PS_ASSIGN(Run run, SubmitRun(*s, project, kind, given));
      run_id = run.id;
      if (!json) std::cerr << term.Dim(kind_name + " run " + run_id) << "\n";
    }
    return DriveRun(*s, run_id, !json, on_interrupt);
  };
  // Every run of one `up` reads one revision: with --ref, the import's audit
  // and the blueprint's plan read REV from git as apply, the gates and the
  // release do (never the working tree's HEAD).
  Json import_in = {{"path", repo.string()}};
  if (!ref.empty()) import_in["ref"] = ref;
  PS_ASSIGN(Run run, run_kind(store::RunKind::kImport, import_in));
  const std::string run_id = run.id;
  PS_ASSIGN(RunDetail d, LoadDetail(*s, run_id));
  // What the later runs are for: the tree's content fingerprint (and the
  // revision), so that a failed run is resumed only for the same source.
  std::string source_key;
  for (const auto& st : d.stages) {
    if (st.name == "source" && st.output.is_object())
      source_key = st.output.value("tree", Json::object()).value("fingerprint", "");
  }
  std::optional<RunDetail> bd;
  if (run.status == RunStatus::kDone) {
    Json plan_in = {{"path", repo.string()}, {"target", "local"}, {"env", "staging"}};
    if (!ref.empty()) plan_in["ref"] = ref;
    PS_ASSIGN(Run brun, run_kind(store::RunKind::kBlueprint, plan_in));
    PS_ASSIGN(bd, LoadDetail(*s, brun.id));
    if (brun.status != RunStatus::kDone) run = brun;  // the failure to report
  }
  // --apply: the planned version runs as local staging.
  std::optional<RunDetail> ad;
  if (apply && run.status == RunStatus::kDone) {
    Json in = {{"path", repo.string()}, {"env", "staging"}, {"target", "local"}};
    if (!ref.empty()) in["ref"] = ref;
    in["source"] = source_key;
    PS_ASSIGN(Run arun, run_kind(store::RunKind::kApply, in));
    PS_ASSIGN(ad, LoadDetail(*s, arun.id));
    if (arun.status != RunStatus::kDone) run = arun;
  }

  // Readiness: the gates (this build: security and tests, side by side; the
  // tests run where staging's version was prepared). A gate that blocks stops
  // the pipeline here, with its reasons.
  std::optional<RunDetail> rd;
  const Json* gate = nullptr;
  const Json* tests = nullptr;
  const Json* perf = nullptr;
  const Json* checklist = nullptr;
  if (run.status == RunStatus::kDone) {
    // The tests run in staging: with --apply (without it nothing is
    // provisioned and the test gate says it did not run).
    PS_ASSIGN(Json waivers, WaiversOf(*s, project.id));
    Json input = {{"path", repo.string()}, {"env", "staging"}, {"waivers", waivers}};
    if (apply) {
      input["provisioned"] = true;
      // The performance gate compares with what production serves, run
      // beside the candidate on staging.
      input["reference_env"] = "production";
    }
    if (!ref.empty()) input["ref"] = ref;
    input["source"] = source_key;
    // Reused only when apply found staging already running this version
    // (so smoke and performance measured what still serves) and no waiver
    // could have expired since.
    bool staging_unchanged = apply && ad;
    if (ad) {
      for (const auto& st : ad->stages) {
        if (st.name != "apply" || !st.output.is_object()) continue;
        for (const auto& svc : st.output.value("services", Json::array()))
          staging_unchanged = staging_unchanged && svc.value("action", "") == "unchanged";
      }
    }
    PS_ASSIGN(Run rrun, run_kind(store::RunKind::kReadiness, input, {},
                                 staging_unchanged && waivers.empty()));
    PS_ASSIGN(rd, LoadDetail(*s, rrun.id));
    if (rrun.status != RunStatus::kDone) run = rrun;
    for (const auto& st : rd->stages) {
      if (!st.output.is_object() || !st.output.contains("passed")) continue;
      if (st.name == "security") gate = &st.output;
      if (st.name == "tests") tests = &st.output;
      if (st.name == "performance") perf = &st.output;
    }
    for (const auto& st : rd->stages) {
      if (st.name == "checklist" && st.output.is_object() && st.output.contains("ready"))
        checklist = &st.output;
    }
  }
  // The checklist decides (a waived gate does not block).
  const bool gate_blocks = checklist && !(*checklist)["ready"].get<bool>();

  // Release (--apply): a ready version goes to the local production
  // environment: the first time by an apply (there is nothing to compare a
  // canary with), after that by a release run (canary or blue/green, as
  // release: says) against what production serves, rolled back by itself
  // when the new version is worse.
  const std::string prod = "production";
  PS_ASSIGN(targets::Target * local, s->targets->Find("local"));
  const targets::EnvRef prod_ref = EnvRefOf(*s, project, prod);
  std::optional<RunDetail> reld;
  std::string release_kind;
  if (apply && run.status == RunStatus::kDone && checklist && !gate_blocks) {
    bool has_stable = false;
    if (local->Exists(prod_ref)) {
      auto env = local->Open(prod_ref);
      if (env.ok()) {
        for (const auto& name : (*env)->Services()) has_stable = has_stable || (*env)->Stable(name);
      }
    }
    Json in = {{"path", repo.string()}, {"env", prod}, {"target", "local"}, {"source", source_key}};
    if (!ref.empty()) in["ref"] = ref;
    if (!json) std::cerr << "\n";
    if (has_stable) {
      release_kind = "release";
      if (!json) std::cerr << term.Bold("Release to " + prod) << "\n";
      // Ctrl-C aborts the release (weight 0, the new version stops) rather
      // than leaving traffic split with nobody watching.
      PS_ASSIGN(Run relrun, run_kind(store::RunKind::kRelease, in, [&] {
                  if (!json) std::cerr << "interrupted: aborting the release\n";
                  (void)local->PostControl(prod_ref, "abort");
                }));
      PS_ASSIGN(reld, LoadDetail(*s, relrun.id));
      if (relrun.status != RunStatus::kDone) run = relrun;
    } else {
      release_kind = "first deploy";
      if (!json) std::cerr << term.Bold("First deployment to " + prod) << "\n";
      PS_ASSIGN(Run prun, run_kind(store::RunKind::kApply, in));
      PS_ASSIGN(reld, LoadDetail(*s, prun.id));
      if (prun.status != RunStatus::kDone) run = prun;
    }
  }
  const Json* release_out = nullptr;
  if (reld) {
    for (const auto& st : reld->stages) {
      if ((st.name == "release" || st.name == "apply") && st.output.is_object())
        release_out = &st.output;
    }
  }
  const std::string release_status =
      release_kind == "release" && release_out ? release_out->value("status", "") : "";
  const bool rolled_back = release_status == "rolledback" || release_status == "aborted";

  // What happened, in one line (the summary's last word and the report's first).
  std::string outcome;
  std::string version;
  if (ad) {
    for (const auto& st : ad->stages) {
      if (st.name == "apply" && st.output.is_object()) version = st.output.value("version", "");
    }
  }
  if (run.status != RunStatus::kDone) {
    outcome = "Stopped: the " + std::string(store::ToString(run.kind)) + " run failed";
  } else if (gate_blocks) {
    outcome = "Not released: the readiness checklist is not ready";
  } else if (!apply) {
    outcome = "Audited and planned; nothing deployed ('up --apply' deploys, checks and releases)";
  } else if (release_kind == "first deploy") {
    outcome = "Version " + version.substr(0, 12) + " deployed to " + prod + " (its first version)";
  } else if (release_status == "promoted") {
    outcome = "Version " + version.substr(0, 12) + " promoted in " + prod;
  } else if (release_status == "unchanged") {
    outcome = "Nothing to release: " + prod + " already runs " + version.substr(0, 12);
  } else if (rolled_back) {
    outcome = "Version " + version.substr(0, 12) + " rolled back in " + prod + ": " +
              release_out->value("reason", "");
  }

  // The report: Markdown and HTML in <state>/reports/.
  std::optional<ReportFiles> report;
  if (apply && ad) {
    UpReport rep;
    rep.project = project.name;
    rep.repo = repo.string();
    rep.version = version;
    rep.ref = ref;
    rep.run_id = run.id;
    rep.at = SystemClock().Now();
    for (const auto& st : d.stages) {
      if (st.name == "audit") rep.audit = st.output;
    }
    if (bd) {
      for (const auto& st : bd->stages) {
        if (st.name == "plan") rep.plan = st.output;
      }
    }
    for (const auto& st : ad->stages) {
      if (st.name == "apply") rep.staging = st.output;
    }
    if (gate) rep.security = *gate;
    if (tests) rep.tests = *tests;
    if (perf) rep.performance = *perf;
    if (checklist) rep.checklist = *checklist;
    rep.release_kind = release_kind;
    rep.release_env = prod;
    if (release_out) rep.release = *release_out;
    rep.outcome = outcome;
    auto history = store::ReadValue<std::vector<store::Release>>(
        *s->store, [&](Tx& tx) { return tx.ListReleases(s->tenant, project.id); });
    if (history.ok()) {
      rep.history = *history;
      std::sort(rep.history.begin(), rep.history.end(),
                [](const store::Release& a, const store::Release& b) {
                  return a.created_at > b.created_at;
                });
    }
    auto files = WriteReport(s->state_dir / "reports", rep);
    if (files.ok()) report = *files;
  }

  const Json* source = nullptr;
  for (const auto& st : d.stages) {
    if (st.name == "source" && st.output.is_object()) source = &st.output;
  }
  if (json) {
    Json out = DetailJson(d);
    out["blueprint_run"] = bd ? DetailJson(*bd) : Json(nullptr);
    out["apply_run"] = ad ? DetailJson(*ad) : Json(nullptr);
    out["readiness_run"] = rd ? DetailJson(*rd) : Json(nullptr);
    out["checklist"] = checklist ? *checklist : Json(nullptr);
    out["release_run"] = reld ? DetailJson(*reld) : Json(nullptr);
    out["release"] = release_out ? *release_out : Json(nullptr);
    out["release_kind"] = release_kind.empty() ? Json(nullptr) : Json(release_kind);
    out["outcome"] = outcome;
    out["report"] =
        report ? Json{{"markdown", report->markdown.string()}, {"html", report->html.string()}}
               : Json(nullptr);
    std::cout << Dump(out, 2) << std::endl;
  } else {
    std::cout << "\n";
    std::vector<std::vector<std::string>> rows;
    if (source) {
      const Json& tree = (*source)["tree"];
      const Json& git = (*source)["git"];
      std::string vcs = git.value("vcs", "none");
      if (vcs == "git") {
        std::string commit = git.contains("commit") && git["commit"].is_string()
                                 ? git["commit"].get<std::string>().substr(0, 12)
                                 : "(no commits)";
        vcs = "git " + commit +
              (git.contains("ref")      ? " (--ref " + git.value("ref", "") + ")"
               : git.contains("branch") ? " on " + git.value("branch", "")
                                        : "") +
              (git.contains("path_in_repo") ? ", folder " + git.value("path_in_repo", "") : "") +
              (git.contains("ref")         ? ""
               : git.value("dirty", false) ? ", uncommitted changes"
                                           : ", clean");
      }
      rows.push_back({term.Bold("Repository"), tree.value("root", "")});
      rows.push_back({term.Bold("Version"), vcs});
      rows.push_back({term.Bold("Files"), std::to_string(tree.value("files", 0)) + " (" +
                                              std::to_string(tree.value("bytes", 0)) + " bytes)"});
      rows.push_back({term.Bold("Fingerprint"), tree.value("fingerprint", "")});
      const auto& outside = tree["symlinks_outside"];
      if (outside.is_array() && !outside.empty()) {
        rows.push_back({term.Yellow("Warning"),
                        std::to_string(outside.size()) +
                            " symbolic link(s) point outside the repository; not followed"});
      }
    }
    rows.push_back({term.Bold("Run"), run.id + "  " +
                                          term.Status(std::string(store::ToString(run.status))) +
                                          " in " + HumanDuration(RunDuration(run))});
    std::cout << Table(rows);
    for (const auto& st : d.stages) {
      if (st.name == "audit" && st.output.is_object() && st.output.contains("services")) {
        std::cout << "\n";
        PrintAudit(term, st.output, project.name);
      }
    }
    if (bd) {
      for (const auto& st : bd->stages) {
        if (st.name != "plan" || !st.output.is_object() || !st.output.contains("files")) continue;
        const Json& p = st.output;
        int errors = 0, warnings = 0;
        for (const auto& f : p["findings"]) {
          errors += f["severity"] == "error";
          warnings += f["severity"] == "warning";
        }
        std::cout << "\n"
                  << term.Bold("Plan") << " (" << p["target"].get<std::string>() << "/"
                  << p["env"].get<std::string>() << "): " << p["files"].size() << " file(s), "
                  << p["findings"].size() << " finding(s) (" << errors << " error(s), " << warnings
                  << " warning(s)); stored as artifacts of run " << bd->run.id << "\n";
        for (const auto& f : p["files"]) std::cout << "  " << f["path"].get<std::string>() << "\n";
        std::cout << term.Dim("  'prodsprint plan " + path +
                              "' writes them to a folder and lists the findings")
                  << "\n";
      }
    }
    if (ad) {
      for (const auto& st : ad->stages) {
        if (st.name != "apply" || !st.output.is_object() || !st.output.contains("services"))
          continue;
        std::cout << "\n"
                  << term.Bold("Staging") << " (local): version "
                  << st.output.value("version", "").substr(0, 12) << "\n";
        for (const auto& svc : st.output["services"]) {
          std::cout << "  " << svc.value("service", "") << "  " << svc.value("action", "") << "  "
                    << term.Cyan(svc.value("url", "(worker)")) << "\n";
        }
        std::cout << term.Dim("  'prodsprint status " + path + "' shows it; 'prodsprint down " +
                              path + "' stops it")
                  << "\n";
      }
    } else if (!apply) {
      std::cout << "\n"
                << term.Dim("'prodsprint up " + path +
                            " --apply' also runs it as local staging (prodsprint apply)")
                << "\n";
    }
    if (gate) PrintSecurityGate(term, *gate, rd->run.id, path);
    if (tests) PrintTestGate(term, *tests, rd->run.id);
    if (perf) PrintPerfGate(term, *perf, rd->run.id);
    if (checklist) PrintChecklist(term, *checklist);
    if (release_kind == "release" && release_out) {
      PrintRelease(term, *release_out, prod);
    } else if (release_kind == "first deploy" && release_out) {
      std::cout << "\n"
                << term.Bold("Production") << " (local): first version "
                << release_out->value("version", "").substr(0, 12) << "\n";
      for (const auto& svc : release_out->value("services", Json::array())) {
        std::cout << "  " << svc.value("service", "") << "  " << svc.value("action", "") << "  "
                  << term.Cyan(svc.value("url", "(worker)")) << "\n";
      }
    }
    if (!outcome.empty()) {
      const bool good = run.status == RunStatus::kDone && !gate_blocks && !rolled_back;
      std::cout << "\n" << (good ? term.Green(outcome) : term.Red(outcome)) << "\n";
    }
    if (report) {
      std::cout << term.Dim("Report: " + report->markdown.string() + "\n        " +
                            report->html.string())
                << "\n";
    }
    if (run.status == RunStatus::kError) {
      // Which stage, why, and how to go on.
      std::string failed_stage;
      if (auto fd = LoadDetail(*s, run.id); fd.ok()) {
        for (const auto& st : fd->stages) {
          if (st.status == store::StageStatus::kError) failed_stage = st.name;
        }
      }
      std::cout << term.Red("The pipeline stopped at the " +
                            std::string(store::ToString(run.kind)) + " run" +
                            (failed_stage.empty() ? "" : ", stage '" + failed_stage + "'"))
                << "\n";
      auto p = Problem::FromJson(run.error);
      if (p) PrintProblem(*p, false);
      std::cout << "details: prodsprint run show " << run.id << "\n"
                << "to resume: fix the cause and run 'prodsprint up " << path
                << (apply ? " --apply" : "") << (ref.empty() ? "" : " --ref " + ref)
                << "' again; with the same source, the failed run resumes from its failed stage "
                   "(finished stages are not redone)\n";
    }
  }
  return run.status == RunStatus::kDone && !gate_blocks && !rolled_back ? kExitOk : kExitFailed;
}

// `check --gate all|tests`: a readiness run (the gates side by side, the
// checklist) in the repository's staging environment folder, printed as `up`
// prints it; --junit writes the gates as JUnit XML.
Result<int> CmdCheckReadiness(const Options& o, const CheckArgs& a) {
  PS_ASSIGN(const fs::path repo, RepoFolder(a.path));
  std::error_code ec;
  PS_ASSIGN(auto s, OpenSession(o, repo / "prodsprint.yaml", true));
  PS_ASSIGN(store::Project project, EnsureProject(*s, repo));
  const Term term = Term::Detect();
  PS_ASSIGN(Json waivers, WaiversOf(*s, project.id));
  Json input = {{"path", repo.string()},
                {"env", "staging"},
                {"provisioned", true},
                {"reference_env", "production"},
                {"waivers", waivers}};
  if (!a.ref.empty()) input["ref"] = a.ref;
  if (!a.advisory_db.empty()) input["advisory_db"] = a.advisory_db;
  if (a.rebaseline) input["rebaseline"] = true;
  PS_ASSIGN(Run run, SubmitRun(*s, project, store::RunKind::kReadiness, input));
  if (!a.json) std::cerr << term.Dim("readiness run " + run.id) << "\n";
  PS_ASSIGN(run, DriveRun(*s, run.id, !a.json));
  PS_ASSIGN(RunDetail d, LoadDetail(*s, run.id));
  const Json* gate = nullptr;
  const Json* tests = nullptr;
  const Json* perf = nullptr;
  const Json* checklist = nullptr;
  for (const auto& st : d.stages) {
    if (!st.output.is_object()) continue;
    if (st.name == "security" && st.output.contains("passed")) gate = &st.output;
    if (st.name == "tests" && st.output.contains("passed")) tests = &st.output;
    if (st.name == "performance" && st.output.contains("passed")) perf = &st.output;
    if (st.name == "checklist" && st.output.contains("ready")) checklist = &st.output;
  }
  if (!checklist) {
    // A gate could not run (the version did not build, a runner is missing):
    // the run failed, as `up` reports it (exit 1), not the user's input.
    auto p = Problem::FromJson(run.error);
    if (a.json) {
      std::cout << Dump({{"run", run.id}, {"checklist", nullptr}, {"error", run.error}}, 2)
                << std::endl;
    } else {
      if (p) PrintProblem(*p, false);
      std::cout << "details: prodsprint run show " << run.id << "\n";
    }
    return kExitFailed;
  }
  if (!a.junit.empty()) PS_TRY(WriteFileAtomic(a.junit, GatesJUnit(*checklist)));
  if (!a.sarif.empty()) {
    Json security_sarif;
    for (const auto& art : d.artifacts) {
      if (art.name != "security.sarif") continue;
      auto text = s->artifacts->Get(art.sha256);
      if (text.ok()) security_sarif = Json::parse(*text, nullptr, false);
    }
    PS_TRY(WriteFileAtomic(a.sarif, Dump(GatesSarif(*checklist, security_sarif), 2) + "\n"));
  }
  const bool ready = (*checklist)["ready"].get<bool>();
  if (a.json) {
    std::cout << Dump({{"run", run.id},
                       {"checklist", *checklist},
                       {"security", gate ? *gate : Json(nullptr)},
                       {"tests", tests ? *tests : Json(nullptr)},
                       {"performance", perf ? *perf : Json(nullptr)}},
                      2)
              << std::endl;
  } else {
    if (gate && a.gate == "all") PrintSecurityGate(term, *gate, run.id, a.path);
    if (tests && a.gate != "performance") PrintTestGate(term, *tests, run.id);
    if (perf && a.gate != "tests") PrintPerfGate(term, *perf, run.id);
    PrintChecklist(term, *checklist);
  }
  return ready ? kExitOk : kExitFailed;
}

Result<int> CmdRunsList(const Options& o, bool json, int limit, const std::string& project) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  std::vector<Run> runs;
  std::map<std::string, std::string> names;
  PS_TRY(s->store->Read([&](Tx& tx) -> Status {
    PS_ASSIGN(runs, tx.ListRuns(s->tenant, {project, limit}));
    PS_ASSIGN(auto projects, tx.ListProjects(s->tenant));
    for (const auto& p : projects) names[p.id] = p.name;
    return Ok();
  }));
  if (json) {
    Json arr = Json::array();
    for (const auto& r : runs) arr.push_back(store::ToJson(r));
    std::cout << Dump(arr, 2) << std::endl;
    return kExitOk;
  }
  if (runs.empty()) {
    std::cout << "no runs yet: 'prodsprint up PATH' starts one\n";
    return kExitOk;
  }
  const Term t = Term::Detect();
  std::vector<std::vector<std::string>> rows = {{t.Bold("RUN"), t.Bold("KIND"), t.Bold("STATUS"),
                                                 t.Bold("STAGE"), t.Bold("PROJECT"),
                                                 t.Bold("CREATED"), t.Bold("DURATION")}};
  for (const auto& r : runs) {
    rows.push_back({r.id, std::string(store::ToString(r.kind)),
                    t.Status(std::string(store::ToString(r.status))), r.stage, names[r.project_id],
                    FormatTime(r.created_at), HumanDuration(RunDuration(r))});
  }
  std::cout << Table(rows);
  return kExitOk;
}

Result<int> CmdRunShow(const Options& o, const std::string& id, bool json) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  PS_ASSIGN(Run run, ResolveRun(*s, id));
  PS_ASSIGN(RunDetail d, LoadDetail(*s, run.id));
  if (json) {
    std::cout << Dump(DetailJson(d), 2) << std::endl;
  } else {
    PrintDetail(Term::Detect(), *s, d);
  }
  return kExitOk;
}

std::string Who() {
  const char* user = std::getenv("USER");
  return std::string("cli:") + (user && *user ? user : std::to_string(getuid()));
}

Result<int> CmdRunsCancel(const Options& o, const std::string& id, bool json) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  PS_ASSIGN(Run run, ResolveRun(*s, id));
  PS_TRY(s->engine->Cancel(s->tenant, run.id, Who()));
  PS_ASSIGN(RunDetail d, LoadDetail(*s, run.id));
  if (json) {
    std::cout << Dump(DetailJson(d), 2) << std::endl;
  } else {
    std::cout << "run " << run.id << " cancelled";
    bool running = false;
    for (const auto& st : d.stages) running = running || st.status == store::StageStatus::kRunning;
    if (running) std::cout << "; running stages stop at their next heartbeat";
    std::cout << "\n";
  }
  return kExitOk;
}

Result<int> CmdRunsRetry(const Options& o, const std::string& id, bool json, bool wait) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  PS_ASSIGN(Run run, ResolveRun(*s, id));
  PS_TRY(s->engine->Retry(s->tenant, run.id, Who()));
  if (!json) std::cerr << "run " << run.id << " replayed from its dead letters\n";
  if (wait) {
    PS_ASSIGN(run, DriveRun(*s, run.id, !json));
  }
  PS_ASSIGN(RunDetail d, LoadDetail(*s, run.id));
  if (json) {
    std::cout << Dump(DetailJson(d), 2) << std::endl;
  } else if (wait) {
    std::cout << "run " << run.id << " "
              << Term::Detect().Status(std::string(store::ToString(d.run.status))) << "\n";
  }
  if (!wait) return kExitOk;
  return d.run.status == RunStatus::kDone ? kExitOk : kExitFailed;
}

Result<int> CmdLogs(const Options& o, const std::string& id, bool follow,
                    const std::string& only_stage) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  PS_ASSIGN(Run run, ResolveRun(*s, id));
  const Term t = Term::Detect();
  std::map<std::string, std::uint64_t> offsets;  // log file -> bytes printed
  std::string current;                           // the file whose lines were printed last
  while (true) {
    std::vector<store::AttemptRow> attempts;
    PS_TRY(s->store->Read([&](Tx& tx) -> Status {
      PS_ASSIGN(attempts, tx.ListAttempts(s->tenant, run.id));
      PS_ASSIGN(run, tx.GetRun(s->tenant, run.id));
      return Ok();
    }));
    bool any_running = false;
    for (const auto& a : attempts) {
      any_running = any_running || a.status == store::AttemptStatus::kRunning;
      if (!only_stage.empty() && a.stage != only_stage) continue;
      const fs::path path = s->engine->LogPath(run.id, a.stage, a.attempt);
      std::ifstream in(path, std::ios::binary);
      if (!in) continue;
      auto& off = offsets[path.string()];
      in.seekg(static_cast<std::streamoff>(off));
      std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      // Print whole lines only; a partial last line waits for its end.
      auto end = chunk.rfind('\n');
      if (end == std::string::npos) continue;
      chunk.resize(end + 1);
      if (current != path.string()) {
        std::cout << t.Bold("==> " + a.stage + " attempt " + std::to_string(a.attempt) + " <==")
                  << "\n";
        current = path.string();
      }
      std::cout << chunk << std::flush;
      off += chunk.size();
    }
    if (!follow || (Finished(run.status) && !any_running) || g_interrupted) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (offsets.empty() && !follow) std::cerr << "no logs for run " << run.id << " yet\n";
  return kExitOk;
}

Result<int> CmdEvents(const Options& o, std::int64_t after, const std::string& run_id, bool follow,
                      bool json) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  std::string rid;
  if (!run_id.empty()) {
    PS_ASSIGN(Run run, ResolveRun(*s, run_id));
    rid = run.id;
  }
  const Term t = Term::Detect();
  std::int64_t seq = after;
  while (true) {
    std::vector<store::Event> events;
    PS_TRY(s->store->Read([&](Tx& tx) -> Status {
      PS_ASSIGN(events, tx.ListEvents(s->tenant, seq, 1000, rid));
      return Ok();
    }));
    for (const auto& e : events) {
      seq = e.seq;
      if (json) {
        std::cout << Dump(store::ToJson(e)) << "\n";
      } else {
        std::cout << t.Dim(std::to_string(e.seq)) << "  " << FormatTime(e.created_at) << "  "
                  << t.Bold(e.name) << "  " << e.run_id << "  " << Dump(e.payload) << "\n";
      }
    }
    std::cout << std::flush;
    if (!follow || g_interrupted) break;
    if (events.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return kExitOk;
}

Result<int> CmdAudit(const std::string& path, const std::string& ref, bool json) {
  PS_ASSIGN(std::unique_ptr<stages::audit::RepoView> view, stages::audit::OpenView(path, ref));
  PS_ASSIGN(Json result, stages::audit::Audit(*view, {}, [] { return g_interrupted.load(); }));
  // Stopped after the walk: what was read is partial, never a result.
  if (g_interrupted) return problems::Cancelled("stopped by a signal: no result");
  if (json) {
    std::cout << Dump(result, 2) << std::endl;
    return kExitOk;
  }
  PrintAudit(Term::Detect(), result, view->Describe());
  return kExitOk;
}

Result<int> CmdWorker(const Options& o, int workers, bool until_idle) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  if (workers > 0) s->config.engine.workers = workers;
  engine::WorkerPool pool(*s->engine, s->config.engine.workers, engine::ProcessWorkerId());
  pool.Start();
  std::cerr << "serving " << s->store->Describe() << " with " << s->config.engine.workers
            << " worker(s); Ctrl-C stops after the current stages\n";
  int idle_checks = 0;
  while (!g_interrupted) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!until_idle) continue;
    // Idle: nothing ready, running, or waiting for its backoff.
    bool busy = false;
    auto st = s->store->Read([&](Tx& tx) -> Status {
      PS_ASSIGN(auto runs, tx.ListRuns(s->tenant, {"", 1000}));
      for (const auto& r : runs) busy = busy || !Finished(r.status);
      if (busy) return Ok();
      PS_ASSIGN(auto expired, tx.FindExpiredLeases(INT64_MAX, 1));
      busy = !expired.empty();
      return Ok();
    });
    if (st.ok() && !busy && ++idle_checks >= 2) break;
    if (busy) idle_checks = 0;
  }
  pool.Stop();
  return g_interrupted ? kExitInterrupted : kExitOk;
}

Result<int> CmdConfig(const Options& o, bool json, const std::string& check) {
  fs::path path =
      !check.empty() ? fs::path(check) : fs::path(o.config.empty() ? "prodsprint.yaml" : o.config);
  std::error_code ec;
  if (!check.empty() && !fs::exists(path, ec))
    return problems::NotFound("configuration file", check);
  PS_ASSIGN(Config c, LoadConfig(path.string(), check.empty() && o.config.empty()));
  if (json) {
    Json out = c.ToJson();
    out["_origin"] = c.origin;
    out["_file"] = c.file;
    std::cout << Dump(out, 2) << std::endl;
    return kExitOk;
  }
  if (!check.empty()) {
    std::cout << path.string() << ": valid\n";
    return kExitOk;
  }
  std::cout << "# effective configuration"
            << (c.file.empty() ? " (no prodsprint.yaml: defaults)" : " from " + c.file) << "\n";
  std::function<void(const Json&, const std::string&, int)> dump =
      [&](const Json& j, const std::string& prefix, int depth) {
        for (const auto& [k, v] : j.items()) {
          const std::string path_key = prefix.empty() ? k : prefix + "." + k;
          std::cout << std::string(static_cast<std::size_t>(depth) * 2, ' ') << k << ":";
          if (v.is_object()) {
            std::cout << (v.empty() ? " {}" : "") << "\n";
            dump(v, path_key, depth + 1);
          } else {
            std::cout << " " << (v.is_string() ? v.get<std::string>() : Dump(v));
            auto it = c.origin.find(path_key);
            if (it != c.origin.end()) std::cout << "   # " << it->second;
            std::cout << "\n";
          }
        }
      };
  dump(c.ToJson(), "", 0);
  return kExitOk;
}

int Finish(const Result<int>& r, bool json) {
  if (r.ok()) return *r;
  PrintProblem(r.problem(), json);
  // Work stopped by Ctrl-C or SIGTERM exits 130, whatever layer noticed.
  if (g_interrupted && r.problem().Is("cancelled")) return kExitInterrupted;
  return ExitCodeFor(r.problem());
}

}  // namespace

int Main(int argc, char** argv) {
  InstallSignalHandlers();
  RegisterBackends();
  GuardTerminalOutput();
  CLI::App app{
      "ProdSprint takes a repository to production safely: it reads the repo, plans the build, "
      "CI,\n"
      "infrastructure and cost, provisions staging, runs readiness gates and releases with\n"
      "canary or blue/green strategies that roll back by themselves.\n\n"
      "State lives in .prodsprint/ of the working folder (--state or PRODSPRINT_STATE_DIR to\n"
      "change). Every reporting command takes --json. Exit codes: 0 ok, 1 failed, 2 invalid\n"
      "input or configuration, 3 not found, 4 state store problem, 5 conflict, 130 interrupted.",
      "prodsprint"};
  app.set_version_flag("--version", std::string("prodsprint ") + PS_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  Options o;
  app.add_option("--state", o.state, "State folder (default: .prodsprint of the working folder)");
  app.add_option("--config", o.config, "Configuration file (default: prodsprint.yaml)");
  app.add_option("--org", o.org, "Organisation to work in")->capture_default_str();
  app.add_option("--workspace", o.workspace, "Workspace to work in")->capture_default_str();

  bool json = false;
  auto* version = app.add_subcommand("version", "Print the version of prodsprint and its parts");
  version->add_flag("--json", json, "Machine-readable output");

  std::string path;
  int workers = 0;
  auto* up = app.add_subcommand(
      "up",
      "ProdSprint's main job (docs/UP.md). Registers the repository as a project, audits it and\n"
      "plans it; with --apply, runs the version as local staging, runs the readiness gates there\n"
      "(security, tests with the smoke routes, performance against the baseline) and, when the\n"
      "checklist is ready, releases it to local production: the first version by an apply, later\n"
      "ones as a canary (the traffic split shown live) that rolls back by itself when worse. Ends\n"
      "with a summary and a report (Markdown and HTML) in the state folder's reports/. A failed\n"
      "run is resumed from its failed stage by the next up with the same source. Exit 1 when a\n"
      "run fails, the checklist is not ready, or the release was rolled back.");
  up->add_option("PATH", path, "The repository's folder")->required();
  up->add_flag("--json", json, "Print the run, its stages and results as JSON");
  up->add_option("--workers", workers, "Worker threads (default: engine.workers)")
      ->check(CLI::Range(1, 64));
  bool up_apply = false;
  up->add_flag("--apply", up_apply,
               "The whole pipeline: run the version as local staging (supervised processes behind "
               "HAProxy), run the gates there, then release it to local production (the first "
               "time an apply, then a canary that rolls back by itself) and write the report");
  std::string up_ref;
  up->add_option("--ref", up_ref, "The git revision to deploy, check and release (default HEAD)");

  std::string run_id, project, stage;
  int limit = 50;
  bool follow = false, no_wait = false;
  auto* runs = app.add_subcommand("runs", "List runs, or show, retry and cancel one");
  runs->alias("run");
  runs->require_subcommand(0, 1);
  runs->add_flag("--json", json, "Machine-readable output");
  runs->add_option("--limit", limit, "How many runs, newest first")->check(CLI::Range(1, 10000));
  runs->add_option("--project", project, "Only runs of this project id");
  auto* runs_list = runs->add_subcommand("list", "List runs, newest first (the default)");
  runs_list->add_flag("--json", json, "Machine-readable output");
  runs_list->add_option("--limit", limit, "How many runs")->check(CLI::Range(1, 10000));
  runs_list->add_option("--project", project, "Only runs of this project id");
  auto* runs_show =
      runs->add_subcommand("show", "Show a run: its stages, attempts, dead letters and artifacts");
  runs_show->add_option("RUN", run_id, "Run id or a unique prefix of it")->required();
  runs_show->add_flag("--json", json, "Machine-readable output");
  auto* runs_retry = runs->add_subcommand(
      "retry",
      "Replay a failed or cancelled run from its dead letters: failed and cancelled stages get\n"
      "a fresh budget of attempts, finished stages are kept. Runs the workers until it ends.");
  runs_retry->add_option("RUN", run_id, "Run id or a unique prefix of it")->required();
  runs_retry->add_flag("--json", json, "Machine-readable output");
  runs_retry->add_flag("--no-wait", no_wait,
                       "Only mark the run for replay; 'prodsprint worker' runs it");
  auto* runs_cancel = runs->add_subcommand(
      "cancel",
      "Cancel a run: waiting stages never start, running ones stop at their next heartbeat");
  runs_cancel->add_option("RUN", run_id, "Run id or a unique prefix of it")->required();
  runs_cancel->add_flag("--json", json, "Machine-readable output");

  auto* logs = app.add_subcommand("logs", "Print the stage logs of a run");
  logs->add_option("RUN", run_id, "Run id or a unique prefix of it")->required();
  logs->add_flag("-f,--follow", follow, "Keep printing new lines until the run ends");
  logs->add_option("--stage", stage, "Only this stage");

  std::int64_t after = 0;
  auto* events = app.add_subcommand(
      "events",
      "Print the event stream (outbox) in order: each event has a sequence number, so a reader\n"
      "can resume after the last one it saw with --after.");
  events->add_option("--after", after, "Only events with a larger sequence number");
  events->add_option("--run", run_id, "Only events of this run");
  events->add_flag("-f,--follow", follow, "Keep printing new events");
  events->add_flag("--json", json, "One JSON object per line");

  std::string ref;
  auto* audit = app.add_subcommand(
      "audit",
      "Audit a repository: languages, frameworks, package managers, monorepo layout, and every\n"
      "deployable service with its kind, runtime, port, commands, env vars, backing services and\n"
      "migrations, each fact with its evidence (file:line) and confidence. Sources that disagree\n"
      "are reported as conflicts with all candidates. Reads nothing outside the tree and follows\n"
      "no symbolic link. docs/AUDIT.md describes the JSON.");
  audit->add_option("PATH", path, "The repository's folder")->required();
  audit->add_option("--ref", ref, "Read this git revision from the object database, no checkout");
  audit->add_flag("--json", json, "The full result as JSON");

  PlanArgs plan_args;
  auto* plan = app.add_subcommand(
      "plan",
      "Plan how the repository reaches production: audit it, then write a blueprint to a folder:\n"
      "a multi-stage Dockerfile and .dockerignore per service without one (a review of the ones\n"
      "it has), a GitHub Actions workflow, the drafted policy, and per target Terraform (aws),\n"
      "Helm charts with Argo Rollouts and Argo CD (kubernetes), render.yaml (render) or\n"
      "vercel.json (vercel), priced per month. Every fact the audit could not establish is a\n"
      "finding, never a guess. The same input writes the same bytes; a second plan reports the\n"
      "files, resources and cost that changed. docs/PLAN.md describes the files.");
  plan->add_option("PATH", plan_args.path, "The repository's folder")->required();
  plan->add_option("--ref", plan_args.ref, "Plan this git revision, read from the object database");
  plan->add_option("--target", plan_args.target,
                   "Where it runs: local, kubernetes, aws, render, vercel")
      ->capture_default_str();
  plan->add_option("--env", plan_args.env, "staging or production")->capture_default_str();
  plan->add_option("--out", plan_args.out,
                   "Folder to write to (default: PATH/.prodsprint/plan/ENV)");
  plan->add_option("--project", plan_args.project,
                   "Project name for images and resources (default: the folder's name)");
  plan->add_option("--repo-url", plan_args.repo_url,
                   "The Git URL Argo CD syncs from (target kubernetes)");
  plan->add_option("--cloud", plan_args.cloud,
                   "Target kubernetes: the cluster and its data on aws (EKS, RDS, ElastiCache) "
                   "or gcp (GKE, Cloud SQL, Memorystore)")
      ->capture_default_str();
  plan->add_flag("--json", plan_args.json,
                 "The plan summary (files, findings, policies, diff) as JSON");

  DeployArgs dep;
  auto add_env = [&](CLI::App* c) {
    c->add_option("--env", dep.env, "The environment (staging, production, ...)")
        ->capture_default_str();
    c->add_flag("--json", dep.json, "Machine-readable output");
  };
  auto* apply = app.add_subcommand(
      "apply",
      "Make a revision the running version of an environment on this machine: export it (from\n"
      "git, no checkout) into a release folder, install and build it, start PostgreSQL/Redis if\n"
      "it needs them, run its migrations, start its instances under a supervisor (restarts with\n"
      "backoff, graceful stops) and route to them through HAProxy. A running version is replaced\n"
      "without dropping a request; the same revision again changes nothing.");
  apply->add_option("PATH", dep.path, "The repository's folder")->required();
  apply->add_option("--ref", dep.ref, "The git revision (default: HEAD)");
  apply->add_option("--target", dep.target, "Where: local")->capture_default_str();
  add_env(apply);

  auto* status = app.add_subcommand(
      "status", "Show a project's environments: services, versions, instances, weights, URLs");
  status->add_option("PATH", dep.path, "The repository's folder (default: .)");
  status->add_flag("--json", dep.json, "Machine-readable output");

  auto* release = app.add_subcommand(
      "release",
      "Release a revision beside the stable version and move traffic to it: canary steps\n"
      "(release.steps: setWeight, pause, analysis) or blue/green. ProdSprint drives traffic at\n"
      "release.traffic.rate and compares the new version with the stable one on every request\n"
      "from HAProxy's log (errors and latency, sequential tests); it rolls back by itself when\n"
      "the new version is worse or unhealthy. Exit 0 when promoted, 1 when rolled back.");
  release->add_option("PATH", dep.path, "The repository's folder")->required();
  release->add_option("--ref", dep.ref, "The git revision to release")->required();
  release->add_option("--strategy", dep.strategy,
                      "canary or bluegreen (default: release.strategy)");
  add_env(release);
  auto* promote = app.add_subcommand(
      "promote", "Let the running release go on: ends a pause, or promotes at once");
  promote->add_option("PATH", dep.path, "The repository's folder")->required();
  add_env(promote);
  auto* abort_cmd = app.add_subcommand(
      "abort", "Stop the running release: the new version's weight goes to 0, it drains and stops");
  abort_cmd->add_option("PATH", dep.path, "The repository's folder")->required();
  add_env(abort_cmd);
  auto* rollback = app.add_subcommand(
      "rollback",
      "Roll back: the running release (as abort), or, when none runs, every service back to the\n"
      "version it ran before (instantly when blue/green kept it warm)");
  rollback->add_option("PATH", dep.path, "The repository's folder")->required();
  add_env(rollback);
  auto* down = app.add_subcommand(
      "down", "Stop every process of an environment (release folders and data are kept)");
  down->add_option("PATH", dep.path, "The repository's folder")->required();
  add_env(down);

  LoadArgs load_args;
  auto* load = app.add_subcommand(
      "load",
      "Load-test an HTTP/1.1 server over keep-alive connections and report throughput, errors\n"
      "and latency percentiles (p50 p90 p95 p99 p99.9 max), overall and per URL. Open loop by\n"
      "default: requests are due at --rate per second whatever the server does, and latency\n"
      "counts from when each was due (corrected for coordinated omission). --closed: each\n"
      "connection sends its next request when the last is answered (wrk's model).");
  load->add_option("URL", load_args.urls,
                   "http://127.0.0.1:PORT/path; several URLs (same host and port) are requested "
                   "in turn")
      ->required();
  load->add_option("--rate", load_args.rate, "Requests per second (open loop)")
      ->check(CLI::Range(0.1, 1e7))
      ->capture_default_str();
  load->add_option("--duration", load_args.duration_s, "Seconds")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  load->add_option("--warmup", load_args.warmup_s, "Seconds at the start not counted")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  load->add_option("--connections", load_args.connections, "Connections")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  load->add_option("--threads", load_args.threads, "Event-loop threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  load->add_flag("--closed", load_args.closed, "Closed loop: as fast as the server answers");
  load->add_flag("--json", load_args.json, "Machine-readable output");

  std::string supervise_dir;
  auto* supervise = app.add_subcommand("__supervise", "");
  supervise->group("");  // internal: the local target's process supervisor
  supervise->add_option("DIR", supervise_dir)->required();

  CheckArgs check_args;
  auto* check_cmd = app.add_subcommand(
      "check",
      "Run the readiness gates on a repository and print the checklist: each gate passed,\n"
      "failed (with its blockers) or waived. By default all three gates, in a readiness run in\n"
      "the repository's local staging environment: security; tests (the version prepared as for\n"
      "staging, its test command run, JUnit results and coverage against policy.tests, smoke\n"
      "routes requested from staging); performance (the smoke routes loaded at\n"
      "policy.performance.rate, compared with the baseline). --gate security only reads the tree\n"
      "(or --ref REV) and keeps nothing: secrets, dependencies, known vulnerabilities, licenses,\n"
      "Dockerfile/Kubernetes/Terraform rules (docs/SECURITY.md). Exit 1 when not ready.");
  check_cmd->add_option("PATH", check_args.path, "The repository's folder")->required();
  check_cmd
      ->add_option("--gate", check_args.gate,
                   "all (a readiness run: security, tests, performance and the checklist); "
                   "tests or performance (the same run, that gate printed); security (read the "
                   "tree, keep nothing)")
      ->check(CLI::IsMember({"security", "tests", "performance", "all"}))
      ->capture_default_str();
  check_cmd->add_option("--junit", check_args.junit,
                        "Unless --gate security: also write the gates as JUnit XML (for CI)");
  check_cmd->add_flag("--rebaseline", check_args.rebaseline,
                      "Unless --gate security: the performance gate takes a new baseline instead "
                      "of comparing with the stored one");
  check_cmd->add_option("--ref", check_args.ref, "Scan this git revision instead of the tree");
  check_cmd->add_option("--sarif", check_args.sarif,
                        "Also write the findings (and, unless --gate security, the checklist) as "
                        "SARIF 2.1.0");
  check_cmd->add_option("--sbom", check_args.sbom,
                        "Also write an SBOM of the dependency graph (CycloneDX 1.5 JSON; SPDX 2.3 "
                        "JSON with --sbom-format spdx or a file name holding 'spdx')");
  check_cmd->add_option("--sbom-format", check_args.sbom_format, "cyclonedx or spdx");
  check_cmd->add_option("--advisory-db", check_args.advisory_db,
                        "The advisory database (default: $PRODSPRINT_ADVISORY_DB, else "
                        "~/.cache/prodsprint/advisories.db)");
  check_cmd->add_option("--baseline", check_args.baseline,
                        "Accept the findings this baseline file lists (they do not block)");
  check_cmd->add_option("--write-baseline", check_args.write_baseline,
                        "Write every current finding to this file as accepted");
  check_cmd->add_flag(
      "--history", check_args.history,
      "Also scan the git history for secrets: every blob of every branch and tag "
      "once, with the commit that introduced it; remembered, so the next scan reads "
      "only new commits");
  check_cmd->add_option("--gitleaks-config", check_args.gitleaks_config,
                        "Import a gitleaks TOML configuration: its rules and allowlists (default: "
                        "the repository's .gitleaks.toml when it has one)");
  check_cmd->add_flag("--json", check_args.json, "The result as JSON");

  WaiveArgs waive_args;
  auto* waive = app.add_subcommand(
      "waive",
      "Waive a readiness gate for a while: a failed gate that a waiver covers does not block the\n"
      "checklist. Recorded in the audit log with who, why and until when; at most " +
          std::to_string(kMaxWaiverDays) + " days.");
  waive->add_option("GATE", waive_args.gate, "security, tests or performance")->required();
  waive->add_option("--path", waive_args.path, "The repository's folder")->capture_default_str();
  waive->add_option("--reason", waive_args.reason, "Why the gate may be skipped")->required();
  waive
      ->add_option("--until", waive_args.until,
                   "YYYY-MM-DD (the end of that day, UTC) or YYYY-MM-DDTHH:MM:SSZ")
      ->required();
  waive->add_flag("--json", waive_args.json, "Machine-readable output");
  std::string waivers_path = ".";
  auto* waivers = app.add_subcommand("waivers", "List the waivers of a repository's gates");
  waivers->add_option("PATH", waivers_path, "The repository's folder")->capture_default_str();
  waivers->add_flag("--json", json, "Machine-readable output");

  DbArgs db_args;
  auto* db = app.add_subcommand(
      "db",
      "The offline advisory database (OSV format) the security gate matches dependencies\n"
      "against. Default location: $PRODSPRINT_ADVISORY_DB, else "
      "~/.cache/prodsprint/advisories.db.");
  db->require_subcommand(1);
  db->add_option("--db", db_args.db, "The database file");
  auto* db_import = db->add_subcommand(
      "import",
      "Load OSV records: .json files (one record or a list), OSV's zip exports, or\n"
      "folders of them. Newer versions of a record replace older ones; withdrawn ones go.");
  db_import->add_option("PATH", db_args.paths, "Files or folders")->required();
  db_import->add_flag("--json", db_args.json, "Machine-readable output");
  auto* db_update = db->add_subcommand(
      "update",
      "Fetch OSV's per-ecosystem exports (<url>/<ecosystem>/all.zip, with curl) and\n"
      "load them. Needs a network; without one, `db import` exports fetched elsewhere.");
  db_update->add_option("--ecosystem", db_args.ecosystems,
                        "Which (repeatable; default npm PyPI Go crates.io RubyGems Packagist Maven "
                        "NuGet Hex)");
  db_update->add_option("--url", db_args.url,
                        "Base URL (default https://osv-vulnerabilities.storage.googleapis.com)");
  db_update->add_flag("--json", db_args.json, "Machine-readable output");
  auto* db_status =
      db->add_subcommand("status", "Advisories per ecosystem, newest record, last update");
  db_status->add_flag("--json", db_args.json, "Machine-readable output");

  bool until_idle = false;
  auto* worker = app.add_subcommand(
      "worker",
      "Serve the state store's runs with worker threads until stopped (Ctrl-C finishes the\n"
      "current stages first). Several workers, in several processes, may share one store.");
  worker->add_option("--workers", workers, "Worker threads (default: engine.workers)")
      ->check(CLI::Range(1, 64));
  worker->add_flag("--until-idle", until_idle, "Exit once no run has work left");

  std::string check;
  auto* config = app.add_subcommand(
      "config", "Show the effective configuration and where each value came from");
  config->add_flag("--json", json, "Machine-readable output");
  auto* config_check = config->add_subcommand("check", "Validate a prodsprint.yaml");
  config_check->add_option("FILE", check, "The file to check")->required();
  config_check->add_flag("--json", json, "Machine-readable output");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // With --json, a usage error is a Problem on stdout like any other.
    const bool want_json = std::any_of(
        argv + 1, argv + argc, [](const char* a) { return std::string_view(a) == "--json"; });
    if (want_json && e.get_exit_code() != 0) {
      PrintProblem(
          Problem::Make("usage", "Usage error", 400, std::string(e.what()) + " (see --help)"),
          true);
      return kExitUsage;
    }
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  Result<int> r = kExitOk;
  if (version->parsed()) {
    r = CmdVersion(json);
  } else if (audit->parsed()) {
    r = CmdAudit(path, ref, json);
  } else if (plan->parsed()) {
    json = plan_args.json;
    r = CmdPlan(plan_args, [] { return g_interrupted.load(); });
  } else if (up->parsed()) {
    r = CmdUp(o, path, json, workers, up_apply, up_ref);
  } else if (runs->parsed()) {
    if (runs_show->parsed()) {
      r = CmdRunShow(o, run_id, json);
    } else if (runs_retry->parsed()) {
      r = CmdRunsRetry(o, run_id, json, !no_wait);
    } else if (runs_cancel->parsed()) {
      r = CmdRunsCancel(o, run_id, json);
    } else {
      r = CmdRunsList(o, json, limit, project);
    }
  } else if (logs->parsed()) {
    r = CmdLogs(o, run_id, follow, stage);
  } else if (events->parsed()) {
    r = CmdEvents(o, after, run_id, follow, json);
  } else if (worker->parsed()) {
    r = CmdWorker(o, workers, until_idle);
  } else if (config->parsed()) {
    r = CmdConfig(o, json, config_check->parsed() ? check : "");
  } else if (waive->parsed()) {
    json = waive_args.json;
    r = CmdWaive(o, waive_args);
  } else if (waivers->parsed()) {
    r = CmdWaivers(o, waivers_path, json);
  } else if (check_cmd->parsed()) {
    json = check_args.json;
    if (check_args.gate != "security") {
      // Options of the security gate alone.
      std::string only;
      for (const auto* opt : {"--sbom", "--sbom-format", "--baseline", "--write-baseline",
                              "--history", "--gitleaks-config"}) {
        if (check_cmd->count(opt) > 0) only += (only.empty() ? "" : ", ") + std::string(opt);
      }
      if (!only.empty()) {
        r = problems::InvalidInput(only +
                                   " go with --gate security (the readiness run stores "
                                   "the SBOMs as artifacts)");
      } else {
        r = CmdCheckReadiness(o, check_args);
      }
    } else {
      r = CmdCheck(check_args, [] { return g_interrupted.load(); });
    }
  } else if (db->parsed()) {
    json = db_args.json;
    if (db_import->parsed()) {
      r = CmdDbImport(db_args, [] { return g_interrupted.load(); });
    } else if (db_update->parsed()) {
      r = CmdDbUpdate(db_args, [] { return g_interrupted.load(); });
    } else {
      r = CmdDbStatus(db_args);
    }
  } else if (apply->parsed()) {
    json = dep.json;
    r = CmdApply(o, dep);
  } else if (status->parsed()) {
    json = dep.json;
    r = CmdStatus(o, dep);
  } else if (release->parsed()) {
    json = dep.json;
    r = CmdRelease(o, dep);
  } else if (promote->parsed()) {
    json = dep.json;
    r = CmdControl(o, dep, "promote");
  } else if (abort_cmd->parsed()) {
    json = dep.json;
    r = CmdControl(o, dep, "abort");
  } else if (rollback->parsed()) {
    json = dep.json;
    r = CmdRollback(o, dep);
  } else if (down->parsed()) {
    json = dep.json;
    r = CmdDown(o, dep);
  } else if (load->parsed()) {
    json = load_args.json;
    r = CmdLoad(load_args);
  } else if (supervise->parsed()) {
    return CmdSupervise(supervise_dir);
  }
  return Finish(r, json);
}

}  // namespace ps::cli
