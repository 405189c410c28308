#include "service/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/clock.h"
#include "core/fs.h"
#include "core/ids.h"
#include "core/xml.h"
#include "load/histogram.h"

namespace ps::service {

namespace fs = std::filesystem;

namespace {

std::string Str(const Json& j, const char* key, const std::string& fallback = "") {
  if (!j.is_object() || !j.contains(key)) return fallback;
  const Json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return fallback;
  return v.dump();
}

// Reading stage outputs that may lack anything (a failed run, an older
// version's output): never throws.
const Json& At(const Json& j, const char* key) {
  static const Json null;
  return j.is_object() && j.contains(key) ? j[key] : null;
}
const Json& List(const Json& j, const char* key) {
  static const Json empty = Json::array();
  const Json& v = At(j, key);
  return v.is_array() ? v : empty;
}
const Json& Obj(const Json& j, const char* key) {
  static const Json empty = Json::object();
  const Json& v = At(j, key);
  return v.is_object() ? v : empty;
}
double Num(const Json& j, const char* key, double fallback = 0) {
  const Json& v = At(j, key);
  return v.is_number() ? v.get<double>() : fallback;
}
bool Flag(const Json& j, const char* key, bool fallback) {
  const Json& v = At(j, key);
  return v.is_boolean() ? v.get<bool>() : fallback;
}

// An audit fact: {"value": ..., "evidence": ...}, or a plain value.
std::string Fact(const Json& service, const char* key) {
  if (!service.is_object() || !service.contains(key)) return "";
  const Json& f = service[key];
  if (f.is_object() && f.contains("value") && At(f, "value").is_object()) {
    const Json& v = At(f, "value");  // a runtime: {"runtime": "node", "version": ">=20"}
    return Str(v, "runtime") + (v.contains("version") ? " " + Str(v, "version") : "");
  }
  if (f.is_object()) return Str(f, "value");
  if (f.is_string()) return f.get<std::string>();
  return f.is_null() ? "" : f.dump();
}

std::string Short(const std::string& version) { return version.substr(0, 12); }

std::string GateStatus(const Json& checklist, const std::string& gate) {
  if (!checklist.is_object()) return "not run";
  for (const auto& g : List(checklist, "gates")) {
    if (Str(g, "gate", "") == gate) return Str(g, "status", "not run");
  }
  return "not run";
}

// Markdown table cells may not hold pipes or line breaks.
std::string Cell(std::string s) {
  for (auto& c : s) {
    if (c == '|' || c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

std::string Html(const std::string& s) { return XmlEscape(s); }

// The release's timeline as chart series.
struct Charts {
  std::vector<ChartSeries> weight, errors, latency;
  std::vector<std::pair<double, std::string>> marks;
};

Charts ChartsOf(const Json& release) {
  Charts c;
  c.weight = {{"new version's share of traffic", "#2563eb", {}}};
  c.errors = {{"new version", "#dc2626", {}}, {"stable version", "#16a34a", {}}};
  c.latency = {{"new version p95", "#dc2626", {}}, {"stable version p95", "#16a34a", {}}};
  for (const auto& s : List(release, "timeline")) {
    const double t = Num(s, "t_ms") / 1000.0;
    c.weight[0].points.push_back({t, Num(s, "weight")});
    const char* sides[] = {"canary", "stable"};
    for (int i = 0; i < 2; ++i) {
      const Json& side = Obj(s, sides[i]);
      const double n = Num(side, "requests");
      if (n <= 0) continue;
      c.errors[static_cast<std::size_t>(i)].points.push_back({t, 100.0 * Num(side, "failed") / n});
      c.latency[static_cast<std::size_t>(i)].points.push_back({t, Num(side, "p95_ms")});
    }
  }
  for (const auto& d : List(release, "decisions")) {
    const std::string what = Str(d, "what", "");
    std::string label = what == "setWeight" ? fmt::format("{}%", Num(d, "weight")) : what;
    if (Str(d, "verdict", "") == "promotable") label = "safe";
    c.marks.push_back({Num(d, "at_ms") / 1000.0, label});
  }
  return c;
}

}  // namespace

std::string SvgChart(const std::string& title, const std::string& y_unit,
                     const std::vector<ChartSeries>& series,
                     const std::vector<std::pair<double, std::string>>& marks, bool steps,
                     double y_min_max) {
  const double w = 640, h = 220, left = 56, right = 12, top = 28, bottom = 40;
  double x_max = 1, y_max = y_min_max > 0 ? y_min_max : 0;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      x_max = std::max(x_max, x);
      y_max = std::max(y_max, y);
    }
  }
  for (const auto& m : marks) x_max = std::max(x_max, m.first);
  if (y_max <= 0) y_max = 1;
  // A round top for the y axis: 1, 2 or 5 times a power of ten.
  const double mag = std::pow(10.0, std::floor(std::log10(y_max)));
  double top_value = mag;
  for (const double f : {1.0, 2.0, 5.0, 10.0}) {
    if (f * mag >= y_max) {
      top_value = f * mag;
      break;
    }
  }
  const double pw = w - left - right, ph = h - top - bottom;
  auto X = [&](double x) { return left + pw * x / x_max; };
  auto Y = [&](double y) { return top + ph * (1 - y / top_value); };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "aria-label=\"{}\" class=\"chart\">\n<text x=\"{}\" y=\"18\" class=\"title\">{}</text>\n",
      w, h, Html(title), left, Html(title));
  for (int i = 0; i <= 4; ++i) {
    const double v = top_value * i / 4;
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"axis\" text-anchor=\"end\">{:g}{}</text>\n",
        left, Y(v), w - right, Y(v), left - 6, Y(v) + 4, v, y_unit);
  }
  for (int i = 0; i <= 5; ++i) {
    const double v = x_max * i / 5;
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"axis\" text-anchor=\"middle\">{}s</text>\n", X(v),
        h - bottom + 16, x_max < 10 ? fmt::format("{:.1f}", v) : fmt::format("{:.0f}", v));
  }
  // Decision marks: labels stepped down when they would overlap, and set
  // left of their line near the right edge.
  double last_x = -1e9;
  int row = 0;
  for (const auto& [x, label] : marks) {
    row = X(x) - last_x < 44 ? row + 1 : 0;
    last_x = X(x);
    const bool near_end = X(x) > w - right - 50;
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" class=\"mark\"/>"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\" class=\"marklabel\" text-anchor=\"{5}\">{6}</text>\n",
        X(x), top, h - bottom, near_end ? X(x) - 3 : X(x) + 3, top + 10 + 11 * (row % 4),
        near_end ? "end" : "start", Html(label));
  }
  double legend_x = left;
  for (const auto& s : series) {
    std::string pts;
    double last_y = 0;
    bool first = true;
    for (const auto& [x, y] : s.points) {
      if (steps && !first) pts += fmt::format("{:.1f},{:.1f} ", X(x), Y(last_y));
      pts += fmt::format("{:.1f},{:.1f} ", X(x), Y(y));
      last_y = y;
      first = false;
    }
    if (!pts.empty()) {
      svg +=
          fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\n",
                      Html(s.color), pts);
    }
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"10\" height=\"10\" fill=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"axis\">{}</text>\n",
        legend_x, h - 14, Html(s.color), legend_x + 14, h - 5, Html(s.name));
    legend_x += 24 + 6.5 * static_cast<double>(s.name.size());
  }
  svg += "</svg>\n";
  return svg;
}

