#include "stages/readiness/security_stage.h"

#include <filesystem>

#include "core/config.h"
#include "stages/readiness/policy.h"
#include "stages/readiness/security_gate.h"
#include "stages/repository.h"

namespace ps::stages {

Result<engine::StageOutput> SecurityStage::Run(engine::StageContext& ctx) {
  const Json& input = ctx.run_input();
  readiness::SecurityGateOptions o;
  PS_ASSIGN(o.path, RepositoryFolder(ctx));
  o.ref = input.value("ref", "");
  o.history = input.value("history", false);
  o.advisory_db = input.value("advisory_db", "");
  o.stopping = [&] { return ctx.Stopping(); };
  PS_ASSIGN(o.policy, readiness::RunPolicy(ctx, o.path));
  ctx.Progress(0.0, "security gate on " + o.path);
  PS_ASSIGN(readiness::SecurityReport r, readiness::RunSecurityGate(o));

  engine::StageOutput out;
  Json facts = r.ToJson();
  // The component list lives in the SBOM artifacts; the run keeps counts.
  facts["dependencies"].erase("list");
  out.facts = facts;
  out.metrics = {{"files", r.files},
                 {"bytes", r.bytes},
                 {"secrets", r.secrets.size()},
                 {"components", r.deps.components.size()},
                 {"vulnerabilities", r.vulns.size()},
                 {"licenses_refused", r.licenses.size()},
                 {"iac_findings", r.iac.size()},
                 {"accepted", r.accepted.size()},
                 {"seconds", r.seconds}};
  out.policy_result = Json{{"gate", "security"},
                           {"passed", r.passed()},
                           {"blockers", r.blockers},
                           {"max_severity", o.policy.security_max_severity},
                           {"vulnerabilities_checked", r.vulns_checked}};
  PS_ASSIGN(
      engine::ArtifactOut cdx,
      ctx.PutArtifact(store::ArtifactType::kSbom, "sbom.cdx.json", Dump(r.CycloneDx(), 2) + "\n",
                      "application/vnd.cyclonedx+json", {{"format", "CycloneDX 1.5"}}));
  out.artifacts.push_back(cdx);
  PS_ASSIGN(engine::ArtifactOut spdx,
            ctx.PutArtifact(store::ArtifactType::kSbom, "sbom.spdx.json", Dump(r.Spdx(), 2) + "\n",
                            "application/spdx+json", {{"format", "SPDX 2.3"}}));
  out.artifacts.push_back(spdx);
  PS_ASSIGN(engine::ArtifactOut sarif,
            ctx.PutArtifact(store::ArtifactType::kSbom, "security.sarif", Dump(r.Sarif(), 2) + "\n",
                            "application/sarif+json", {{"format", "SARIF 2.1.0"}}));
  out.artifacts.push_back(sarif);
  if (r.passed()) {
    out.events.push_back({"security.passed",
                          {{"secrets", r.secrets.size()},
                           {"vulnerabilities", r.vulns.size()},
                           {"components", r.deps.components.size()},
                           {"iac_findings", r.iac.size()},
                           {"accepted", r.accepted.size()},
                           {"vulnerabilities_checked", r.vulns_checked}}});
  }
  ctx.Progress(1.0, r.passed() ? "passed" : "blocked: " + r.blockers.front());
  return out;
}

}  // namespace ps::stages
