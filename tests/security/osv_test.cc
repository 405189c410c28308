// The advisory database on a small set of OSV records written here from
// real advisories' facts (tests/fixtures/osv), CVSS scores against the
// published ones, and zip exports built at test time.
#include "security/osv.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>

#include "core/fs.h"
#include "security/zip.h"
#include "testing/testing.h"

namespace ps::security {
namespace {

namespace fs = std::filesystem;
const fs::path kFixtures = fs::path(PS_SOURCE_DIR) / "tests/fixtures/osv";

// A zip archive of `entries`, each deflated (or stored when `store`).
std::string MakeZip(const std::vector<std::pair<std::string, std::string>>& entries,
                    bool store = false) {
  std::string out, cd;
  auto u16 = [](std::string& s, unsigned v) {
    s += static_cast<char>(v & 0xFF);
    s += static_cast<char>((v >> 8) & 0xFF);
  };
  auto u32 = [&](std::string& s, unsigned long v) {
    u16(s, v & 0xFFFF);
    u16(s, (v >> 16) & 0xFFFF);
  };
  for (const auto& [name, content] : entries) {
    std::string data = content;
    if (!store) {
      z_stream z{};
      deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
      data.assign(deflateBound(&z, content.size()), '\0');
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(content.data()));
      z.avail_in = content.size();
      z.next_out = reinterpret_cast<Bytef*>(data.data());
      z.avail_out = data.size();
      deflate(&z, Z_FINISH);
      data.resize(z.total_out);
      deflateEnd(&z);
    }
    const unsigned long crc =
        crc32(0, reinterpret_cast<const Bytef*>(content.data()), content.size());
    const unsigned long offset = out.size();
    u32(out, 0x04034b50);
    u16(out, 20), u16(out, 0), u16(out, store ? 0 : 8), u16(out, 0), u16(out, 0);
    u32(out, crc), u32(out, data.size()), u32(out, content.size());
    u16(out, name.size()), u16(out, 0);
    out += name + data;
    u32(cd, 0x02014b50);
    u16(cd, 20), u16(cd, 20), u16(cd, 0), u16(cd, store ? 0 : 8), u16(cd, 0), u16(cd, 0);
    u32(cd, crc), u32(cd, data.size()), u32(cd, content.size());
    u16(cd, name.size()), u16(cd, 0), u16(cd, 0), u16(cd, 0), u16(cd, 0);
    u32(cd, 0), u32(cd, offset);
    cd += name;
  }
  const unsigned long cd_offset = out.size();
  out += cd;
  u32(out, 0x06054b50);
  u16(out, 0), u16(out, 0), u16(out, entries.size()), u16(out, entries.size());
  u32(out, cd.size()), u32(out, cd_offset), u16(out, 0);
  return out;
}

TEST(Cvss, BaseScoresMatchPublishedOnes) {
  EXPECT_DOUBLE_EQ(*CvssBaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), 9.8);
  EXPECT_DOUBLE_EQ(*CvssBaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"),
                   10.0);  // Log4Shell
  EXPECT_DOUBLE_EQ(*CvssBaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H"), 9.1);
  EXPECT_DOUBLE_EQ(*CvssBaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"), 6.1);
  EXPECT_DOUBLE_EQ(*CvssBaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"), 7.5);
  EXPECT_DOUBLE_EQ(*CvssBaseScore("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"), 5.3);
  EXPECT_DOUBLE_EQ(*CvssBaseScore("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"), 8.8);
  EXPECT_DOUBLE_EQ(*CvssBaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"), 0.0);
  EXPECT_DOUBLE_EQ(*CvssBaseScore("AV:N/AC:L/Au:N/C:P/I:P/A:P"), 7.5);  // CVSS 2
  EXPECT_DOUBLE_EQ(*CvssBaseScore("AV:N/AC:M/Au:N/C:N/I:P/A:N"), 4.3);
  EXPECT_FALSE(CvssBaseScore("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"));
  EXPECT_FALSE(CvssBaseScore("CVSS:3.1/AV:X/AC:L"));
  EXPECT_FALSE(CvssBaseScore("garbage"));
  EXPECT_EQ(SeverityOfScore(9.1), "critical");
  EXPECT_EQ(SeverityOfScore(7.5), "high");
  EXPECT_EQ(SeverityOfScore(6.1), "medium");
  EXPECT_EQ(SeverityOfScore(0.1), "low");
}

TEST(Osv, RangesWithEachEcosystemsOrder) {
  const Json log4j = Json::parse(R"({"package": {"ecosystem": "Maven", "name": "x:y"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.3.1"},
                                                {"introduced": "2.4"}, {"fixed": "2.12.2"},
                                                {"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}]})");
  std::string fixed;
  EXPECT_TRUE(Affects(log4j, "Maven", "2.14.1", &fixed));
  EXPECT_EQ(fixed, "2.15.0");
  EXPECT_TRUE(Affects(log4j, "Maven", "2.0-rc1", &fixed));  // rc after beta9
  EXPECT_EQ(fixed, "2.3.1");
  EXPECT_FALSE(Affects(log4j, "Maven", "2.0-beta8", nullptr));
  EXPECT_FALSE(Affects(log4j, "Maven", "2.12.2", nullptr));
  EXPECT_FALSE(Affects(log4j, "Maven", "2.15.0", nullptr));
  EXPECT_FALSE(Affects(log4j, "Maven", "2.17.1", nullptr));

  const Json last = Json::parse(R"({"ranges": [{"type": "ECOSYSTEM",
      "events": [{"introduced": "1.0"}, {"last_affected": "1.4.2"}]}]})");
  EXPECT_TRUE(Affects(last, "PyPI", "1.4.2", &fixed));
  EXPECT_EQ(fixed, "");  // no fix published
  EXPECT_TRUE(Affects(last, "PyPI", "1.4.2rc1", nullptr));
  EXPECT_FALSE(Affects(last, "PyPI", "1.4.3rc1", nullptr));
  EXPECT_FALSE(Affects(last, "PyPI", "1.4.2.post1", nullptr));
  EXPECT_FALSE(Affects(last, "PyPI", "1.5", nullptr));
  EXPECT_FALSE(Affects(last, "PyPI", "0.9", nullptr));

  // PEP 440: a pre-release of the fix is still before the fix.
  const Json py = Json::parse(R"({"ranges": [{"type": "ECOSYSTEM",
      "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]})");
  EXPECT_TRUE(Affects(py, "PyPI", "2.0.0rc1", nullptr));
  EXPECT_FALSE(Affects(py, "PyPI", "2.0.0.post1", nullptr));
  // Go pseudo-versions before the fix are affected.
  EXPECT_TRUE(Affects(py, "Go", "v1.9.9-0.20230101000000-abcdefabcdef", nullptr));
  // Explicit versions only.
  const Json listed = Json::parse(R"({"versions": ["1.0.0", "1.0.1"]})");
  EXPECT_TRUE(Affects(listed, "npm", "1.0.1", nullptr));
  EXPECT_FALSE(Affects(listed, "npm", "1.0.2", nullptr));
  // GIT ranges name commits: not versions, not matched.
  const Json git = Json::parse(R"({"ranges": [{"type": "GIT", "events": [{"introduced": "0"}]}]})");
  EXPECT_FALSE(Affects(git, "npm", "1.0.0", nullptr));
}

class AdvisoryDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = AdvisoryDb::Open((dir_ / "advisories.db").string(), true);
    ASSERT_TRUE(db.ok()) << db.problem().Message();
    db_ = std::move(*db);
  }
  ps::testing::TempDir dir_;
  std::unique_ptr<AdvisoryDb> db_;
};