std::string ReportMarkdown(const UpReport& r) {
  std::string md = fmt::format("# ProdSprint report: {}\n\n", r.project);
  md += fmt::format("{}  \nRepository `{}`, version `{}`{}, {}.\n\n", r.outcome, r.repo,
                    Short(r.version), r.ref.empty() ? "" : " (`--ref " + r.ref + "`)",
                    FormatTime(r.at));

  md += "## Found\n\n";
  const Json services = List(r.audit, "services");
  if (services.empty()) {
    md += "No deployable service.\n\n";
  } else {
    md +=
        "| Service | Kind | Framework | Runtime | Port | Start | Tests | Backing |\n"
        "|---|---|---|---|---|---|---|---|\n";
    for (const auto& s : services) {
      std::string backing;
      const Json list = List(s, "backing_services");
      for (const auto& b : list.is_array() ? list : Json::array()) {
        backing += (backing.empty() ? "" : ", ") +
                   (b.is_string() ? b.get<std::string>()
                                  : Str(b, "value", Str(b, "kind", Str(b, "name"))));
      }
      md +=
          fmt::format("| {} | {} | {} | {} | {} | `{}` | `{}` | {} |\n", Cell(Str(s, "name")),
                      Cell(Fact(s, "kind")), Cell(Fact(s, "framework")),
                      Cell(Fact(s, "runtime_version")), Cell(Fact(s, "port")),
                      Cell(Fact(s, "start_command")), Cell(Fact(s, "test_command")), Cell(backing));
    }
    md += "\n";
  }

  md += "## Planned\n\n";
  if (r.plan.is_object() && r.plan.contains("files")) {
    md += fmt::format("Target {}/{}: {} file(s), {} finding(s).", Str(r.plan, "target"),
                      Str(r.plan, "env"), At(r.plan, "files").size(),
                      List(r.plan, "findings").size());
    const Json cost = Obj(r.plan, "cost");
    if (cost.is_object() && cost.contains("totalMonthlyCost")) {
      md += fmt::format(" Estimated cost: {} {} a month.", Str(cost, "totalMonthlyCost"),
                        Str(cost, "currency", "USD"));
    } else {
      md += " Cost: nothing billed (the local target runs on this machine).";
    }
    md += "\n\n";
    for (const auto& f : At(r.plan, "files")) md += "- `" + Str(f, "path") + "`\n";
    md += "\n";
  } else {
    md += "Not planned.\n\n";
  }

  md += "## Deployed (staging)\n\n";
  if (r.staging.is_object() && r.staging.contains("services")) {
    for (const auto& s : At(r.staging, "services")) {
      md += fmt::format("- {}: {} {}\n", Str(s, "service"), Str(s, "action"),
                        Str(s, "url", "(worker)"));
    }
    md += "\n";
  } else {
    md += "Nothing deployed (`prodsprint up --apply` deploys).\n\n";
  }

  md += "## Checked\n\n| Gate | Status | Details |\n|---|---|---|\n";
  auto blockers = [](const Json& g) {
    std::string b;
    for (const auto& x : List(g, "blockers"))
      b += (b.empty() ? "" : "; ") + (x.is_string() ? x.get<std::string>() : x.dump());
    return b;
  };
  if (r.security.is_object()) {
    md += fmt::format("| security | {} | {} secret(s), {} component(s), {} IaC finding(s){} |\n",
                      GateStatus(r.checklist, "security"), List(r.security, "secrets").size(),
                      Num(Obj(r.security, "dependencies"), "components"),
                      List(r.security, "iac").size(),
                      Cell(blockers(r.security).empty() ? "" : "; " + blockers(r.security)));
  }
  if (r.tests.is_object()) {
    std::string d =
        List(r.tests, "services").empty()
            ? Str(r.tests, "skipped_reason", "no tests run")
            : fmt::format("{} test(s), {} failed", Num(r.tests, "tests"), Num(r.tests, "failed"));
    if (r.tests.contains("coverage") && At(r.tests, "coverage").is_number())
      d += fmt::format(", coverage {:.1f}%", At(r.tests, "coverage").get<double>());
    if (!blockers(r.tests).empty()) d += "; " + blockers(r.tests);
    md += fmt::format("| tests | {} | {} |\n", GateStatus(r.checklist, "tests"), Cell(d));
  }
  if (r.performance.is_object()) {
    std::string d;
    for (const auto& s : List(r.performance, "services")) {
      const Json& l = At(At(s, "summary"), "latency_ms");
      d += fmt::format("{}: {:.0f}/s, p50 {}, p95 {}, p99 {}, p99.9 {}{}; ", Str(s, "service"),
                       Num(At(s, "summary"), "achieved_rate"), load::FormatMs(Num(l, "p50")),
                       load::FormatMs(Num(l, "p95")), load::FormatMs(Num(l, "p99")),
                       load::FormatMs(Num(l, "p99_9")),
                       Flag(At(s, "baseline"), "paired", false)
                           ? " (vs " + Short(Str(At(s, "baseline"), "version")) + ", " +
                                 Str(At(s, "baseline"), "source") + ", loaded at the same time)"
                           : " (regression not judged: " + Str(At(s, "baseline"), "note") + ")");
    }
    if (d.empty()) d = Str(r.performance, "skipped_reason", "not measured");
    if (!blockers(r.performance).empty()) d += " " + blockers(r.performance);
    md +=
        fmt::format("| performance | {} | {} |\n", GateStatus(r.checklist, "performance"), Cell(d));
  }
  if (r.checklist.is_object()) {
    md += fmt::format("\nReadiness: **{}**.\n\n",
                      Flag(r.checklist, "ready", false) ? "ready" : "not ready");
  } else {
    md += "\nReadiness: not decided.\n\n";
  }

  md += "## Released\n\n";
  if (r.release_kind.empty()) {
    md += "Nothing released.\n\n";
  } else if (r.release_kind == "first deploy") {
    md += fmt::format(
        "First deployment to {}: version `{}` now serves (no earlier version to compare a canary "
        "with).\n\n",
        r.release_env, Short(r.version));
  } else {
    const Json& rel = r.release;
    const std::string status = Str(rel, "status");
    md += fmt::format("{} release to {}: **{}**", Str(rel, "strategy", "canary"), r.release_env,
                      status);
    if (rel.contains("reason") && !Str(rel, "reason").empty())
      md += " (" + Str(rel, "reason") + ")";
    if (rel.contains("detection_ms"))
      md += fmt::format("; weight 0 after {} from its first request",
                        load::FormatMs(At(rel, "detection_ms").get<double>()));
    md += ".\n\n";
    const Json decisions = List(rel, "decisions");
    if (!decisions.empty()) {
      md +=
          "| At | Decision | Weight | New: requests / failed | Stable: requests / failed |\n"
          "|---|---|---|---|---|\n";
      for (const auto& d : decisions) {
        std::string canary, stable;
        const Json services = Obj(d, "services");
        for (const auto& [svc, st] : services.items()) {
          const Json& rq = Obj(st, "requests");
          const Json& er = Obj(st, "errors");
          canary += fmt::format("{} {} / {} ", svc, Num(rq, "canary"), Num(er, "canary"));
          stable += fmt::format("{} {} / {} ", svc, Num(rq, "stable"), Num(er, "stable"));
        }
        md += fmt::format("| {:.1f} s | {} {} | {}% | {} | {} |\n", Num(d, "at_ms") / 1000,
                          Cell(Str(d, "what")), Cell(Str(d, "verdict")), Num(d, "weight"), canary,
                          stable);
      }
      md +=
          "\nThe HTML report beside this file charts the traffic split, error ratio and latency "
          "second by second.\n\n";
    }
  }

  md += "## Release history\n\n";
  if (r.history.empty()) {
    md += "No release yet.\n";
  } else {
    md +=
        "| When | Version | Environment | Strategy | Status | Reason "
        "|\n|---|---|---|---|---|---|\n";
    for (const auto& h : r.history) {
      md += fmt::format("| {} | `{}` | {} | {} | {} | {} |\n", FormatTime(h.created_at),
                        Short(h.sha), h.env, h.strategy, h.status, Cell(Str(h.meta, "reason")));
    }
  }
  return md;
}

