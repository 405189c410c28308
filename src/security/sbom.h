// Software bills of materials from the dependency graph: CycloneDX 1.5 JSON
// and SPDX 2.3 JSON, with PURLs, hashes, licenses and the dependency
// relationships (direct ones from the project, the rest between packages).
#pragma once

#include <string>

#include "core/json.h"
#include "security/deps.h"

namespace ps::security {

struct SbomSubject {
  std::string name;       // the project ("shop")
  std::string version;    // its revision ("3f2a9c1") or ""
  std::string license;    // the project's own (SPDX), "" when unknown
  std::string timestamp;  // ISO 8601 UTC ("2026-11-26T08:00:00Z")
};

Json CycloneDxBom(const DependencyGraph& graph, const SbomSubject& subject);
Json SpdxDocument(const DependencyGraph& graph, const SbomSubject& subject);

// Whether `s` reads as an SPDX license expression ("MIT",
// "(Apache-2.0 OR MIT)", "GPL-2.0-only WITH Classpath-exception-2.0")
// rather than free text ("SEE LICENSE IN LICENSE.md").
bool LooksLikeSpdxExpression(std::string_view s);

// A UUID (version 5 layout) derived from `seed`: the same graph gives the
// same serial number.
std::string UuidFromSeed(std::string_view seed);

}  // namespace ps::security
