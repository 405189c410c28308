// Licenses: recognising a LICENSE file's text, reading SPDX expressions,
// and checking components against the policy's allow and deny lists.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "security/deps.h"

namespace ps::security {

// The SPDX id of a license text (LICENSE, COPYING): MIT, Apache-2.0,
// BSD-2-Clause, BSD-3-Clause, ISC, MPL-2.0, GPL-2.0/3.0, LGPL-2.1/3.0,
// AGPL-3.0, Unlicense, BSL-1.0, 0BSD, CC0-1.0, EPL-2.0; "" when not
// recognised. GPL-family ids carry "-only" unless the text says "or any
// later version" ("-or-later").
std::string IdentifyLicenseText(std::string_view text);

// An SPDX expression in disjunctive normal form: each inner set is one
// choice of licenses that must all be accepted ("MIT OR (Apache-2.0 AND
// BSD-3-Clause)" -> {{MIT}, {Apache-2.0, BSD-3-Clause}}). Exceptions
// ("WITH Classpath-exception-2.0") stay attached to their license.
// Empty when the expression does not parse.
std::vector<std::set<std::string>> LicenseChoices(std::string_view expression);

struct LicensePolicy {
  std::vector<std::string> allow;  // empty: every license is allowed
  std::vector<std::string> deny;
};

struct LicenseFinding {
  std::string purl, name, version, license;  // license: the expression
  std::string verdict;                       // "denied", "not-allowed"
  bool direct = false, dev = false;
  std::vector<std::string> sources;
  Json ToJson() const;
};

// Components whose every choice holds a denied license, or (with an allow
// list) none of whose choices is wholly allowed. Components without a
// known license are not findings (the SBOM says NOASSERTION for them).
// Entries of the lists match ids exactly or, ending in '*', as prefixes
// ("GPL-*", "AGPL-*").
std::vector<LicenseFinding> CheckLicenses(const DependencyGraph& graph,
                                          const LicensePolicy& policy);

}  // namespace ps::security