std::string ReportHtml(const UpReport& r) {
  std::string body;
  const bool good = r.outcome.find("promoted") != std::string::npos ||
                    r.outcome.find("deployed") != std::string::npos;
  body += fmt::format("<h1>ProdSprint report: {}</h1>\n<p class=\"{}\">{}</p>\n", Html(r.project),
                      good ? "ok" : "bad", Html(r.outcome));
  body += fmt::format(
      "<p class=\"meta\">Repository <code>{}</code>, version <code>{}</code>{}, {}; "
      "run {}</p>\n",
      Html(r.repo), Html(Short(r.version)),
      r.ref.empty() ? "" : " (<code>--ref " + Html(r.ref) + "</code>)", Html(FormatTime(r.at)),
      Html(r.run_id));

  // Gates.
  body += "<h2>Checked</h2>\n<table><tr><th>Gate</th><th>Status</th><th>Blockers</th></tr>\n";
  for (const auto& [gate, out] : std::vector<std::pair<std::string, const Json*>>{
           {"security", &r.security}, {"tests", &r.tests}, {"performance", &r.performance}}) {
    const std::string status = GateStatus(r.checklist, gate);
    std::string b;
    if (out->is_object()) {
      for (const auto& x : out->value("blockers", Json::array()))
        b += "<div>" + Html(x.is_string() ? x.get<std::string>() : x.dump()) + "</div>";
    }
    body += fmt::format("<tr><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>\n", gate,
                        status == "passed" ? "ok" : (status == "waived" ? "warn" : "bad"),
                        Html(status), b);
  }
  body += "</table>\n";
  if (r.tests.is_object() && !List(r.tests, "services").empty()) {
    body +=
        fmt::format("<p>Tests: {} run, {} failed", Num(r.tests, "tests"), Num(r.tests, "failed"));
    if (r.tests.contains("coverage") && At(r.tests, "coverage").is_number())
      body += fmt::format(", line coverage {:.1f}%", At(r.tests, "coverage").get<double>());
    body += ".</p>\n";
  }
  if (r.performance.is_object() && !List(r.performance, "services").empty()) {
    body +=
        "<table><tr><th>Service / route</th><th>Requests</th><th>Failed</th><th>p50</th>"
        "<th>p95</th><th>p99</th><th>p99.9</th><th>Against the baseline</th></tr>\n";
    for (const auto& s : At(r.performance, "services")) {
      for (const auto& rt : List(s, "routes")) {
        const Json& l = At(rt, "latency_ms");
        std::string verdict = "not judged: " + Str(At(s, "baseline"), "note");
        if (rt.contains("compared")) {
          const Json& c = At(rt, "compared");
          verdict =
              Flag(c, "regressed", false)
                  ? "regressed: " + Str(c, "reason")
                  : (Flag(c, "judged", true)
                         ? "no regression vs " + Short(Str(At(s, "baseline"), "version")) +
                               " (p50 " + load::FormatMs(Num(At(c, "baseline_latency_ms"), "p50")) +
                               ", p95 " + load::FormatMs(Num(At(c, "baseline_latency_ms"), "p95")) +
                               " at the same time)"
                         : "not judged: " + Str(c, "note"));
        }
        body += fmt::format(
            "<tr><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td></tr>\n",
            Html(Str(s, "service")), Html(Str(rt, "route")), Num(rt, "requests"), Num(rt, "failed"),
            load::FormatMs(Num(l, "p50")), load::FormatMs(Num(l, "p95")),
            load::FormatMs(Num(l, "p99")), load::FormatMs(Num(l, "p99_9")), Html(verdict));
      }
    }
    body += "</table>\n";
  }

  // Release.
  body += "<h2>Released</h2>\n";
  if (r.release_kind == "release") {
    const Json& rel = r.release;
    body += fmt::format("<p>{} release to {}: <b class=\"{}\">{}</b>{}</p>\n",
                        Html(Str(rel, "strategy", "canary")), Html(r.release_env),
                        Str(rel, "status") == "promoted" ? "ok" : "bad", Html(Str(rel, "status")),
                        Str(rel, "reason").empty() ? "" : " &mdash; " + Html(Str(rel, "reason")));
    if (rel.contains("detection_ms") && At(rel, "detection_ms").is_number()) {
      body += fmt::format(
          "<p>The new version's weight went to 0 {} after its first request; the "
          "stable version served throughout.</p>\n",
          load::FormatMs(At(rel, "detection_ms").get<double>()));
    }
    const Charts c = ChartsOf(rel);
    body += SvgChart("Traffic to the new version", "%", c.weight, c.marks, true, 100);
    body += SvgChart("Error ratio per second", "%", c.errors, c.marks, false, 1);
    body += SvgChart("Latency p95 per second", " ms", c.latency, c.marks, false, 1);
  } else if (r.release_kind == "first deploy") {
    body += fmt::format(
        "<p>First deployment to {}: version <code>{}</code> serves (nothing "
        "earlier to compare a canary with).</p>\n",
        Html(r.release_env), Html(Short(r.version)));
  } else {
    body += "<p>Nothing released.</p>\n";
  }

  // Found and planned.
  body += "<h2>Found and planned</h2>\n<ul>\n";
  for (const auto& s : List(r.audit, "services")) {
    body += fmt::format("<li>{}: {} {} {}</li>\n", Html(Str(s, "name")), Html(Fact(s, "kind")),
                        Html(Fact(s, "framework")), Html(Fact(s, "runtime_version")));
  }
  body += "</ul>\n";
  if (r.plan.is_object() && r.plan.contains("files")) {
    const Json cost = Obj(r.plan, "cost");
    body += fmt::format(
        "<p>Plan {}/{}: {} file(s), {} finding(s); cost {}.</p>\n", Html(Str(r.plan, "target")),
        Html(Str(r.plan, "env")), At(r.plan, "files").size(), List(r.plan, "findings").size(),
        cost.is_object() && cost.contains("totalMonthlyCost")
            ? Html(Str(cost, "totalMonthlyCost") + " " + Str(cost, "currency", "USD") + " a month")
            : "nothing billed (the local target runs on this machine)");
  }

  // History.
  body +=
      "<h2>Release history</h2>\n<table><tr><th>When</th><th>Version</th><th>Environment</th>"
      "<th>Strategy</th><th>Status</th><th>Reason</th></tr>\n";
  for (const auto& h : r.history) {
    body += fmt::format(
        "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"{}\">{}</td>"
        "<td>{}</td></tr>\n",
        Html(FormatTime(h.created_at)), Html(Short(h.sha)), Html(h.env), Html(h.strategy),
        h.status == "promoted" ? "ok" : (h.status == "progressing" ? "warn" : "bad"),
        Html(h.status), Html(Str(h.meta, "reason")));
  }
  body += "</table>\n";

  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>ProdSprint "
         "report: " +
         Html(r.project) +
         "</title>\n<style>\n"
         "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
         "color:#111}\n"
         "h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}\n"
         "table{border-collapse:collapse;margin:.5rem 0;font-size:14px}td,th{border:1px solid "
         "#ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}\n"
         ".ok{color:#15803d}.bad{color:#b91c1c}.warn{color:#b45309}.meta{color:#555}\n"
         "svg.chart{width:100%;max-width:40rem;display:block;margin:1rem 0}\n"
         ".chart .title{font-size:13px;font-weight:600}.chart .axis{font-size:11px;fill:#444}\n"
         ".chart .grid{stroke:#e5e7eb}.chart .mark{stroke:#9ca3af;stroke-dasharray:3 3}\n"
         ".chart .marklabel{font-size:10px;fill:#6b7280}\n"
         "</style></head><body>\n" +
         body + "</body></html>\n";
}

