// The readiness gates in the formats other tools read: JUnit XML for CI,
// SARIF 2.1.0 for code-scanning tools.
#pragma once

#include <string>

#include "core/json.h"

namespace ps::service {

// One test case per gate; a failed gate is a failure holding its blockers,
// a waived one is skipped with the waiver, one that measured nothing is
// skipped with the reason (never a pass).
std::string GatesJUnit(const Json& checklist);

// The security gate's own run (every finding with its location) when
// given, then a run of the checklist: one result per blocker of a failed
// gate (level error), a waived gate's blockers as suppressed results with
// the waiver as justification.
Json GatesSarif(const Json& checklist, const Json& security_sarif);

}  // namespace ps::service
