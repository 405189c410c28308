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
#include "security/secrets.h"
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

// Secrets at rest: after a whole `up --apply` of a service with generated
// secrets (a session secret, its database's password) and credentials
// committed in the repository under names that don't look secret (a GitHub
// token as a sample value, an AWS key as a code fallback), no file ProdSprint
// wrote (but the 0600 secrets file) and none of its JSON output holds any of
// them; the service still receives its secrets, in its environment.
TEST(UpSecrets, NothingWrittenOrPrintedHoldsASecret) {
  testing::TempDir dir;
  const fs::path repo = dir / "orders";
  fs::copy(PS_SOURCE_DIR "/tests/fixtures/deploy/db-app", repo, fs::copy_options::recursive);
  const std::string body = "Zq3XbW9pLr7TnV2mKc8YdF4hJs6GaE";
  const std::string token = "ghp_" + body + security::TokenChecksum(body);
  const std::string aws = "AKIAQ7RZ3M5TXW2KPL4N";
  testing::WriteText(repo / ".env.example",
                     testing::ReadText(repo / ".env.example") + "UPSTREAM_SETTING=" + token + "\n");
  std::string server = testing::ReadText(repo / "server.js");
  server.insert(0, "const awsKey = process.env.AWS_ACCESS_KEY_ID || '" + aws + "';\n");
  const std::string from = "SESSION_SECRET_SET: Boolean(process.env.SESSION_SECRET)";
  ASSERT_NE(server.find(from), std::string::npos);
  server.replace(server.find(from), from.size(),
                 from + ", SESSION_SECRET: process.env.SESSION_SECRET, AWS: awsKey");
  testing::WriteText(repo / "server.js", server);
  auto ps = [&](std::vector<std::string> args) {
    args.insert(args.begin(), PS_BINARY);
    return RunCommand(args, dir.path(), {"NO_COLOR=1"});
  };
  struct Down {
    std::function<void()> stop;
    ~Down() { stop(); }
  } down{[&] {
    ps({"down", "orders"});
    ps({"down", "orders", "--env", "production"});
  }};
  std::vector<std::string> printed;
  auto up = ps({"up", "orders", "--apply", "--json"});
  printed.push_back(up.out + up.err);  // the security gate blocks the token: not asserted

  // Staging runs it, with its secrets resolved into its environment.
  auto status = ps({"status", "orders", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err << up.out << up.err;
  printed.push_back(status.out);
  const Json st = Json::parse(status.out, nullptr, false);
  ASSERT_TRUE(st.is_object()) << status.out;
  const int port = st["environments"][0]["services"]["orders"]["frontend_port"];
  const std::string env_body =
      RunCommand({"/usr/bin/env", "node", "-e",
                  "require('http').get('http://127.0.0.1:" + std::to_string(port) +
                      "/env',r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>"
                      "process.stdout.write(b))})"},
                 dir.path())
          .out;
  const Json given = Json::parse(env_body, nullptr, false);
  ASSERT_TRUE(given.is_object()) << env_body;
  const std::string url = given.value("DATABASE_URL", "");
  const auto colon = url.find(':', 11), at = url.find('@');
  ASSERT_TRUE(colon != std::string::npos && at != std::string::npos && at > colon) << url;
  const std::string password = url.substr(colon + 1, at - colon - 1);
  const std::string session = given.value("SESSION_SECRET", "");
  EXPECT_EQ(password.size(), 48u) << url;
  EXPECT_EQ(session.size(), 48u);
  // A secret-named variable gets a value of the environment's, not the code's.
  EXPECT_EQ(given.value("AWS", "").size(), 48u);

  for (const auto& args : std::vector<std::vector<std::string>>{
           {"audit", "orders", "--json"}, {"runs", "--json"}, {"plan", "orders", "--json"}}) {
    auto r = ps(args);
    printed.push_back(r.out + r.err);
  }
  const Json runs = Json::parse(ps({"runs", "--json"}).out, nullptr, false);
  ASSERT_TRUE(runs.is_array() && runs.size() >= 3) << runs.dump();
  for (const auto& run : runs) {
    auto r = ps({"runs", "show", run["id"].get<std::string>(), "--json"});
    printed.push_back(r.out + r.err);
  }
  const std::vector<std::pair<std::string, std::string>> planted = {{"GitHub token", token},
                                                                    {"AWS key", aws},
                                                                    {"database password", password},
                                                                    {"session secret", session}};
  for (const auto& text : printed) {
    for (const auto& [what, value] : planted) {
      EXPECT_EQ(text.find(value), std::string::npos) << what << " printed in:\n"
                                                     << text.substr(0, 2000);
    }
  }
  // Every file written: the state folder, the repository's plans (but the
  // release's own copy of the repository's files, under releases/).
  int files = 0;
  for (const fs::path& root : {dir / ".prodsprint", repo / ".prodsprint"}) {
    if (!fs::exists(root)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (!e.is_regular_file() || e.path().filename() == "secrets.json" ||
          e.path().string().find("/releases/") != std::string::npos) {
        continue;
      }
      ++files;
      const std::string text = testing::ReadText(e.path());
      for (const auto& [what, value] : planted) {
        EXPECT_EQ(text.find(value), std::string::npos) << what << " in " << e.path();
      }
    }
  }
  EXPECT_GT(files, 20);
  // Private: the state folder, and the files that name secrets.
  EXPECT_EQ(fs::status(dir / ".prodsprint").permissions() & fs::perms::all, fs::perms::owner_all);
  for (const auto& e : fs::recursive_directory_iterator(dir / ".prodsprint")) {
    const auto name = e.path().filename().string();
    if (name == "secrets.json" || name == "env.json" || name == "desired.json") {
      EXPECT_EQ(e.status().permissions() & fs::perms::all,
                fs::perms::owner_read | fs::perms::owner_write)
          << e.path();
    }
  }
}

}  // namespace
}  // namespace ps
