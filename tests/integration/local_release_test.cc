// The local target end to end, through the prodsprint binary: real HAProxy,
// real supervised processes, the release example's real versions. Asserts
// outcomes (rolled back or promoted, requests failed or not), never
// durations: the figures live in bench/ (docs/BENCHMARKS.md).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "core/json.h"
#include "core/net.h"
#include "load/http_load.h"
#include "testing/testing.h"

namespace ps {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using testing::CommandResult;
using testing::RunCommand;

class LocalRelease : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = RunCommand({PS_SOURCE_DIR "/examples/canary/make-repo.sh", (dir_ / "repo").string()},
                        dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void TearDown() override {
    Ps({"down", "repo"}, env_);  // stops every process, whatever the test left
    if (!tmpfs_.empty()) RunCommand({"/bin/umount", "-l", tmpfs_.string()}, "/");
  }
  // A small tmpfs at `at` (a disk that can be filled), unmounted by
  // TearDown; false when it cannot be mounted here (not root, no tmpfs).
  bool MountTmpfs(const fs::path& at) {
    if (::geteuid() != 0) return false;
    fs::create_directories(at);
    if (RunCommand({"/bin/mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", at.string()},
                   dir_.path())
            .exit_code != 0) {
      return false;
    }
    tmpfs_ = at;
    return true;
  }
  void FillDisk(const fs::path& at) {
    RunCommand({"/bin/sh", "-c", "dd if=/dev/zero of='" + (at / "fill").string() + "' bs=64k"},
               dir_.path());
  }
  // A release configuration that stops at 30% until told.
  std::string PauseAt30() {
    testing::WriteText(dir_ / "pause.yaml",
                       "release:\n  steps:\n    - setWeight: 30\n    - pause: {}\n"
                       "  traffic:\n    rate: 20\n    paths: /api/items\n");
    return (dir_ / "pause.yaml").string();
  }
  // Waits (10 s at most) until the candidate gets `weight`%; the pid of the
  // release holding the environment then, and the frontend port.
  struct Candidate {
    pid_t pid = 0;
    int port = 0;
  };
  Candidate WaitForCandidateAt(int weight) {
    Candidate c;
    for (int i = 0; i < 500 && c.pid == 0; ++i) {
      std::this_thread::sleep_for(20ms);
      Json e = Json::parse(Ps({"status", "repo", "--json"}, env_).out, nullptr, false);
      if (!e.is_object() || e["environments"].empty()) continue;
      const Json& env = e["environments"][0];
      const Json& svc = env["services"]["catalog"];
      c.port = svc.value("frontend_port", 0);
      if (!svc["candidate"].is_string() ||
          svc["colours"][svc["candidate"].get<std::string>()].value("weight", 0) != weight) {
        continue;
      }
      const std::string holder = env.value("busy", "");
      const auto at = holder.find("(pid ");
      if (at != std::string::npos) c.pid = std::atoi(holder.c_str() + at + 5);
    }
    return c;
  }
  // Of 60 requests to /api/items, how many v4 answered ("stock" is its new field).
  std::string V4Answers(int port) {
    auto got = RunCommand(
        {"/usr/bin/env", "node", "-e",
         "const http=require('http');let v4=0,n=0;const one=()=>http.get('http://127.0.0.1:" +
             std::to_string(port) +
             "/api/items',r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>{v4+=b.includes("
             "'stock');if(++n<60)one();else console.log(v4)})});one();"},
        dir_.path());
    return got.out + got.err;
  }

  CommandResult Ps(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), PS_BINARY);
    env.push_back("NO_COLOR=1");
    return RunCommand(args, dir_.path(), env);
  }
  Json PsJson(std::vector<std::string> args, int expect_exit = 0) {
    args.push_back("--json");
    auto r = Ps(args);
    EXPECT_EQ(r.exit_code, expect_exit) << r.out << r.err;
    Json j = Json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
  // A new commit on top of `base` with `server.js` edited by a sed script.
  void Commit(const std::string& base, const std::string& tag, const std::string& sed) {
    const std::string repo = (dir_ / "repo").string();
    auto r = RunCommand({"/bin/sh", "-c",
                         "set -e; cd " + repo + "; git checkout -q " + base +
                             " 2>/dev/null; git checkout -q -B b-" + tag + "; sed -i '" + sed +
                             "' server.js; git -c user.name=t -c user.email=t@t " +
                             "-c commit.gpgsign=false commit -qam " + tag + "; git tag " + tag +
                             "; git checkout -q main"},
                        dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  Json Env() {
    Json s = PsJson({"status", "repo"});
    EXPECT_FALSE(s["environments"].empty());
    return s["environments"].empty() ? Json::object() : s["environments"][0];
  }
  int Port() { return Env()["services"]["catalog"].value("frontend_port", 0); }
  std::string StableVersion() {
    Json e = Env();
    const Json& svc = e["services"]["catalog"];
    return svc["colours"][svc["stable"].get<std::string>()]["run"].value("version", "");
  }
  std::string Rev(const std::string& tag) {
    auto r =
        RunCommand({"/usr/bin/git", "-C", (dir_ / "repo").string(), "rev-parse", tag}, dir_.path());
    std::string s = r.out;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }

  testing::TempDir dir_;
  std::vector<std::string> env_;
  fs::path tmpfs_;
};

TEST_F(LocalRelease, ApplyServesTheVersionAndIsIdempotent) {
  Json out = PsJson({"apply", "repo", "--ref", "v1"});
  ASSERT_EQ(out["services"].size(), 1u);
  EXPECT_EQ(out["services"][0]["action"], "started");
  EXPECT_EQ(out["version"], Rev("v1"));
  EXPECT_EQ(out["changed"], true);
  const int port = Port();
  ASSERT_GT(port, 0);
  EXPECT_EQ(HttpGetStatus("127.0.0.1", port, "/api/items", 2000), 200);
  Json env = Env();
  EXPECT_EQ(env["supervisor"], "running");
  EXPECT_TRUE(env["processes"]["catalog-blue0"].value("healthy", false));
  EXPECT_TRUE(env["processes"]["haproxy"].value("healthy", false));

  Json again = PsJson({"apply", "repo", "--ref", "v1"});
  EXPECT_EQ(again["changed"], false);
  EXPECT_EQ(again["services"][0]["action"], "unchanged");
  EXPECT_EQ(Env()["processes"]["catalog-blue0"]["pid"], env["processes"]["catalog-blue0"]["pid"]);

  ASSERT_EQ(Ps({"down", "repo"}).exit_code, 0);
  EXPECT_EQ(HttpGetStatus("127.0.0.1", port, "/api/items", 500), 0);
}

TEST_F(LocalRelease, ACanaryFailingFivePercentIsRolledBackAndRecorded) {
  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}).exit_code, 0);
  Json out = PsJson({"release", "repo", "--ref", "v2-errors"}, 1);
  EXPECT_EQ(out["status"], "rolledback");
  EXPECT_NE(out.value("reason", "").find("fails more often"), std::string::npos) << out.dump();
  EXPECT_TRUE(out.contains("detection_ms"));
  EXPECT_EQ(StableVersion(), Rev("v1"));
  Json env = Env();
  EXPECT_TRUE(env["services"]["catalog"]["candidate"].is_null());
  EXPECT_FALSE(env["processes"].contains("catalog-green0")) << "the candidate stopped";
  const Json& rel = env["last_release"];
  EXPECT_EQ(rel["status"], "rolledback");
  EXPECT_EQ(rel["sha"], Rev("v2-errors"));
  EXPECT_GE(rel["meta"]["decisions"].size(), 2u);
  EXPECT_GT(rel["meta"]["log_records"].get<int>(), 0);
  auto events = Ps({"events", "--json"});
  EXPECT_NE(events.out.find("\"release.rolledback\""), std::string::npos);
  EXPECT_NE(events.out.find("\"release.progress\""), std::string::npos);
  EXPECT_EQ(HttpGetStatus("127.0.0.1", Port(), "/api/items", 2000), 200);
}

