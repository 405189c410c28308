// Version order per ecosystem, on the cases each ecosystem's own
// documentation spells out.
#include "security/versions.h"

#include <gtest/gtest.h>

#include <vector>

namespace ps::security {
namespace {

// Each list is strictly increasing under its scheme.
void ExpectAscending(VersionScheme s, const std::vector<const char*>& vs) {
  for (std::size_t i = 0; i < vs.size(); ++i) {
    EXPECT_EQ(CompareVersions(s, vs[i], vs[i]), 0) << vs[i];
    for (std::size_t j = i + 1; j < vs.size(); ++j) {
      EXPECT_LT(CompareVersions(s, vs[i], vs[j]), 0) << vs[i] << " < " << vs[j];
      EXPECT_GT(CompareVersions(s, vs[j], vs[i]), 0) << vs[j] << " > " << vs[i];
    }
  }
}

TEST(Versions, SemVer) {
  // semver.org §11's example, then numbers of any size.
  ExpectAscending(VersionScheme::kSemver,
                  {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                   "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0",
                   "10.0.0", "99999999999999999999.0.0"});
  EXPECT_EQ(CompareVersions(VersionScheme::kSemver, "v1.2.3", "1.2.3"), 0);
  EXPECT_EQ(CompareVersions(VersionScheme::kSemver, "1.2.3+build.5", "1.2.3"), 0);
  EXPECT_EQ(CompareVersions(VersionScheme::kSemver, "1.2", "1.2.0"), 0);
}

TEST(Versions, GoPseudoVersions) {
  // A pseudo-version is a pre-release of the version after its base.
  ExpectAscending(VersionScheme::kGo,
                  {"v0.0.0-20190101000000-aaaaaaaaaaaa", "v0.0.0-20240101120000-abcdef123456",
                   "v0.1.0", "v1.2.3", "v1.2.4-0.20240101120000-abcdef123456", "v1.2.4"});
  EXPECT_EQ(CompareVersions(VersionScheme::kGo, "v2.0.0+incompatible", "v2.0.0"), 0);
}

TEST(Versions, Pep440) {
  // PEP 440's ordering example.
  ExpectAscending(VersionScheme::kPep440,
                  {"1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456",
                   "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1",
                   "1.0", "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1"});
  EXPECT_EQ(CompareVersions(VersionScheme::kPep440, "1.0", "1.0.0"), 0);
  EXPECT_EQ(CompareVersions(VersionScheme::kPep440, "1.0-1", "1.0.post1"), 0);
  EXPECT_EQ(CompareVersions(VersionScheme::kPep440, "1.0RC1", "1.0rc1"), 0);
  EXPECT_EQ(CompareVersions(VersionScheme::kPep440, "1.0alpha1", "1.0a1"), 0);
  EXPECT_LT(CompareVersions(VersionScheme::kPep440, "1!0.1", "2!0.0"), 0);
  EXPECT_GT(CompareVersions(VersionScheme::kPep440, "1!0.1", "99.0"), 0);
  EXPECT_TRUE(ValidVersion(VersionScheme::kPep440, "2.31.0"));
  EXPECT_FALSE(ValidVersion(VersionScheme::kPep440, "not-a-version"));
}

TEST(Versions, Maven) {
  // ComparableVersion: qualifiers alpha < beta < milestone < rc < snapshot
  // < release < sp; trailing zeros do not count.
  ExpectAscending(VersionScheme::kMaven,
                  {"1.0-alpha1", "1.0-alpha2", "1.0-beta1", "1.0-M1", "1.0-RC1", "1.0-SNAPSHOT",
                   "1.0", "1.0-sp1", "1.0.1", "1.1", "2.0"});
  EXPECT_EQ(CompareVersions(VersionScheme::kMaven, "1.0", "1"), 0);
  EXPECT_EQ(CompareVersions(VersionScheme::kMaven, "1.0.0", "1-ga"), 0);
  EXPECT_EQ(CompareVersions(VersionScheme::kMaven, "1.0-final", "1.0"), 0);
  EXPECT_EQ(CompareVersions(VersionScheme::kMaven, "1.0-cr1", "1.0-rc1"), 0);
  EXPECT_LT(CompareVersions(VersionScheme::kMaven, "2.14.1", "2.15.0"), 0);
  EXPECT_LT(CompareVersions(VersionScheme::kMaven, "2.9.10.7", "2.9.10.8"), 0);
}

TEST(Versions, RubyGems) {
  ExpectAscending(VersionScheme::kRubyGems,
                  {"1.0.a", "1.0.b1", "1.0.pre", "1.0.rc1", "1.0", "1.0.1", "1.1", "7.0.8.1"});
  EXPECT_EQ(CompareVersions(VersionScheme::kRubyGems, "1.0", "1.0.0"), 0);
  EXPECT_EQ(CompareVersions(VersionScheme::kRubyGems, "1.0.a", "1.a"), 0);
}

TEST(Versions, NuGet) {
  ExpectAscending(VersionScheme::kNuGet,
                  {"1.0.0-alpha", "1.0.0-Beta", "1.0.0", "1.0.0.1", "1.0.1", "13.0.1"});
  EXPECT_EQ(CompareVersions(VersionScheme::kNuGet, "1.0.0-BETA", "1.0.0-beta"), 0);
  EXPECT_EQ(CompareVersions(VersionScheme::kNuGet, "1.0", "1.0.0.0"), 0);
}

TEST(Versions, SchemesOfEcosystems) {
  EXPECT_EQ(SchemeOfEcosystem("npm"), VersionScheme::kSemver);
  EXPECT_EQ(SchemeOfEcosystem("crates.io"), VersionScheme::kSemver);
  EXPECT_EQ(SchemeOfEcosystem("PyPI"), VersionScheme::kPep440);
  EXPECT_EQ(SchemeOfEcosystem("Go"), VersionScheme::kGo);
  EXPECT_EQ(SchemeOfEcosystem("Maven"), VersionScheme::kMaven);
  EXPECT_EQ(SchemeOfEcosystem("RubyGems"), VersionScheme::kRubyGems);
  EXPECT_EQ(SchemeOfEcosystem("NuGet"), VersionScheme::kNuGet);
  EXPECT_EQ(SchemeOfEcosystem("Debian"), VersionScheme::kGeneric);
  // Unparseable input still orders (naturally), never fails.
  EXPECT_LT(CompareVersions(VersionScheme::kSemver, "release-2", "release-10"), 0);
  EXPECT_EQ(CompareVersions(VersionScheme::kPep440, "", ""), 0);
}

}  // namespace
}  // namespace ps::security