TEST_F(AdvisoryDbTest, ImportsFolderAndMatchesTheGraph) {
  auto rep = db_->Import(kFixtures.string());
  ASSERT_TRUE(rep.ok()) << rep.problem().Message();
  EXPECT_EQ(rep->added, 8u);
  EXPECT_EQ(rep->withdrawn, 1u);
  EXPECT_TRUE(rep->skipped.empty());
  // Again: nothing new.
  auto again = db_->Import(kFixtures.string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->added, 0u);
  EXPECT_EQ(again->unchanged, 8u);

  auto graph = ReadDependencies({
      {"package-lock.json", R"({"lockfileVersion": 3, "packages": {
          "": {"dependencies": {"lodash": "*", "express": "*"}},
          "node_modules/lodash": {"version": "4.17.11"},
          "node_modules/express": {"version": "4.19.2"}}})"},
      {"requirements.txt", "urllib3==1.26.4\nfastapi==0.110.0\n"},
      {"pom.xml", R"(<project><dependencies><dependency><groupId>org.apache.logging.log4j</groupId>
          <artifactId>log4j-core</artifactId><version>2.14.1</version></dependency></dependencies></project>)"},
      {"go.mod", "module x\nrequire golang.org/x/net v0.10.0 // indirect\n"},
      {"Gemfile.lock", "GEM\n  specs:\n    actionpack (7.0.4)\n\nDEPENDENCIES\n  actionpack\n"},
      {"packages.lock.json",
       R"({"dependencies": {"net8.0": {"Newtonsoft.Json": {"type": "Direct", "resolved": "13.0.1"}}}})"},
  });
  auto found = db_->Match(graph);
  ASSERT_TRUE(found.ok()) << found.problem().Message();
  std::map<std::string, VulnFinding> by_id;
  for (const auto& f : *found) by_id[f.advisory_id + " " + f.name] = f;
  ASSERT_EQ(by_id.size(), 5u);
  const auto& log4j = by_id.at("GHSA-jfh8-c2jp-5v3q org.apache.logging.log4j:log4j-core");
  EXPECT_EQ(log4j.severity, "critical");
  EXPECT_DOUBLE_EQ(*log4j.score, 10.0);
  EXPECT_EQ(log4j.fixed, "2.15.0");
  EXPECT_TRUE(log4j.direct);
  const auto& lodash = by_id.at("GHSA-jf85-cpcp-j695 lodash");
  EXPECT_EQ(lodash.fixed, "4.17.12");
  EXPECT_EQ(lodash.aliases, std::vector<std::string>{"CVE-2019-10744"});
  EXPECT_EQ(by_id.at("GHSA-q2q7-5pp4-w6pg urllib3").fixed, "1.26.5");
  EXPECT_EQ(by_id.at("GO-2023-2102 golang.org/x/net").severity, "unknown");  // no score given
  EXPECT_FALSE(by_id.at("GO-2023-2102 golang.org/x/net").direct);
  EXPECT_EQ(by_id.at("GHSA-8xww-x3g3-6jcv actionpack").fixed, "7.0.4.1");
  // express 4.19.2 is the fixed version; Newtonsoft.Json 13.0.1 too; the
  // withdrawn fastapi advisory is gone.
  EXPECT_EQ(found->front().severity, "critical");  // most severe first
  auto status = db_->Status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["advisories"], 8);
  EXPECT_EQ((*status)["ecosystems"]["npm"], 2);
}

