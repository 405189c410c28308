// The prodsprint binary, end to end, as a user runs it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include <filesystem>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "core/fs.h"
#include "testing/testing.h"

namespace ps {
namespace {

using ps::testing::RunCommand;
using ps::testing::TempDir;
using ps::testing::WriteText;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteText(dir_ / "repo/package.json",
              R"({"name":"hello","scripts":{"start":"node server.js","test":"node --test"}})");
    WriteText(dir_ / "repo/server.js", "require('http').createServer().listen(3000)\n");
    // The test gate of `up` runs it.
    WriteText(dir_ / "repo/server.test.js", "require('node:test')('starts', () => {});\n");
  }
  ps::testing::CommandResult Ps(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), PS_BINARY);
    env.push_back("NO_COLOR=1");
    // No advisory database of the machine's: the readiness run says "not checked".
    env.push_back("PRODSPRINT_ADVISORY_DB=" + (dir_.path() / "advisories.db").string());
    return RunCommand(args, dir_.path(), env);
  }
  TempDir dir_;
};

TEST_F(CliTest, HelpExplainsEveryCommand) {
  auto r = Ps({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* cmd : {"up", "runs", "logs", "events", "worker", "config", "version"}) {
    EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd;
  }
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos);
  for (const char* cmd : {"up", "runs", "logs", "events", "worker", "config"}) {
    auto h = Ps({cmd, "--help"});
    EXPECT_EQ(h.exit_code, 0) << cmd;
    EXPECT_GT(h.out.size(), 100u) << cmd;
  }
  auto show = Ps({"runs", "show", "--help"});
  EXPECT_NE(show.out.find("RUN"), std::string::npos);
}

TEST_F(CliTest, VersionHasJson) {
  auto r = Ps({"version", "--json"});
  ASSERT_EQ(r.exit_code, 0);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["version"], PS_VERSION);
  EXPECT_GE(j["schema"].get<int>(), 1);
}

