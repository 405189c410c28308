// The report `prodsprint up` writes after each pipeline: what was found,
// planned, deployed, checked and released, as Markdown and as one
// self-contained HTML page (inline CSS and SVG charts, no scripts, nothing
// fetched) with the release's traffic split, error ratio and latency over
// time, the gate results, the cost, and the project's release history.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/problem.h"
#include "service/app.h"
#include "store/model.h"

namespace ps::service {

struct UpReport {
  std::string project, repo, version, run_id;
  std::string ref;  // the revision asked for (`up --ref`), empty for the working tree
  Millis at = 0;
  Json audit;    // the audit stage's output
  Json plan;     // the plan stage's output (files, findings, cost)
  Json staging;  // the staging apply stage's output
  Json security, tests, performance, checklist;
  std::string release_kind;  // "release", "first deploy", or "" (not released)
  std::string release_env;
  Json release;         // the release stage's output, or the production apply's output
  std::string outcome;  // one line: what happened in the end
  std::vector<store::Release> history;  // the project's releases, newest first
};

std::string ReportMarkdown(const UpReport& r);
std::string ReportHtml(const UpReport& r);

// An SVG line chart: each series a list of (x, y) points drawn as a polyline
// (steps when `steps`); vertical marks at `marks` (x, label). Exposed for tests.
struct ChartSeries {
  std::string name, color;
  std::vector<std::pair<double, double>> points;
};
std::string SvgChart(const std::string& title, const std::string& y_unit,
                     const std::vector<ChartSeries>& series,
                     const std::vector<std::pair<double, std::string>>& marks, bool steps,
                     double y_min_max = 0);

struct ReportFiles {
  std::filesystem::path markdown, html;
};
// Writes DIR/<project>-<yyyymmdd-hhmmss>.md and .html (atomically).
Result<ReportFiles> WriteReport(const std::filesystem::path& dir, const UpReport& r);

// The report stored as two artifacts of run `run_id` (type release:
// report.md, report.html), so that any interface (the dashboard, the API)
// serves the same report; and, when `dir` is not empty, written there as
// files for the person at the terminal.
// Each half may fail without the other: what failed is in `problems`.
struct StoredReport {
  std::optional<ReportFiles> files;
  std::vector<store::Artifact> artifacts;
  std::vector<std::string> problems;
};
StoredReport StoreReport(App& app, const store::Tenant& tenant, const std::string& project_id,
                         const std::string& run_id, const UpReport& r,
                         const std::filesystem::path& dir);

}  // namespace ps::service