TEST_F(LocalRelease, ACanary200msSlowerIsRolledBack) {
  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}).exit_code, 0);
  Json out = PsJson({"release", "repo", "--ref", "v3-slow"}, 1);
  EXPECT_EQ(out["status"], "rolledback");
  EXPECT_NE(out.value("reason", "").find("slower"), std::string::npos) << out.dump();
  EXPECT_EQ(StableVersion(), Rev("v1"));
}

TEST_F(LocalRelease, AHealthyCanaryIsPromotedWithoutAFailedRequest) {
  Commit("v1", "v1.1", "s/version: 1 }/version: 11 }/");
  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}).exit_code, 0);
  load::LoadOptions o;
  o.port = Port();
  o.paths = {"/api/items"};
  o.rate = 50;
  o.connections = 8;
  load::LoadGenerator client(o);
  client.Start();
  Json out = PsJson({"release", "repo", "--ref", "v1.1"});
  std::this_thread::sleep_for(500ms);  // requests after the switch too
  client.Stop();
  client.Wait();
  EXPECT_EQ(out["status"], "promoted") << out.dump();
  EXPECT_EQ(StableVersion(), Rev("v1.1"));
  const auto s = client.Summarize();
  EXPECT_GT(s.completed, 100);
  EXPECT_EQ(s.failed, 0) << s.ToJson().dump();
  Json env = Env();
  EXPECT_FALSE(env["processes"].contains("catalog-blue0")) << "the old version stopped";
}

