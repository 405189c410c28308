// Waivers of readiness gates: `prodsprint waive` records one in the audit
// log (who, which gate, why, until when); `prodsprint waivers` lists them;
// the readiness run's checklist counts those not expired.
#pragma once

#include <string>

#include "cli/session.h"
#include "core/json.h"
#include "core/problem.h"

namespace ps::cli {

struct WaiveArgs {
  std::string path = ".";
  std::string gate;    // security, tests, performance
  std::string reason;  // required
  std::string until;   // YYYY-MM-DD (the end of that day, UTC) or YYYY-MM-DDTHH:MM:SSZ
  bool json = false;
};

// The longest a waiver may run: a waiver is a decision to revisit.
constexpr int kMaxWaiverDays = 90;

Result<int> CmdWaive(const Options& o, const WaiveArgs& args);
Result<int> CmdWaivers(const Options& o, const std::string& path, bool json);

// Every waiver recorded for the project, newest first: {id, gate, reason,
// until (ms), by, at (ms)}.
Result<Json> WaiversOf(Session& s, const std::string& project_id);

// "2026-12-31" -> the last millisecond of that day (UTC);
// "2026-12-31T12:00:00Z" -> that instant. A Problem for anything else.
Result<Millis> ParseUntil(const std::string& text);

}  // namespace ps::cli
