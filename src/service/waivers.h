// Waivers of readiness gates: recorded in the audit log (who, which gate,
// why, until when); the readiness run's checklist counts those not expired.
#pragma once

#include <string>

#include "service/app.h"
#include "store/model.h"

namespace ps::service {

// The longest a waiver may run: a waiver is a decision to revisit.
constexpr int kMaxWaiverDays = 90;

struct Waiver {
  std::string gate;    // security, tests, performance
  std::string reason;  // why the gate may be skipped
  Millis until = 0;
};

// Whether a waiver may be recorded at `now`: a known gate, a reason of 3 to
// 2000 characters, an end after now and at most kMaxWaiverDays away.
Status CheckWaiver(Waiver& waiver, Millis now);

// Records a waiver; a Problem (400) for an unknown gate, a reason too short
// or long, an end in the past or more than kMaxWaiverDays away. Returns the
// recorded waiver as WaiversOf lists it.
Result<Json> Waive(App& app, const store::Tenant& tenant, const Actor& actor,
                   const store::Project& project, Waiver waiver);

// Every waiver recorded for the project, newest first: {id, gate, reason,
// until (ms), by, at (ms)}.
Result<Json> WaiversOf(App& app, const store::Tenant& tenant, const std::string& project_id);

// "2026-12-31" -> the last millisecond of that day (UTC);
// "2026-12-31T12:00:00Z" -> that instant. A Problem for anything else.
Result<Millis> ParseUntil(const std::string& text);

}  // namespace ps::service