TEST_F(AdvisoryDbTest, ZipExportsAndNewerRecordsReplaceOlder) {
  std::string lodash = *ReadFile(kFixtures / "GHSA-jf85-cpcp-j695.json");
  auto zip = MakeZip({{"GHSA-jf85-cpcp-j695.json", lodash}, {"README", "not json"}});
  auto rep = db_->ImportBytes("all.zip", zip);
  ASSERT_TRUE(rep.ok()) << rep.problem().Message();
  EXPECT_EQ(rep->added, 1u);
  // A newer record of the same id: fixed moves to 4.17.21.
  Json rec = Json::parse(lodash);
  rec["modified"] = "2025-01-01T00:00:00Z";
  rec["affected"][0]["ranges"][0]["events"][1]["fixed"] = "4.17.21";
  rep = db_->ImportBytes("update.zip", MakeZip({{"x/GHSA-jf85-cpcp-j695.json", rec.dump()}}, true));
  ASSERT_TRUE(rep.ok()) << rep.problem().Message();
  EXPECT_EQ(rep->updated, 1u);
  auto graph = ReadDependencies(
      {{"package.json", "{}"}, {"yarn.lock", "lodash@^4:\n  version \"4.17.20\"\n"}});
  auto found = db_->Match(graph);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().fixed, "4.17.21");
}

TEST_F(AdvisoryDbTest, MalformedInputIsSkippedOrRefused) {
  auto rep =
      db_->ImportBytes("bad.json", R"([{"id": 5}, {"no": "id"}, {"id": "X-1", "affected": 3}])");
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->added, 0u);
  EXPECT_EQ(rep->skipped.size(), 3u);
  rep = db_->ImportBytes("bad2.json", "{not json");
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->skipped.size(), 1u);
  // A corrupt zip changes nothing, even after good entries.
  std::string good = *ReadFile(kFixtures / "GO-2023-2102.json");
  auto z2 = MakeZip({{"a.json", good}, {"b.json", good}}, true);
  z2[z2.rfind("GO-2023-2102")] = 'X';  // the second entry's content: CRC mismatch
  auto bad = db_->ImportBytes("corrupt.zip", z2);
  EXPECT_FALSE(bad.ok());
  auto status = db_->Status();
  EXPECT_EQ((*status)["advisories"], 0);
  EXPECT_FALSE(db_->ImportBytes("trunc.zip", z2.substr(0, z2.size() / 2)).ok());
  EXPECT_FALSE(AdvisoryDb::Open((dir_ / "missing.db").string(), false).ok());
}

TEST(Zip, LimitsAndMethods) {
  const std::string big(1 << 20, 'a');
  auto zip = MakeZip({{"big.json", big}});
  ZipLimits small;
  small.max_entry_bytes = 1 << 10;
  auto st = ReadZip(
      zip, [](const std::string&, const std::string&) { return true; }, small);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.problem().Message().find("larger than"), std::string::npos);
  int n = 0;
  st = ReadZip(zip, [&](const std::string& name, const std::string& c) {
    EXPECT_EQ(name, "big.json");
    EXPECT_EQ(c, big);
    ++n;
    return true;
  });
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(n, 1);
  EXPECT_FALSE(ReadZip("PK", [](auto&, auto&) { return true; }).ok());
}

}  // namespace
}  // namespace ps::security