Result<ReportFiles> WriteReport(const fs::path& dir, const UpReport& r) {
  std::string stamp = FormatTime(r.at);  // 2026-11-26T14:03:05.123Z
  std::string compact;
  for (const char c : stamp.substr(0, 19)) {
    if (c != '-' && c != ':') compact += c == 'T' ? '-' : c;
  }
  std::string name;
  for (const char c : r.project) {
    name += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '-';
  }
  if (name.empty()) name = "project";
  PS_TRY(EnsureDir(dir));
  ReportFiles f{dir / (name + "-" + compact + ".md"), dir / (name + "-" + compact + ".html")};
  PS_TRY(WriteFileAtomic(f.markdown, ReportMarkdown(r)));
  PS_TRY(WriteFileAtomic(f.html, ReportHtml(r)));
  return f;
}

StoredReport StoreReport(App& app, const store::Tenant& tenant, const std::string& project_id,
                         const std::string& run_id, const UpReport& r,
                         const std::filesystem::path& dir) {
  StoredReport out;
  // The files first (what the person at the terminal reads), then the
  // artifacts; either may fail without the other.
  if (!dir.empty()) {
    auto files = WriteReport(dir, r);
    if (files.ok()) {
      out.files = *files;
    } else {
      out.problems.push_back(files.problem().Message());
    }
  }
  const Millis now = app.clock.Now();
  std::vector<store::Artifact> arts;
  const std::string md = ReportMarkdown(r), html = ReportHtml(r);
  for (const auto& [name, media, content] :
       {std::tuple<const char*, const char*, const std::string*>{"report.md", "text/markdown", &md},
        std::tuple<const char*, const char*, const std::string*>{"report.html", "text/html",
                                                                 &html}}) {
    auto blob = app.artifacts.Put(*content);
    if (!blob.ok()) {
      out.problems.push_back(blob.problem().Message());
      return out;
    }
    store::Artifact a;
    a.id = NewId(app.clock, app.random);
    a.tenant = tenant;
    a.project_id = project_id;
    a.run_id = run_id;
    a.type = store::ArtifactType::kRelease;
    a.name = name;
    a.path = blob->path;
    a.sha256 = blob->sha256;
    a.size = blob->size;
    a.media_type = media;
    a.meta = {{"kind", "report"}, {"version", r.version}, {"outcome", r.outcome}};
    a.created_at = now;
    arts.push_back(a);
  }
  const Status stored = app.store.Write([&](store::Tx& tx) -> Status {
    for (const auto& a : arts) PS_TRY(tx.InsertArtifact(a));
    return Ok();
  });
  if (stored.ok()) {
    out.artifacts = std::move(arts);
  } else {
    out.problems.push_back(stored.problem().Message());
  }
  return out;
}

}  // namespace ps::service
