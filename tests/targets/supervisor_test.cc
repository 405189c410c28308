// The supervisor: restarts with backoff (simulated time), graceful stops,
// health probes, and its daemon surviving a kill -9 without leaving
// orphans behind.
#include "targets/local/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "core/net.h"
#include "testing/testing.h"

namespace ps::targets::local {
namespace {

using namespace std::chrono_literals;

ProcessStatus StatusOf(const Supervisor& s, const std::string& name) {
  for (const auto& p : s.Status())
    if (p.name == name) return p;
  return {};
}

// Ticks (in real time, for real processes) until `pred` or 10 s.
bool TickUntil(Supervisor& s, const std::function<bool()>& pred) {
  for (int i = 0; i < 1000; ++i) {
    s.Tick();
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

bool Alive(pid_t pid) { return pid > 0 && kill(pid, 0) == 0; }
// Alive and not a zombie waiting for its parent (the test) to reap it.
bool Running(pid_t pid) {
  if (!Alive(pid)) return false;
  const std::string stat = testing::ReadText("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
}

TEST(Supervisor, RestartsACrashingProcessWithExponentialBackoff) {
  testing::TempDir dir;
  SimClock clock;
  Supervisor sup(clock);
  ProcessSpec crash;
  crash.name = "crash";
  crash.argv = {"/bin/sh", "-c", "echo started; exit 3"};
  crash.log = (dir / "crash.log").string();
  sup.SetDesired({crash});
  Millis expected_delay = 500;
  for (int round = 1; round <= 4; ++round) {
    ASSERT_TRUE(TickUntil(sup, [&] { return StatusOf(sup, "crash").state == "backoff"; }));
    const auto st = StatusOf(sup, "crash");
    EXPECT_EQ(st.restarts, round);
    EXPECT_EQ(st.last_exit, "exit 3");
    EXPECT_EQ(st.next_start_at - clock.Now(), expected_delay) << "round " << round;
    clock.Advance(expected_delay - 1);
    sup.Tick();
    EXPECT_EQ(StatusOf(sup, "crash").state, "backoff") << "restarted before its delay";
    clock.Advance(1);
    sup.Tick();
    expected_delay *= 2;
  }
}

TEST(Supervisor, ProbesHealthAndStopsGracefully) {
  testing::TempDir dir;
  Supervisor sup(SystemClock::Instance());
  const int port = FreeLoopbackPort();
  ProcessSpec web;
  web.name = "web";
  // Answers HTTP on PORT; exits 0 on SIGTERM after writing a marker.
  web.argv = {"node", "-e",
              "const s=require('http').createServer((q,r)=>r.end('ok')).listen(" +
                  std::to_string(port) +
                  ",'127.0.0.1');process.on('SIGTERM',()=>{require('fs').writeFileSync('" +
                  (dir / "stopped").string() + "','');s.close(()=>process.exit(0))})"};
  web.log = (dir / "web.log").string();
  web.health = {"http", port, "/"};
  sup.SetDesired({web});
  ASSERT_TRUE(TickUntil(sup, [&] { return StatusOf(sup, "web").healthy; }))
      << testing::ReadText(dir / "web.log");
  const pid_t pid = StatusOf(sup, "web").pid;
  EXPECT_TRUE(Alive(pid));
  // A changed command restarts it; removing it stops it, gracefully.
  sup.SetDesired({});
  EXPECT_TRUE(std::filesystem::exists(dir / "stopped"));
  EXPECT_FALSE(Alive(pid));
  EXPECT_TRUE(sup.Status().empty());
}

TEST(Supervisor, AProcessThatIgnoresSigtermIsKilledAfterItsGrace) {
  Supervisor sup(SystemClock::Instance());
  ProcessSpec stubborn;
  stubborn.name = "stubborn";
  stubborn.argv = {"/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"};
  stubborn.stop_grace_ms = 300;
  sup.SetDesired({stubborn});
  sup.Tick();
  const pid_t pid = StatusOf(sup, "stubborn").pid;
  std::this_thread::sleep_for(100ms);
  const auto t0 = std::chrono::steady_clock::now();
  sup.SetDesired({});
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(Alive(pid));
  EXPECT_GE(took, 250ms);
}

// A daemon for `dir`/sup running one `sleep 600`: its pid (0 on failure).
pid_t StartSleeper(SupervisorClient& client) {
  ProcessSpec sleeper;
  sleeper.name = "sleeper";
  sleeper.argv = {"sleep", "600"};
  if (!client.Apply({sleeper}).ok() || !client.WaitHealthy("sleeper", 10'000).ok()) return 0;
  auto procs = client.Read();
  return procs.ok() && procs->size() == 1 ? procs->front().pid : 0;
}

TEST(SupervisorDaemon, OwnsProcessesAndCleansUpAfterAKill9) {
  testing::TempDir dir;
  SupervisorClient client(dir / "sup", PS_BINARY);
  const pid_t first = StartSleeper(client);
  ASSERT_GT(first, 0);
  EXPECT_TRUE(Alive(first));

  // kill -9 the daemon: the process it owned is found and replaced by the
  // next daemon, not left running beside a second copy.
  auto state = testing::ReadText(dir / "sup" / "state.json");
  const pid_t daemon = Json::parse(state).value("pid", 0);
  ASSERT_GT(daemon, 0);
  kill(daemon, SIGKILL);
  for (int i = 0; i < 200 && client.Running(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_FALSE(client.Running());
  ASSERT_TRUE(client.Ensure().ok());
  ASSERT_TRUE(client.WaitHealthy("sleeper", 10'000).ok());
  for (int i = 0; i < 200 && Alive(first); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(Alive(first));
  auto after = client.Read();
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_NE(after->front().pid, first);

  const pid_t second = after->front().pid;
  ASSERT_TRUE(client.Shutdown().ok());
  EXPECT_FALSE(client.Running());
  for (int i = 0; i < 200 && Alive(second); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(Alive(second));
}

// The folder deleted under a running daemon (rm -rf of the state): the
// daemon stops what it ran and exits, so a new daemon in a new folder of
// the same path never runs beside a stale copy of everything.
TEST(SupervisorDaemon, ExitsWithItsProcessesWhenItsFolderIsDeleted) {
  testing::TempDir dir;
  SupervisorClient client(dir / "sup", PS_BINARY);
  const pid_t child = StartSleeper(client);
  ASSERT_GT(child, 0);
  const pid_t daemon = Json::parse(testing::ReadText(dir / "sup" / "state.json")).value("pid", 0);
  ASSERT_GT(daemon, 0);
  std::filesystem::remove_all(dir / "sup");
  for (int i = 0; i < 500 && (Running(daemon) || Running(child)); ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(Running(child));
  EXPECT_FALSE(Running(daemon));
}

TEST(SupervisorDaemon, WaitHealthyExplainsAProcessThatKeepsExiting) {
  testing::TempDir dir;
  SupervisorClient client(dir / "sup", PS_BINARY);
  ProcessSpec bad;
  bad.name = "bad";
  bad.argv = {"/bin/sh", "-c", "echo 'Error: Cannot find module express'; exit 1"};
  bad.log = (dir / "bad.log").string();
  ASSERT_TRUE(client.Apply({bad}).ok());
  auto st = client.WaitHealthy("bad", 20'000);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.problem().Is("unhealthy"));
  EXPECT_NE(st.problem().Message().find("keeps exiting"), std::string::npos);
  EXPECT_NE(st.problem().extensions.value("log_tail", "").find("Cannot find module"),
            std::string::npos);
  ASSERT_TRUE(client.Shutdown().ok());
}

}  // namespace
}  // namespace ps::targets::local
