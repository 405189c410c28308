// `up`: the whole pipeline for one version of a repository, as a state
// machine over runs — import, plan, (with apply) staging, readiness, and
// production: a first deploy, or a release against what it serves — ending
// in an outcome and a report. Each step is a run that resumes rather than
// restarts: the newest run of its kind and environment, unfinished with the
// same input, is driven on; failed with the same input (the same source
// fingerprint and revision), it is replayed from its failed stage; a
// finished readiness run whose input still holds is reused. Any other
// unfinished run of the kind is cancelled first: it is for a version no
// longer wanted. Up prints nothing: the caller shows the outcome.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "service/app.h"
#include "service/report.h"
#include "service/runs.h"

namespace ps::service {

struct UpRequest {
  std::string repo;  // the repository's folder, absolute and canonical
  std::string ref;   // a revision; empty: the working tree (HEAD in git)
  bool apply = false;
  std::string target = "local";       // where staging and production run (targets/)
  std::string plan_target = "local";  // what the blueprint plans for (plan --target)
  std::string staging = "staging", production = "production";
  // Where the report's files are written too (empty: artifacts only).
  std::filesystem::path reports_dir;
};

// What Up says as it goes, for the caller to show or record.
struct UpListener {
  // A run started, resumed, replayed or reused ("reused: it checked this
  // very version with this input").
  std::function<void(const std::string&)> note;
  // A new part of the pipeline begins ("Release to production").
  std::function<void(const std::string&)> phase;
};

struct UpOutcome {
  store::Run run;  // the run that decided: the first that did not finish well, else the import
  RunDetail import;
  std::optional<RunDetail> blueprint, apply, readiness, release;
  // Stage outputs (null when the stage did not run).
  Json source, security, tests, performance, checklist, release_out;
  std::string release_kind;    // "release", "first deploy", or "" (not released)
  std::string release_status;  // a release's: promoted, unchanged, rolledback, aborted
  std::string version;         // staging's version
  std::string outcome;         // what happened, in one line
  bool gate_blocks = false, rolled_back = false;
  std::optional<StoredReport> report;

  bool ok() const { return run.status == store::RunStatus::kDone && !gate_blocks && !rolled_back; }
  // Every run's detail and the outcome (`up --json`).
  Json ToJson() const;
};

Result<UpOutcome> Up(App& app, const store::Tenant& tenant, const Actor& actor,
                     const store::Project& project, const UpRequest& request, const Drive& drive,
                     const UpListener& listener);

}  // namespace ps::service