TEST_F(LocalRelease, BlueGreenSwitchesAtOnceAndSwitchesBackWithoutAFailedRequest) {
  Commit("v1", "v1.1", "s/version: 1 }/version: 11 }/");
  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}).exit_code, 0);
  load::LoadOptions o;
  o.port = Port();
  o.paths = {"/api/items"};
  o.rate = 50;
  o.connections = 8;
  load::LoadGenerator client(o);
  client.Start();
  Json out = PsJson({"release", "repo", "--ref", "v1.1", "--strategy", "bluegreen"});
  EXPECT_EQ(out["status"], "promoted") << out.dump();
  EXPECT_EQ(StableVersion(), Rev("v1.1"));
  Json env = Env();
  EXPECT_TRUE(env["services"]["catalog"]["warm"].is_string()) << "blue stays warm";
  Json back = PsJson({"rollback", "repo"});
  EXPECT_EQ(back["services"][0]["action"], "switched back");
  std::this_thread::sleep_for(300ms);
  client.Stop();
  client.Wait();
  EXPECT_EQ(StableVersion(), Rev("v1"));
  EXPECT_EQ(client.Summarize().failed, 0) << client.Summarize().ToJson().dump();
}

TEST_F(LocalRelease, BadReleasesLeaveTheStableVersionServing) {
  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}).exit_code, 0);
  const int port = Port();
  // A revision that does not exist.
  auto r = Ps({"release", "repo", "--ref", "no-such-tag"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no-such-tag"), std::string::npos) << r.err;
  // A version that crashes at start.
  Commit("v1", "v-crash", "1i process.exit(3);");
  r = Ps({"release", "repo", "--ref", "v-crash"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("keeps exiting"), std::string::npos) << r.err;
  // A version that runs but fails the health check HAProxy makes: it gets
  // no traffic, and the release rolls it back as unhealthy.
  Commit("v1", "v-deaf", "s/req.url === .\\/healthz./false/");
  r = Ps({"release", "repo", "--ref", "v-deaf"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("unhealthy"), std::string::npos) << r.out << r.err;
  // A version that never listens where it is told: deploy.health_timeout
  // bounds the wait.
  Commit("v1", "v-lost", "s/Number(process.env.PORT || 8080)/Number(process.env.PORT) + 1/");
  testing::WriteText(dir_ / "short.yaml", "deploy:\n  health_timeout: 3s\n");
  r = Ps({"--config", (dir_ / "short.yaml").string(), "release", "repo", "--ref", "v-lost"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("did not become healthy within 3 s"), std::string::npos) << r.err;
  // A version whose build fails: the error carries the end of the build log.
  {
    const std::string repo = (dir_ / "repo").string();
    auto c = RunCommand({"/bin/sh", "-c", "cd " + repo + " && git checkout -q -B b-build v1"},
                        dir_.path());
    ASSERT_EQ(c.exit_code, 0) << c.err;
    testing::WriteText(dir_ / "repo" / "package.json",
                       R"({"name": "catalog", "private": true, "engines": {"node": ">=20"},
 "scripts": {"start": "node server.js",
             "build": "echo compiling && echo syntax error in server.js >&2 && exit 7"}}
)");
    c = RunCommand({"/bin/sh", "-c",
                    "cd " + repo +
                        " && git -c user.name=t -c user.email=t@t -c "
                        "commit.gpgsign=false commit -qam build && git tag v-build && "
                        "git checkout -q main"},
                   dir_.path());
    ASSERT_EQ(c.exit_code, 0) << c.err;
  }
  r = Ps({"release", "repo", "--ref", "v-build"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("The build failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("syntax error in server.js"), std::string::npos) << r.err;
  EXPECT_EQ(StableVersion(), Rev("v1"));
  EXPECT_TRUE(Env()["services"]["catalog"]["candidate"].is_null());
  EXPECT_EQ(HttpGetStatus("127.0.0.1", port, "/api/items", 2000), 200);
}

// A new layout (here: two instances instead of one) is a seamless HAProxy
// reload, not a restart: the master keeps its pid and no request fails.
TEST_F(LocalRelease, ALayoutChangeReloadsHaproxyWithoutAFailedRequest) {
  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}).exit_code, 0);
  const int haproxy = Env()["processes"]["haproxy"]["pid"].get<int>();
  load::LoadOptions o;
  o.port = Port();
  o.paths = {"/api/items"};
  o.rate = 100;
  o.connections = 8;
  load::LoadGenerator client(o);
  client.Start();
  std::this_thread::sleep_for(300ms);
  testing::WriteText(dir_ / "two.yaml", "deploy:\n  instances: 2\n");
  auto r = Ps({"--config", (dir_ / "two.yaml").string(), "apply", "repo", "--ref", "v1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::this_thread::sleep_for(500ms);
  client.Stop();
  client.Wait();
  Json env = Env();
  EXPECT_EQ(env["services"]["catalog"]["instances"], 2);
  EXPECT_EQ(env["processes"]["haproxy"]["pid"].get<int>(), haproxy);
  EXPECT_EQ(env["processes"]["haproxy"]["restarts"].get<int>(), 0);
  const auto s = client.Summarize();
  EXPECT_GT(s.completed, 50);
  EXPECT_EQ(s.failed, 0) << s.ToJson().dump();
}

TEST_F(LocalRelease, APortTakenByAnotherProgramIsNotReused) {
  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}).exit_code, 0);
  const int old_port = Env()["services"]["catalog"]["colours"]["blue"]["ports"][0].get<int>();
  ASSERT_EQ(Ps({"down", "repo"}).exit_code, 0);
  // Something else listens on the instance's old port now.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;  // the old port may have connections in TIME_WAIT
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(old_port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  auto r = Ps({"apply", "repo", "--ref", "v1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const int new_port = Env()["services"]["catalog"]["colours"]["blue"]["ports"][0].get<int>();
  EXPECT_NE(new_port, old_port);
  EXPECT_EQ(HttpGetStatus("127.0.0.1", Port(), "/api/items", 2000), 200);
  close(fd);
}

TEST_F(LocalRelease, OneReleaseAtATime) {
  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}).exit_code, 0);
  Json env = Env();
  const std::string lock = env["folder"].get<std::string>() + "/env.lock";
  int fd = open(lock.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
  ASSERT_EQ(ftruncate(fd, 0), 0);
  ASSERT_GT(pwrite(fd, "release 01abc (pid 1)", 21, 0), 0);
  auto r = Ps({"release", "repo", "--ref", "v3-slow"});
  EXPECT_EQ(r.exit_code, 5) << r.err;  // conflict
  EXPECT_NE(r.err.find("busy"), std::string::npos) << r.err;
  r = Ps({"apply", "repo", "--ref", "v3-slow"});
  EXPECT_NE(r.exit_code, 0);
  close(fd);
  EXPECT_EQ(StableVersion(), Rev("v1"));
  // Promote with nothing running is a clear conflict too.
  r = Ps({"promote", "repo"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
}

// kill -9 of a release mid-way leaves its candidate serving a share; abort
// (or rollback) with no release running takes exactly that candidate out.
// kill -9 of `release` at 30%: the candidate would keep its share with
// nobody watching, the records "progressing" forever. The next command on
// the environment (here `status`) takes the candidate out and ends the
// records; the next release runs.
TEST_F(LocalRelease, AKilledReleaseIsTakenOutByTheNextCommand) {
  const std::string pause = PauseAt30();
  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}).exit_code, 0);
  std::thread t([&] { Ps({"--config", pause, "release", "repo", "--ref", "v3-slow"}); });
  const pid_t pid = WaitForCandidateAt(30).pid;
  ASSERT_GT(pid, 0);
  kill(pid, SIGKILL);
  t.join();
  auto st = Ps({"status", "repo", "--json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.err.find("left unfinished"), std::string::npos) << st.err;
  Json env = Json::parse(st.out)["environments"][0];
  EXPECT_TRUE(env["services"]["catalog"]["candidate"].is_null()) << env.dump();
  EXPECT_FALSE(env.contains("busy"));
  EXPECT_EQ(StableVersion(), Rev("v1"));
  const Json& svc = env["services"]["catalog"];
  EXPECT_EQ(svc["colours"][svc["stable"].get<std::string>()].value("weight", 0), 100);
  // The records ended: the release aborted, its run cancelled (not left
  // "running" for a worker to pick up again).
  Json runs = PsJson({"runs"});
  ASSERT_TRUE(runs.is_array());
  for (const auto& r : runs) {
    if (r["kind"] != "release") continue;
    EXPECT_EQ(r["status"], "error") << r.dump();
    EXPECT_NE(r["error"].dump().find("recovery"), std::string::npos) << r.dump();
  }
  // Nothing left to abort; a new release runs.
  auto r = Ps({"abort", "repo"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(StableVersion(), Rev("v1"));
  Json rel = PsJson({"release", "repo", "--ref", "v4"});
  EXPECT_EQ(rel["status"], "promoted") << rel.dump();
}

// Ctrl-C during a canary at 30% on a full disk: the release aborts in its
// own process (no control file to write), the new version is taken out,
// exit 130.
TEST_F(LocalRelease, CtrlCOnAFullDiskAbortsTheReleaseInProcess) {
  const fs::path st = dir_ / "st";
  if (!MountTmpfs(st)) GTEST_SKIP() << "no tmpfs to fill here (needs root)";
  // A long lease: the store's refusals alone must not end the release first.
  env_ = {"PRODSPRINT_STATE_DIR=" + (st / "state").string(), "PRODSPRINT_ENGINE_LEASE_TTL=10m"};
  const std::string pause = PauseAt30();
  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}, env_).exit_code, 0);
  CommandResult rel;
  std::thread t([&] { rel = Ps({"--config", pause, "release", "repo", "--ref", "v4"}, env_); });
  const Candidate c = WaitForCandidateAt(30);
  ASSERT_GT(c.pid, 0);
  FillDisk(st);
  kill(c.pid, SIGINT);
  t.join();
  EXPECT_EQ(rel.exit_code, 130) << rel.err;
  EXPECT_NE(rel.err.find("aborting the release"), std::string::npos) << rel.err;
  EXPECT_EQ(V4Answers(c.port), "0\n");
}

// The disk holding the state fills during a canary at 30% (a tmpfs): the
// release cannot record its decisions, so it takes its new version out
// (weight 0 needs no disk), ends within the lease's half-life and says why;
// nothing serves the new version afterwards.
TEST_F(LocalRelease, AFullDiskDuringACanaryRollsItOutAndSaysWhy) {
  const fs::path st = dir_ / "st";
  if (!MountTmpfs(st)) GTEST_SKIP() << "no tmpfs to fill here (needs root)";
  env_ = {"PRODSPRINT_STATE_DIR=" + (st / "state").string(), "PRODSPRINT_ENGINE_LEASE_TTL=4s",
          "PRODSPRINT_ENGINE_HEARTBEAT=1s"};
  const std::string pause = PauseAt30();
  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}, env_).exit_code, 0);
  CommandResult rel;
  std::thread t([&] { rel = Ps({"--config", pause, "release", "repo", "--ref", "v4"}, env_); });
  const Candidate c = WaitForCandidateAt(30);
  ASSERT_GT(c.pid, 0);
  FillDisk(st);
  t.join();
  EXPECT_NE(rel.exit_code, 0) << rel.err;
  EXPECT_NE(rel.err.find("Disk full"), std::string::npos) << rel.err;
  // Nothing answers as v4.
  EXPECT_EQ(V4Answers(c.port), "0\n");
  // Space again: the next command ends what was left (records, the
  // stopped candidate).
  fs::remove(st / "fill");
  auto status = Ps({"status", "repo", "--json"}, env_);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const Json e = Json::parse(status.out)["environments"][0];
  EXPECT_TRUE(e["services"]["catalog"]["candidate"].is_null()) << e.dump();
}