TEST_F(CliTest, UnknownCommandIsAUsageError) {
  auto r = Ps({"deploy-everything"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(CliTest, UpRunsTheImportAndTheRunCanBeInspected) {
  auto up = Ps({"up", "repo"});
  ASSERT_EQ(up.exit_code, 0) << up.err << up.out;
  EXPECT_NE(up.out.find("done"), std::string::npos);
  EXPECT_NE(up.err.find("source"), std::string::npos);  // live progress
  EXPECT_EQ(up.out.find("\x1b["), std::string::npos);   // NO_COLOR honoured
  EXPECT_TRUE(std::filesystem::exists(dir_ / ".prodsprint/state.db"));

  auto runs = Ps({"runs", "--json"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  auto list = nlohmann::json::parse(runs.out);
  // The import run, the blueprint run, the readiness run (newest first).
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["kind"], "readiness");
  EXPECT_EQ(list[0]["status"], "done");
  EXPECT_EQ(list[1]["kind"], "blueprint");
  EXPECT_EQ(list[1]["status"], "done");
  const std::string id = list[2]["id"];
  EXPECT_EQ(list[2]["kind"], "import");
  EXPECT_EQ(list[2]["status"], "done");
  EXPECT_NE(up.out.find("Security gate: passed"), std::string::npos) << up.out;
  EXPECT_NE(up.out.find("Plan (local/staging)"), std::string::npos) << up.out;

  auto show = Ps({"run", "show", id.substr(0, 20), "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  auto detail = nlohmann::json::parse(show.out);
  EXPECT_EQ(detail["run"]["id"], id);
  EXPECT_EQ(detail["stages"][0]["name"], "source");
  EXPECT_EQ(detail["stages"][0]["output"]["tree"]["files"], 3);

  auto human = Ps({"runs", "show", id});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_NE(human.out.find("source"), std::string::npos);

  auto logs = Ps({"logs", id});
  EXPECT_EQ(logs.exit_code, 0);
  EXPECT_NE(logs.out.find("repository read"), std::string::npos);
  EXPECT_NE(logs.out.find("run=" + id), std::string::npos);

  auto events = Ps({"events", "--json", "--run", id});
  EXPECT_EQ(events.exit_code, 0);
  EXPECT_NE(events.out.find("\"run.done\""), std::string::npos);
  // Resuming after the last seen number gives nothing new.
  auto all = Ps({"events", "--json"});
  EXPECT_NE(all.out.find("\"plan.ready\""), std::string::npos);
  std::string last_line = all.out.substr(all.out.rfind('\n', all.out.size() - 2) + 1);
  auto last_seq = nlohmann::json::parse(last_line)["seq"].get<long long>();
  auto after = Ps({"events", "--json", "--after", std::to_string(last_seq)});
  EXPECT_EQ(after.out, "");

  // A second up on the same repository reuses the project.
  auto again = Ps({"up", "repo", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto j = nlohmann::json::parse(again.out);
  EXPECT_EQ(j["project"]["id"], detail["project"]["id"]);
  EXPECT_EQ(j["blueprint_run"]["run"]["status"], "done");
  // The second plan diffs against the blueprint the first one stored.
  auto evs = Ps({"events", "--json"});
  std::vector<nlohmann::json> ready;
  std::istringstream lines(evs.out);
  for (std::string l; std::getline(lines, l);) {
    auto e = nlohmann::json::parse(l);
    if (e["name"] == "plan.ready") ready.push_back(e);
  }
  ASSERT_EQ(ready.size(), 2u);
  EXPECT_EQ(ready[0]["payload"]["diff"]["files"]["added"].size(),
            ready[0]["payload"]["files"].get<std::size_t>());
  EXPECT_GE(ready[0]["payload"]["files"].get<int>(), 3);  // Dockerfile, .dockerignore, workflow...
  EXPECT_TRUE(ready[1]["payload"]["diff"]["files"]["added"].empty());
  EXPECT_TRUE(ready[1]["payload"]["diff"]["files"]["changed"].empty());
  EXPECT_TRUE(ready[1]["payload"]["diff"]["resources"]["changed"].empty());
}

// `up --ref REV` reads REV in every run, the audit and the plan included:
// never the working tree's HEAD.
TEST_F(CliTest, UpWithARefAuditsAndPlansThatRevision) {
  auto git = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/git", "-c", "user.name=t", "-c", "user.email=t@t"});
    return RunCommand(args, dir_ / "repo");
  };
  ASSERT_EQ(git({"init", "-q", "-b", "main"}).exit_code, 0);
  ASSERT_EQ(git({"add", "."}).exit_code, 0);
  ASSERT_EQ(git({"commit", "-q", "-m", "node"}).exit_code, 0);
  ASSERT_EQ(git({"tag", "v1"}).exit_code, 0);
  const std::string v1 = git({"rev-parse", "HEAD"}).out.substr(0, 40);
  // HEAD becomes another service entirely (a Go one), with changes on top.
  ASSERT_EQ(git({"rm", "-q", "package.json", "server.js", "server.test.js"}).exit_code, 0);
  WriteText(dir_ / "repo/go.mod", "module example.com/other\n\ngo 1.22\n");
  WriteText(dir_ / "repo/main.go",
            "package main\n\nimport \"net/http\"\n\nfunc main() { http.ListenAndServe(\":9999\", "
            "nil) }\n");
  ASSERT_EQ(git({"add", "."}).exit_code, 0);
  ASSERT_EQ(git({"commit", "-q", "-m", "go"}).exit_code, 0);

  auto up = Ps({"up", "repo", "--ref", "v1", "--json"});
  ASSERT_EQ(up.exit_code, 0) << up.err << up.out;
  auto j = nlohmann::json::parse(up.out);
  const auto& stages = j["stages"];
  ASSERT_EQ(stages[0]["name"], "source");
  EXPECT_EQ(stages[0]["output"]["git"]["commit"], v1);
  EXPECT_EQ(stages[0]["output"]["git"]["ref"], "v1");
  EXPECT_EQ(stages[0]["output"]["tree"]["fingerprint"], "git:" + v1);
  ASSERT_EQ(stages[1]["name"], "audit");
  EXPECT_EQ(stages[1]["output"]["commit"], v1);
  ASSERT_EQ(stages[1]["output"]["services"].size(), 1u);
  EXPECT_EQ(stages[1]["output"]["services"][0]["language"]["value"], "JavaScript");
  // The plan is of v1's Node service (its Dockerfile runs node), not HEAD's Go one.
  bool node_dockerfile = false;
  for (const auto& st : j["blueprint_run"]["stages"]) {
    if (st["name"] != "plan") continue;
    for (const auto& f : st["output"]["files"]) {
      if (f["path"].get<std::string>().find("Dockerfile") != std::string::npos) {
        node_dockerfile = true;
      }
    }
  }
  EXPECT_TRUE(node_dockerfile) << j["blueprint_run"].dump();
  auto human = Ps({"up", "repo", "--ref", "v1"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("git " + v1.substr(0, 12) + " (--ref v1)"), std::string::npos)
      << human.out;
  EXPECT_EQ(human.out.find("9999"), std::string::npos) << human.out;
}

TEST_F(CliTest, RetryAndCancelOfADoneRunAreConflicts) {
  ASSERT_EQ(Ps({"up", "repo"}).exit_code, 0);
  auto list = nlohmann::json::parse(Ps({"runs", "--json"}).out);
  const std::string id = list[0]["id"];
  auto retry = Ps({"runs", "retry", id});
  EXPECT_EQ(retry.exit_code, 5);
  EXPECT_NE(retry.err.find("only a failed or cancelled run can be retried"), std::string::npos);
  auto cancel = Ps({"runs", "cancel", id, "--json"});
  EXPECT_EQ(cancel.exit_code, 5);
  auto problem = nlohmann::json::parse(cancel.out);
  EXPECT_EQ(problem["status"], 409);
  EXPECT_EQ(problem["type"], "https://prodsprint.dev/problems/conflict");
}

TEST_F(CliTest, UnknownRunIsNotFound) {
  ASSERT_EQ(Ps({"up", "repo"}).exit_code, 0);
  auto r = Ps({"run", "show", "ffffffff"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("run not found"), std::string::npos);
}

TEST_F(CliTest, NoStateYetIsExplained) {
  auto r = Ps({"runs"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("ProdSprint state not found"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ / ".prodsprint"));  // nothing created
}

TEST_F(CliTest, InvalidConfigNamesFileLineAndKeyAndChangesNothing) {
  WriteText(dir_ / "repo/prodsprint.yaml", "engine:\n  workers: lots\n");
  auto r = Ps({"up", "repo"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("prodsprint.yaml:2:12: engine.workers: expected an integer"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / ".prodsprint"));
  auto check = Ps({"config", "check", "repo/prodsprint.yaml", "--json"});
  EXPECT_EQ(check.exit_code, 2);
  auto p = nlohmann::json::parse(check.out);
  EXPECT_EQ(p["errors"][0]["line"], 2);
  EXPECT_EQ(p["errors"][0]["key"], "engine.workers");
}

TEST_F(CliTest, EnvironmentOverridesConfig) {
  WriteText(dir_ / "prodsprint.yaml", "engine:\n  workers: 3\n");
  auto r = Ps({"config", "--json"}, {"PRODSPRINT_ENGINE_WORKERS=5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["engine"]["workers"], 5);
  EXPECT_EQ(j["_origin"]["engine.workers"], "env PRODSPRINT_ENGINE_WORKERS");
  auto bad = Ps({"config"}, {"PRODSPRINT_ENGINE_WORKERS=zero"});
  EXPECT_EQ(bad.exit_code, 2);
}

TEST_F(CliTest, StateDirCanBeMovedByEnvironment) {
  auto r = Ps({"up", "repo"}, {"PRODSPRINT_STATE_DIR=" + (dir_ / "elsewhere").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "elsewhere/state.db"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / ".prodsprint"));
}

TEST_F(CliTest, TruncatedStateIsReportedAndKept) {
  ASSERT_EQ(Ps({"up", "repo"}).exit_code, 0);
  for (int i = 0; i < 30; ++i) ASSERT_EQ(Ps({"up", "repo"}).exit_code, 0);
  const auto db = dir_ / ".prodsprint/state.db";
  auto full = ReadFile(db);
  ASSERT_TRUE(full.ok());
  const std::string half = full->substr(0, full->size() / 2);
  ASSERT_TRUE(WriteFileAtomic(db, half).ok());
  auto r = Ps({"runs"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("State store is damaged"), std::string::npos) << r.err;
  EXPECT_EQ(*ReadFile(db), half);
}

TEST_F(CliTest, PlantedLinksNeverRedirectAWrite) {
  namespace fs = std::filesystem;
  fs::create_directories(dir_ / "elsewhere");
  WriteText(dir_ / "elsewhere/Dockerfile", "FROM mine\n");
  // repo/.prodsprint/plan/staging -> elsewhere: the plan refuses, writes nothing there
  fs::create_directories(dir_ / "repo/.prodsprint/plan");
  fs::create_directory_symlink(dir_ / "elsewhere", dir_ / "repo/.prodsprint/plan/staging");
  auto r = Ps({"plan", "repo"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("staging is a symbolic link: not followed"), std::string::npos) << r.err;
  EXPECT_EQ(*ReadFile(dir_ / "elsewhere/Dockerfile"), "FROM mine\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "elsewhere"), fs::directory_iterator()), 1);
  // repo/.prodsprint -> elsewhere: the same
  fs::remove_all(dir_ / "repo/.prodsprint");
  fs::create_directory_symlink(dir_ / "elsewhere", dir_ / "repo/.prodsprint");
  EXPECT_EQ(Ps({"plan", "repo"}).exit_code, 2);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "elsewhere"), fs::directory_iterator()), 1);
  // a state folder that is a link is refused; a real one is made private
  fs::create_directory_symlink(dir_ / "elsewhere", dir_ / ".prodsprint");
  auto up = Ps({"up", "repo"});
  EXPECT_EQ(up.exit_code, 2);
  EXPECT_NE(up.err.find("the state folder must be a real folder"), std::string::npos) << up.err;
  EXPECT_FALSE(fs::exists(dir_ / "elsewhere/state.db"));
  fs::remove(dir_ / ".prodsprint");
  fs::remove(dir_ / "repo/.prodsprint");
  ASSERT_EQ(Ps({"up", "repo"}).exit_code, 0);
  EXPECT_EQ(fs::status(dir_ / ".prodsprint").permissions() & fs::perms::all, fs::perms::owner_all);
  // A folder of the user's that holds other files is not narrowed into a state folder.
  WriteText(dir_ / "site/index.html", "hi\n");
  fs::permissions(dir_ / "site",
                  fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
  auto other = Ps({"up", "repo"}, {"PRODSPRINT_STATE_DIR=" + (dir_ / "site").string()});
  EXPECT_EQ(other.exit_code, 2) << other.err;
  EXPECT_NE(other.err.find("holds other files"), std::string::npos) << other.err;
  EXPECT_NE(fs::status(dir_ / "site").permissions() & fs::perms::others_read, fs::perms::none);
}

TEST_F(CliTest, NotAFolderIsAClearError) {
  auto r = Ps({"up", "no/such/repo"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is not a folder"), std::string::npos);
}

TEST_F(CliTest, WorkerUntilIdleExitsWhenNothingIsLeft) {
  ASSERT_EQ(Ps({"up", "repo"}).exit_code, 0);
  auto r = Ps({"worker", "--until-idle"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace ps

namespace ps {
namespace {

class CliAuditTest : public ::testing::Test {
 protected:
  ps::testing::CommandResult Ps(std::vector<std::string> args) {
    args.insert(args.begin(), PS_BINARY);
    return ps::testing::RunCommand(args, dir_.path(), {"NO_COLOR=1"});
  }
  ps::testing::TempDir dir_;
};

TEST_F(CliAuditTest, AuditPrintsServicesAndJson) {
  const auto repo = std::filesystem::path(PS_SOURCE_DIR) / "tests/fixtures/audit/node-express/repo";
  auto human = Ps({"audit", repo.string()});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("orders-api"), std::string::npos);
  EXPECT_NE(human.out.find("Express"), std::string::npos);
  auto json = Ps({"audit", repo.string(), "--json"});
  ASSERT_EQ(json.exit_code, 0);
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["services"][0]["port"]["value"], 8080);
  EXPECT_FALSE(std::filesystem::exists(dir_ / ".prodsprint"));  // audit keeps no state
  auto bad = Ps({"audit", "/no/such/repo"});
  EXPECT_EQ(bad.exit_code, 2);
  auto badref = Ps({"audit", PS_SOURCE_DIR, "--ref", "no-such-ref-anywhere"});
  EXPECT_EQ(badref.exit_code, 2);
  EXPECT_NE(badref.err.find("unknown revision"), std::string::npos);
}

TEST_F(CliAuditTest, UpRunsTheAuditAndEmitsProjectImported) {
  const auto repo =
      std::filesystem::path(PS_SOURCE_DIR) / "tests/fixtures/audit/python-fastapi/repo";
  auto up = Ps({"up", repo.string(), "--json"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  auto j = nlohmann::json::parse(up.out);
  ASSERT_EQ(j["stages"].size(), 2u);
  EXPECT_EQ(j["stages"][1]["name"], "audit");
  EXPECT_EQ(j["stages"][1]["output"]["services"][0]["framework"]["value"], "FastAPI");
  EXPECT_EQ(j["project"]["state"], "imported");
  ASSERT_EQ(j["artifacts"].size(), 1u);  // the audit, content-addressed
  EXPECT_EQ(j["artifacts"][0]["type"], "audit");
  EXPECT_EQ(j["artifacts"][0]["name"], "audit.json");
  const std::string sha = j["artifacts"][0]["sha256"];
  EXPECT_TRUE(
      std::filesystem::exists(dir_ / ".prodsprint/artifacts/sha256" / sha.substr(0, 2) / sha));
  auto events = Ps({"events", "--json"});
  EXPECT_NE(events.out.find("\"project.imported\""), std::string::npos);
}

}  // namespace
}  // namespace ps

namespace ps {
namespace {

// `prodsprint load`: bad URLs are refused with exit 2 before anything is
// sent; a real run against a local server reports per route, as JSON.
TEST_F(CliTest, LoadRefusesBadUrlsAndReportsPerRoute) {
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"load", "ftp://127.0.0.1:1/"},
           {"load", "http://127.0.0.1:99999/"},
           {"load", "http://127.0.0.1:80x/"},
           {"load", "http://example.com/"},
           {"load", "http://127.0.0.1:8080/a", "http://127.0.0.1:8081/b"},
           {"load", "http://127.0.0.1:8080/a b"},
           {"load", "http://127.0.0.1:8080/", "--rate", "0"}}) {
    auto r = Ps(bad);
    EXPECT_EQ(r.exit_code, 2) << bad[1] << ": " << r.out << r.err;
  }
  // Nothing listens on port 1: every request fails, the summary says so,
  // and the exit code (nothing was measured).
  auto r = Ps({"load", "http://127.0.0.1:1/a", "http://127.0.0.1:1/b", "--rate", "50", "--duration",
               "0.3", "--json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const Json j = Json::parse(r.out);
  EXPECT_EQ(j["model"], "open");
  EXPECT_EQ(j["routes"].size(), 2u);
  EXPECT_EQ(j["failed"], j["completed"]);
  EXPECT_GT(j["completed"].get<int>(), 0);
}

// Small things that failed open before: each an error with a Problem, a
// documented exit code, and nothing changed.
TEST_F(CliTest, UsageAndInputErrorsAreProblemsWithTheirExitCodes) {
  namespace fs = std::filesystem;
  // --json: a usage error is a Problem on stdout.
  for (const auto& args : std::vector<std::vector<std::string>>{{"runs", "show", "--json"},
                                                                {"waive", "security", "--json"},
                                                                {"up", "--bogus", "--json"}}) {
    auto r = Ps(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    const Json p = Json::parse(r.out, nullptr, false);
    ASSERT_TRUE(p.is_object()) << args[0] << ": " << r.out;
    EXPECT_EQ(p["type"], "https://prodsprint.dev/problems/usage");
  }
  // waive's own errors, with --json
  auto w = Ps({"waive", "nosuch", "--reason", "why not", "--until", "2099-01-01", "--path", "repo",
               "--json"});
  EXPECT_EQ(w.exit_code, 2);
  EXPECT_EQ(Json::parse(w.out, nullptr, false).value("status", 0), 400) << w.out;
  // an environment the configuration does not name: refused, no state made
  auto e = Ps({"apply", "repo", "--env", "prod"});
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_NE(e.err.find("unknown environment 'prod'"), std::string::npos) << e.err;
  EXPECT_FALSE(fs::exists(dir_ / ".prodsprint"));
  // an unknown revision is a usage error, before any run
  auto ref = Ps({"up", "repo", "--ref", "no-such-ref"});
  EXPECT_EQ(ref.exit_code, 2) << ref.err;
  EXPECT_FALSE(fs::exists(dir_ / ".prodsprint"));
  // an invalid regular expression fails `config check`
  WriteText(dir_ / "bad.yaml", "policy:\n  security:\n    allowlist:\n      regexes: ['(open']\n");
  auto c = Ps({"config", "check", "bad.yaml"});
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.err.find("policy.security.allowlist.regexes"), std::string::npos) << c.err;
}

TEST_F(CliTest, ControlCharactersFromTheRepositoryAreEscaped) {
  const std::string dir = "sub\x1b]0;pwned\x07\x1b[2J\rX\x1b[8mhidden\x7f";
  WriteText(dir_ / "repo" / dir / "package.json", "{bad");
  auto r = Ps({"audit", "repo"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  EXPECT_NE(r.out.find("sub\\x1b]0;pwned\\x07\\x1b[2J\\x0dX\\x1b[8mhidden\x7f/package.json"),
            std::string::npos)
      << r.out;
  // JSON keeps the name exactly (escaped by JSON itself)
  auto j = Ps({"audit", "repo", "--json"});
  EXPECT_TRUE(Json::accept(j.out));  // DEL passes raw: still JSON
  EXPECT_NE(j.out.find("sub\\u001b]0;pwned\\u0007\\u001b[2J\\rX"), std::string::npos);
}

TEST_F(CliTest, AReadOnlyStateIsAStoreError) {
  namespace fs = std::filesystem;
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  fs::permissions(dir_.path(), fs::perms::all);
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "repo")) {
    fs::permissions(e.path(), fs::perms::others_read | fs::perms::others_exec,
                    fs::perm_options::add);
  }
  fs::permissions(dir_ / "repo", fs::perms::others_read | fs::perms::others_exec,
                  fs::perm_options::add);
  auto nobody = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                               "--clear-groups", "--", PS_BINARY});
    return ps::testing::RunCommand(args, dir_.path(),
                                   {"NO_COLOR=1", "HOME=" + dir_.path().string(),
                                    "PRODSPRINT_ADVISORY_DB=" + (dir_ / "none.db").string()});
  };
  ASSERT_EQ(nobody({"audit", "repo", "--json"}).exit_code, 0);
  fs::create_directory(dir_ / ".prodsprint");
  ASSERT_EQ(::chown((dir_ / ".prodsprint").c_str(), 65534, 65534), 0);
  auto up = nobody({"up", "repo"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  fs::permissions(dir_ / ".prodsprint", fs::perms::owner_read | fs::perms::owner_exec);
  fs::permissions(dir_ / ".prodsprint/state.db", fs::perms::owner_read);
  auto r = nobody({"up", "repo"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("State store is read-only"), std::string::npos) << r.err;
  fs::permissions(dir_ / ".prodsprint", fs::perms::owner_all);
}

// A frontend port that another process also listens on (SO_REUSEPORT:
// the kernel shares its connections) is not "healthy".
TEST_F(CliTest, StatusSaysWhenAnotherProcessSharesTheFrontendPort) {
  WriteText(dir_ / "repo/server.js",
            "require('http').createServer((q, r) => r.end('ok')).listen(process.env.PORT)\n");
  auto ap = Ps({"apply", "repo"});
  ASSERT_EQ(ap.exit_code, 0) << ap.err;
  struct Down {
    std::function<void()> f;
    ~Down() { f(); }
  } down{[&] { Ps({"down", "repo"}); }};
  auto st = Json::parse(Ps({"status", "repo", "--json"}).out);
  const Json& svc = st["environments"][0]["services"]["hello"];
  const int port = svc["frontend_port"];
  EXPECT_EQ(svc["frontend"]["routed"], true);
  EXPECT_EQ(svc["frontend"]["another_listener"], false);
  EXPECT_NE(Ps({"status", "repo"}).out.find("1/1 healthy"), std::string::npos);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(fd, 4), 0);
  st = Json::parse(Ps({"status", "repo", "--json"}).out);
  EXPECT_EQ(st["environments"][0]["services"]["hello"]["frontend"]["another_listener"], true);
  const auto human = Ps({"status", "repo"}).out;
  EXPECT_EQ(human.find("1/1 healthy"), std::string::npos) << human;
  EXPECT_NE(human.find("also served by another process"), std::string::npos) << human;
  ::close(fd);
}

// The hostile-input suite: repositories made by
// tests/fixtures/hostile/make-repos.sh (FIFOs, links out of the tree, a
// .gitignore that takes a backtracking matcher minutes, control characters
// in names, a path past PATH_MAX, huge and sparse files). Every command ends
// (a minute at most, not a hang), with an exit code it documents, and
// leaves what the links point at as it was.
TEST_F(CliTest, HostileRepositoriesEndCleanlyAndWriteNothingOutside) {
  namespace fs = std::filesystem;
  const fs::path root = dir_ / "hostile";
  auto made = ps::testing::RunCommand(
      {PS_SOURCE_DIR "/tests/fixtures/hostile/make-repos.sh", root.string()}, dir_.path());
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto snapshot = [&] {
    std::string out;
    for (const auto& e : fs::recursive_directory_iterator(root / "outside")) {
      out += e.path().string() + "\n";
      if (e.is_regular_file()) out += ps::testing::ReadText(e.path());
    }
    return out;
  };
  const std::string before = snapshot();
  for (const char* repo : {"fifos", "links", "gitignore", "names", "deep", "huge"}) {
    for (const auto& cmd : std::vector<std::vector<std::string>>{
             {"audit"}, {"plan"}, {"check", "--gate", "security"}, {"up"}}) {
      std::vector<std::string> args = {"/usr/bin/timeout", "-s", "KILL", "60", PS_BINARY};
      args.insert(args.end(), cmd.begin(), cmd.end());
      args.push_back((root / repo).string());
      args.push_back("--json");
      auto r = ps::testing::RunCommand(
          args, dir_.path(),
          {"NO_COLOR=1", "PRODSPRINT_ADVISORY_DB=" + (dir_ / "none.db").string()});
      const std::string what = std::string(repo) + ": " + cmd[0];
      EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 2)
          << what << " exit " << r.exit_code << "\n"
          << r.err;
      // --json: a document either way (a result or a Problem)
      EXPECT_TRUE(Json::accept(r.out)) << what << ": " << r.out.substr(0, 300) << r.err;
      EXPECT_EQ(r.out.find("SUPERSECRETVALUE"), std::string::npos) << what;
      EXPECT_EQ(r.err.find("SUPERSECRETVALUE"), std::string::npos) << what;
    }
  }
  EXPECT_EQ(snapshot(), before);
  // Cleaned up by rm, which copes with any depth.
  ps::testing::RunCommand({"/bin/rm", "-rf", root.string()}, dir_.path());
}

}  // namespace
}  // namespace ps
