// How commands print what the application layer returns: runs, the audit,
// the gates and the checklist, environments and releases. Human output
// only; --json prints the values themselves.
#pragma once

#include <string>

#include "cli/output.h"
#include "cli/session.h"
#include "core/json.h"

namespace ps::cli {

// The first 12 characters of a version.
std::string Short(const std::string& v);
// A run: its stages, attempts, dead letters and artifacts.
void PrintDetail(const Term& t, const Session& s, const RunDetail& d);
// The audit as a human reads it: languages, files, a table of services,
// conflicts and warnings.
void PrintAudit(const Term& t, const Json& result, const std::string& what);
// The gates' summaries as `up` and `check` show them.
void PrintSecurityGate(const Term& term, const Json& g, const std::string& run_id,
                       const std::string& path);
void PrintTestGate(const Term& term, const Json& t, const std::string& run_id);
void PrintPerfGate(const Term& term, const Json& p, const std::string& run_id);
// The readiness checklist: each gate's state, waivers, and whether ready.
void PrintChecklist(const Term& term, const Json& c);
// An apply's services: action, version, URL.
void PrintServices(const Term& term, const Json& services);
// A release stage's result as `release` and `up` print it: the outcome, then
// each decision with both versions' requests and failures.
void PrintRelease(const Term& term, const Json& out, const std::string& env);
// A run that failed: its problem (and log tail), or the whole run with
// --json; returns the exit code.
Result<int> Failed(const RunDetail& d, bool json);

}  // namespace ps::cli