// `down` stops the processes even when the state database is damaged:
// stopping needs none of it.
TEST_F(LocalRelease, DownWorksWithADamagedStateDatabase) {
  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}).exit_code, 0);
  const int port = Port();
  ASSERT_EQ(HttpGetStatus("127.0.0.1", port, "/api/items", 2000), 200);
  const fs::path db = dir_ / ".prodsprint/state.db";
  const std::string text = testing::ReadText(db);
  testing::WriteText(db, text.substr(0, text.size() / 3));
  auto status = Ps({"status", "repo"});
  EXPECT_EQ(status.exit_code, 4) << status.err;
  auto down = Ps({"down", "repo"});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_NE(down.err.find("without the state database"), std::string::npos) << down.err;
  EXPECT_EQ(HttpGetStatus("127.0.0.1", port, "/api/items", 500), 0);
}

TEST_F(LocalRelease, HaproxyMissingIsAClearErrorAndHaproxyDyingIsRestarted) {
  // Without /usr/sbin on the PATH there is no haproxy.
  auto r = Ps({"apply", "repo", "--ref", "v1"}, {"PATH=/usr/local/bin:/usr/bin:/bin"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("HAProxy is not installed"), std::string::npos) << r.err;
  Ps({"down", "repo"});

  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}).exit_code, 0);
  const int port = Port();
  const pid_t haproxy = Env()["processes"]["haproxy"]["pid"].get<int>();
  ASSERT_GT(haproxy, 0);
  kill(haproxy, SIGKILL);
  int code = 0;
  for (int i = 0; i < 300 && code != 200; ++i) {
    std::this_thread::sleep_for(20ms);
    code = HttpGetStatus("127.0.0.1", port, "/api/items", 500);
  }
  EXPECT_EQ(code, 200) << "the supervisor restarts HAProxy with the same routes";
  EXPECT_GE(Env()["processes"]["haproxy"]["restarts"].get<int>(), 1);
}

