// `prodsprint up --apply` end to end on the release example, through the
// binary: real HAProxy, supervised processes, node. v1 goes to staging, the
// gates, then production (its first version); v4 (healthy) is released as a
// canary and promoted; v5-prod-errors (failing only where PRODSPRINT_ENV is
// production) passes every gate on staging and is rolled back by the canary
// analysis. Reports are written each time. Outcomes only, never durations.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "core/json.h"
#include "testing/testing.h"

namespace ps {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::RunCommand;

class UpPipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r =
        RunCommand({PS_SOURCE_DIR "/examples/canary/make-repo.sh", repo().string()}, dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Short measurements and analysis steps (an uncommitted edit: the
    // configuration is read from the working tree, the versions from git).
    std::string config = testing::ReadText(repo() / "prodsprint.yaml");
    const auto at = config.find("release:");
    ASSERT_NE(at, std::string::npos);
    config.insert(at,
                  "policy:\n  performance:\n    rate: 100\n    duration: 2s\n"
                  "  tests:\n    coverage_min: 0\n");
    const auto min = config.find("min_requests: 50");
    ASSERT_NE(min, std::string::npos);
    config.replace(min, 16, "min_requests: 20");
    testing::WriteText(repo() / "prodsprint.yaml", config);
  }
  void TearDown() override {
    Ps({"down", "repo"});
    Ps({"down", "repo", "--env", "production"});
  }
  fs::path repo() const { return dir_ / "repo"; }
  CommandResult Ps(std::vector<std::string> args) {
    args.insert(args.begin(), PS_BINARY);
    return RunCommand(args, dir_.path(), {"NO_COLOR=1"});
  }
  Json RunUp(const std::string& ref, int expect_exit) {
    auto r = Ps({"up", "repo", "--apply", "--ref", ref, "--json"});
    EXPECT_EQ(r.exit_code, expect_exit) << ref << "\n" << r.err << r.out;
    Json j = Json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
  testing::TempDir dir_;
};

TEST_F(UpPipeline, DeploysPromotesAHealthyVersionAndRollsBackOneWorseOnlyInProduction) {
  // v1: staging, the gates (the performance baseline), production's first version.
  Json j = RunUp("v1", 0);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["checklist"]["ready"], true) << j["checklist"].dump();
  EXPECT_EQ(j["release_kind"], "first deploy");
  EXPECT_NE(j["outcome"].get<std::string>().find("deployed to production"), std::string::npos);
  const std::string md1 = j["report"]["markdown"];
  EXPECT_TRUE(fs::exists(md1));

  // v4: a canary in production, promoted; the report charts it.
  j = RunUp("v4", 0);
  EXPECT_EQ(j["release_kind"], "release");
  EXPECT_EQ(j["release"]["status"], "promoted") << j["release"].dump();
  EXPECT_FALSE(j["release"]["timeline"].empty());
  const std::string html = testing::ReadText(j["report"]["html"].get<std::string>());
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Traffic to the new version"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // self-contained, no scripts

  // v5-prod-errors: ready on staging, rolled back in production, exit 1.
  j = RunUp("v5-prod-errors", 1);
  EXPECT_EQ(j["checklist"]["ready"], true) << j["checklist"].dump();
  EXPECT_EQ(j["release"]["status"], "rolledback") << j["release"].dump();
  EXPECT_NE(j["outcome"].get<std::string>().find("rolled back"), std::string::npos);
  const std::string md = testing::ReadText(j["report"]["markdown"].get<std::string>());
  // The release history holds both: the promotion and the rollback.
  EXPECT_NE(md.find("| promoted |"), std::string::npos) << md;
  EXPECT_NE(md.find("| rolledback |"), std::string::npos) << md;

  // Production still serves v4.
  auto st = Ps({"status", "repo", "--json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find(j["release"]["from"]["catalog"].get<std::string>()), std::string::npos);
}

}  // namespace
}  // namespace ps

namespace ps {
namespace {

// A run that fails for a reason outside the repository (here: a file the
// build needs is missing) is resumed by the next `up` from its failed stage,
// not started again; the message says which stage failed and how to go on.
TEST(UpResume, AFailedRunResumesFromItsFailedStage) {
  testing::TempDir dir;
  const fs::path repo = dir / "svc";
  const std::string flag = (dir / "toolchain-ready").string();
  testing::WriteText(repo / "package.json",
                     R"({"name": "svc", "scripts": {"start": "node s.js", "test": "node --test",
                         "build": "test -f )" +
                         flag + R"( || { echo toolchain missing >&2; exit 3; }"}})");
  testing::WriteText(repo / "s.test.js", "require('node:test')('runs', () => {});\n");
  testing::WriteText(repo / "s.js",
                     "require('http').createServer((q, r) => r.end('ok'))"
                     ".listen(process.env.PORT || 3000)\n");
  auto ps = [&](std::vector<std::string> args) {
    args.insert(args.begin(), PS_BINARY);
    return RunCommand(args, dir.path(), {"NO_COLOR=1"});
  };
  struct Down {
    std::function<void()> stop;
    ~Down() { stop(); }
  } down{[&] {
    ps({"down", "svc"});
    ps({"down", "svc", "--env", "production"});
  }};
  auto r = ps({"up", "svc", "--apply"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("The pipeline stopped at the apply run, stage 'apply'"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("to resume: fix the cause and run 'prodsprint up svc --apply' again"),
            std::string::npos)
      << r.out;
  const auto at = r.err.find("apply run ");
  ASSERT_NE(at, std::string::npos) << r.err;
  const std::string failed_run = r.err.substr(at + 10, 36);

  testing::WriteText(flag, "");
  r = ps({"up", "svc", "--apply", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const Json j = Json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["apply_run"]["run"]["id"], failed_run);
  EXPECT_EQ(j["apply_run"]["run"]["status"], "done");
  EXPECT_EQ(j["release_kind"], "first deploy");

  // A changed working tree (not in git): released as a canary, promoted.
  testing::WriteText(repo / "prodsprint.yaml",
                     "release:\n  analysis:\n    min_requests: 20\n  traffic:\n    rate: 200\n"
                     "policy:\n  performance:\n    duration: 1s\n");
  testing::WriteText(repo / "s.js",
                     "require('http').createServer((q, r) => r.end('ok v2'))"
                     ".listen(process.env.PORT || 3000)\n");
  r = ps({"up", "svc", "--apply", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const Json k = Json::parse(r.out, nullptr, false);
  ASSERT_TRUE(k.is_object()) << r.out;
  EXPECT_EQ(k["release_kind"], "release");
  EXPECT_EQ(k["release"]["status"], "promoted") << k["release"].dump();
}

}  // namespace
}  // namespace ps
