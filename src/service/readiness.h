// Readiness: the gates (security, tests, performance) side by side in a
// readiness run on staging, and the checklist over them (waivers counted).
#pragma once

#include <string>

#include "service/app.h"
#include "service/runs.h"

namespace ps::service {

struct ReadinessRequest {
  std::string ref;          // a revision; empty: the working tree
  std::string advisory_db;  // empty: the default
  bool rebaseline = false;  // the performance gate takes a new baseline
  std::string target = "local", env = "staging", reference_env = "production";
};

struct ReadinessOutcome {
  RunDetail detail;
  // Stage outputs (null when the gate did not run or decide).
  Json security, tests, performance, checklist;
  // The security gate's SARIF artifact, when it stored one.
  Json security_sarif;
  bool ready() const { return checklist.is_object() && checklist.value("ready", false); }
};

// The readiness run, created (its workers run it).
Result<store::Run> SubmitReadiness(App& app, const store::Tenant& tenant, const Actor& actor,
                                   const store::Project& project, const ReadinessRequest& request);
// What a readiness run found so far (the gates' outputs, the checklist).
Result<ReadinessOutcome> ReadinessOf(App& app, const store::Tenant& tenant,
                                     const std::string& run_id);
Result<ReadinessOutcome> CheckReadiness(App& app, const store::Tenant& tenant, const Actor& actor,
                                        const store::Project& project,
                                        const ReadinessRequest& request, const Drive& drive);

}  // namespace ps::service