TEST_F(LocalRelease, APauseWaitsForPromoteAndAbortRollsBack) {
  testing::WriteText(dir_ / "pause.yaml",
                     "release:\n  steps:\n    - setWeight: 20\n    - pause: {}\n"
                     "  traffic:\n    rate: 20\n    paths: /api/items\n");
  Commit("v1", "v1.1", "s/version: 1 }/version: 11 }/");
  ASSERT_EQ(Ps({"apply", "repo", "--ref", "v1"}).exit_code, 0);
  for (const std::string action : {"promote", "abort"}) {
    CommandResult rel;
    std::thread t([&] {
      rel = Ps({"--config", (dir_ / "pause.yaml").string(), "release", "repo", "--ref",
                action == "promote" ? "v1.1" : "v1"});
    });
    // Wait for the pause: the candidate at weight 20.
    bool paused = false;
    for (int i = 0; i < 500 && !paused; ++i) {
      std::this_thread::sleep_for(20ms);
      auto s = Ps({"status", "repo", "--json"});
      Json j = Json::parse(s.out, nullptr, false);
      if (j.is_discarded() || j["environments"].empty()) continue;
      const Json& svc = j["environments"][0]["services"]["catalog"];
      paused = svc["candidate"].is_string() &&
               svc["colours"][svc["candidate"].get<std::string>()].value("weight", 0) == 20;
    }
    EXPECT_TRUE(paused);
    auto c = Ps({action, "repo"});
    EXPECT_EQ(c.exit_code, 0) << c.err;
    t.join();
    if (action == "promote") {
      EXPECT_EQ(rel.exit_code, 0) << rel.err;
      EXPECT_EQ(StableVersion(), Rev("v1.1"));
    } else {
      EXPECT_EQ(rel.exit_code, 1) << rel.err;
      EXPECT_NE(rel.out.find("aborted"), std::string::npos) << rel.out;
      EXPECT_EQ(StableVersion(), Rev("v1.1"));
    }
  }
}

