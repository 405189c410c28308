// Version order as each package ecosystem defines it: an advisory's
// "introduced 1.2.0, fixed 1.4.3" means something different for npm
// (SemVer: 1.4.3-rc.1 < 1.4.3), PyPI (PEP 440: 1.4.3.dev0 < 1.4.3rc1 <
// 1.4.3 < 1.4.3.post1), Maven (1.4.3-alpha < 1.4.3-SNAPSHOT < 1.4.3 <
// 1.4.3-sp1), RubyGems (1.4.3.pre < 1.4.3) and Go (pseudo-versions
// v0.0.0-20240101120000-abcdef123456 are SemVer pre-releases of their base).
#pragma once

#include <string>
#include <string_view>

namespace ps::security {

enum class VersionScheme { kSemver, kGo, kNuGet, kPep440, kMaven, kRubyGems, kGeneric };

// The scheme of an OSV ecosystem name ("npm", "PyPI", "Go", "crates.io",
// "Maven", "RubyGems", "NuGet", "Packagist", "Hex", "Pub"); kGeneric for
// others (natural order: numbers as numbers, then text).
VersionScheme SchemeOfEcosystem(std::string_view ecosystem);

// <0 when a sorts before b, 0 when equal, >0 after. Never fails: a version
// that does not parse under its scheme falls back to the natural order.
int CompareVersions(VersionScheme scheme, std::string_view a, std::string_view b);

// Whether `v` parses under the scheme (used to warn about versions the
// advisory matching cannot order reliably).
bool ValidVersion(VersionScheme scheme, std::string_view v);

}  // namespace ps::security
