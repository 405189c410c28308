// HAProxy as the local target's router: the configuration it is given (and
// that HAProxy itself accepts), the request-log lines, the runtime API.
#include "targets/local/haproxy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "core/process.h"
#include "testing/testing.h"

namespace ps::targets::local {
namespace {

RouterConfig Sample() {
  RouterConfig c;
  c.admin_socket = "/run/x/admin.sock";
  c.log_socket = "/run/x/requests.sock";
  c.metrics_port = 9101;
  RouterBackend b;
  b.name = "catalog";
  b.frontend_port = 8080;
  b.health_path = "/healthz";
  b.slots = {{"blue0", 4001, 90}, {"green0", 4002, 10}};
  RouterBackend w;
  w.name = "api";
  w.frontend_port = 8081;
  w.slots = {{"blue0", 4003, 100}, {"green0", 0, 50}};
  c.backends = {b, w};
  return c;
}

TEST(HaproxyConfig, RoutesEachServiceThroughTwoColoursWithTheLiveWeights) {
  const std::string cfg = RenderHaproxyConfig(Sample());
  EXPECT_NE(cfg.find("stats socket /run/x/admin.sock mode 600 level admin expose-fd listeners"),
            std::string::npos);
  EXPECT_NE(cfg.find("log /run/x/requests.sock len 1024 format raw local0"), std::string::npos);
  EXPECT_NE(cfg.find("log-format \"ps1 %b %s %ST %Tr %Ta %tsc\""), std::string::npos);
  EXPECT_NE(cfg.find("frontend catalog\n  bind 127.0.0.1:8080\n"), std::string::npos);
  EXPECT_NE(cfg.find("option httpchk GET /healthz"), std::string::npos);
  EXPECT_NE(cfg.find("server blue0 127.0.0.1:4001 weight 90 check"), std::string::npos);
  EXPECT_NE(cfg.find("server green0 127.0.0.1:4002 weight 10 check"), std::string::npos);
  // A slot not pointed at anything carries no traffic, whatever its weight.
  EXPECT_NE(cfg.find("server green0 127.0.0.1:1 weight 0 check"), std::string::npos);
  // Only connection failures are retried: a 500 must reach the analysis.
  EXPECT_NE(cfg.find("retry-on conn-failure empty-response"), std::string::npos);
  EXPECT_EQ(cfg.find("503"), std::string::npos);
  EXPECT_NE(cfg.find("use-service prometheus-exporter"), std::string::npos);
  EXPECT_EQ(cfg, RenderHaproxyConfig(Sample()));
}

TEST(HaproxyConfig, IsAcceptedByHaproxy) {
  testing::TempDir dir;
  RouterConfig c = Sample();
  c.admin_socket = (dir / "admin.sock").string();
  c.log_socket = (dir / "requests.sock").string();
  testing::WriteText(dir / "haproxy.cfg", RenderHaproxyConfig(c));
  SpawnOptions o;
  o.argv = {"haproxy", "-c", "-q", "-f", (dir / "haproxy.cfg").string()};
  o.log_path = (dir / "check.log").string();
  auto exit = RunToCompletion(o, 30'000);
  ASSERT_TRUE(exit.ok()) << exit.problem().Message();
  EXPECT_TRUE(exit->ok()) << testing::ReadText(dir / "check.log");
}

TEST(RequestLog, ParsesRawAndSyslogFramedLines) {
  auto r = ParseRequestLog("ps1 catalog green0 500 3 4 ----\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backend, "catalog");
  EXPECT_EQ(r->server, "green0");
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->response_ms, 3);
  EXPECT_EQ(r->total_ms, 4);
  EXPECT_TRUE(r->failed());
  auto s = ParseRequestLog("<134>Nov 26 04:15:44 haproxy[18669]: ps1 web blue0 200 0 1 ----");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->server, "blue0");
  EXPECT_FALSE(s->failed());
  // No response at all (the server died): HAProxy logs -1.
  auto t = ParseRequestLog("ps1 web <NOSRV> -1 -1 5002 SC--");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->failed());
}

TEST(RequestLog, RejectsAnythingElse) {
  for (const char* bad :
       {"", "ps1", "ps1 a b c d e f", "ps1 web blue0 2x0 1 1 ----",
        "ps1 web blue0 200 1 1 ---- extra", "ps1 w;b blue0 200 1 1 ----",
        "ps1 web blue0 999 1 1 ----", "ps1 web blue0 200 1 99999999999 ----", "GET / HTTP/1.1"}) {
    EXPECT_FALSE(ParseRequestLog(bad)) << bad;
  }
}

TEST(HaproxyAdmin, AnUnreachableSocketIsAProblem) {
  HaproxyAdmin admin("/nonexistent/admin.sock");
  auto r = admin.Command("show info");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.problem().Is("router-unavailable"));
  EXPECT_FALSE(admin.Alive());
}

}  // namespace
}  // namespace ps::targets::local