// A service that needs PostgreSQL and Redis gets real ones, with a role and
// database of its own, and is healthy only because it reaches both.
TEST(LocalBacking, PostgresAndRedisAreStartedAndWiredIn) {
  testing::TempDir dir;
  const auto repo = dir / "orders";
  std::filesystem::copy(PS_SOURCE_DIR "/tests/fixtures/deploy/db-app", repo,
                        std::filesystem::copy_options::recursive);
  auto r = RunCommand({"/bin/sh", "-c",
                       "git init -q -b main && git add -A && git -c user.name=t -c "
                       "user.email=t@t -c commit.gpgsign=false commit -qm orders"},
                      repo);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ps = [&](std::vector<std::string> args) {
    args.insert(args.begin(), PS_BINARY);
    return RunCommand(args, dir.path(), {"NO_COLOR=1"});
  };
  r = ps({"apply", "orders", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto status = Json::parse(ps({"status", "orders", "--json"}).out);
  const Json env = status["environments"][0];
  const int port = env["services"]["orders"]["frontend_port"];
  const int pg = env["backing"]["postgres"]["port"];
  const int redis = env["backing"]["redis"]["port"];
  EXPECT_TRUE(env["processes"]["postgres"].value("healthy", false));
  EXPECT_TRUE(env["processes"]["redis"].value("healthy", false));
  EXPECT_EQ(HttpGetStatus("127.0.0.1", port, "/healthz", 2000), 200);

  // What the service was given, read back through it.
  std::string body;
  {
    auto got = RunCommand({"/usr/bin/env", "node", "-e",
                           "require('http').get('http://127.0.0.1:" + std::to_string(port) +
                               "/env',r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>"
                               "process.stdout.write(b))})"},
                          dir.path());
    body = got.out;
  }
  Json given = Json::parse(body, nullptr, false);
  ASSERT_TRUE(given.is_object()) << body;
  const std::string url = given.value("DATABASE_URL", "");
  EXPECT_EQ(url.rfind("postgres://app_orders:", 0), 0u) << url;
  EXPECT_NE(url.find(":" + std::to_string(pg) + "/app_orders"), std::string::npos) << url;
  EXPECT_EQ(given.value("REDIS_URL", ""), "redis://127.0.0.1:" + std::to_string(redis) + "/0");
  EXPECT_TRUE(given.value("SESSION_SECRET_SET", false));
  // The URL works, as the service's own role.
  auto q = RunCommand({"/bin/sh", "-c",
                       "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql '" + url +
                           "' -qAtc 'select current_user, current_database()'"},
                      dir.path());
  EXPECT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out, "app_orders|app_orders\n");

  // Again: nothing restarts, the same database is kept.
  r = ps({"apply", "orders", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["changed"], false);
  auto again = Json::parse(ps({"status", "orders", "--json"}).out)["environments"][0];
  EXPECT_EQ(again["processes"]["postgres"]["pid"], env["processes"]["postgres"]["pid"]);

  ASSERT_EQ(ps({"down", "orders"}).exit_code, 0);
  EXPECT_FALSE(TcpAccepts("127.0.0.1", pg, 200));
  EXPECT_FALSE(TcpAccepts("127.0.0.1", redis, 200));
  // The data folder lives under /var/tmp (readable by the postgres user).
  std::error_code ec;
  std::filesystem::remove_all(
      std::filesystem::path(env["backing"]["postgres"]["data"].get<std::string>()).parent_path(),
      ec);
}

}  // namespace
}  // namespace ps
