#include "core/config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <sys/stat.h>

#include "core/fs.h"
#include "testing/testing.h"

namespace ps {
namespace {

TEST(Config, EmptyFileGivesDefaults) {
  auto c = ParseConfig("", "prodsprint.yaml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->engine.workers, 2);
  EXPECT_EQ(c->state_dir, ".prodsprint");
}

TEST(Config, ReadsEveryKnownKey) {
  auto c = ParseConfig(R"(version: 1
project:
  name: shop
  branch: trunk
state:
  dir: /var/lib/ps
log:
  format: json
  level: debug
engine:
  workers: 4
  lease_ttl: 20s
  heartbeat: 5s
  max_attempts: 5
  backoff: {base: 1s, cap: 2m}
  stage_timeout: 1h
  poll: 50ms
  stages:
    audit: {timeout: 2m, max_attempts: 2}
)",
                       "prodsprint.yaml");
  ASSERT_TRUE(c.ok()) << c.problem().Message();
  EXPECT_EQ(c->project_name, "shop");
  EXPECT_EQ(c->project_branch, "trunk");
  EXPECT_EQ(c->state_dir, "/var/lib/ps");
  EXPECT_EQ(c->log_format, LogFormat::kJson);
  EXPECT_EQ(c->log_level, LogLevel::kDebug);
  EXPECT_EQ(c->engine.workers, 4);
  EXPECT_EQ(c->engine.lease_ttl, 20'000);
  EXPECT_EQ(c->engine.heartbeat, 5'000);
  EXPECT_EQ(c->engine.max_attempts, 5);
  EXPECT_EQ(c->engine.backoff_base, 1'000);
  EXPECT_EQ(c->engine.backoff_cap, 120'000);
  EXPECT_EQ(c->engine.stage_timeout, 3'600'000);
  EXPECT_EQ(c->engine.poll, 50);
  EXPECT_EQ(*c->engine.stages.at("audit").timeout, 120'000);
  EXPECT_EQ(*c->engine.stages.at("audit").max_attempts, 2);
  EXPECT_EQ(c->origin.at("engine.workers"), "prodsprint.yaml:11");
}

// Each error names the file, line, column and key.
TEST(Config, ReleaseStepsInArgoRolloutsVocabulary) {
  auto c = ParseConfig(R"(release:
  strategy: bluegreen
  steps:
    - setWeight: 5
    - pause: {duration: 30s}
    - analysis: {}
    - pause: {}
  analysis: {alpha: 0.05, min_requests: 200, max_error_rate: 0.005, max_duration: 2m}
  traffic: {rate: 250, connections: 32, paths: "/api/items, /healthz"}
deploy: {instances: 3, health_timeout: 90s}
)",
                       "prodsprint.yaml");
  ASSERT_TRUE(c.ok()) << c.problem().Message();
  const auto& r = c->release;
  EXPECT_EQ(r.strategy, "bluegreen");
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(r.steps[0].kind, "setWeight");
  EXPECT_EQ(r.steps[0].weight, 5);
  EXPECT_EQ(r.steps[1].duration, 30'000);
  EXPECT_EQ(r.steps[2].kind, "analysis");
  EXPECT_EQ(r.steps[3].duration, -1);  // until promoted
  EXPECT_DOUBLE_EQ(r.alpha, 0.05);
  EXPECT_EQ(r.min_requests, 200);
  EXPECT_EQ(r.max_duration, 120'000);
  EXPECT_DOUBLE_EQ(r.traffic_rate, 250);
  EXPECT_EQ(r.traffic_paths, (std::vector<std::string>{"/api/items", "/healthz"}));
  EXPECT_EQ(r.instances, 3);
  EXPECT_EQ(r.health_timeout, 90'000);
  EXPECT_EQ(c->ToJson()["release"]["steps"][1]["pause"]["duration"], "30s");
  // No steps: the defaults, two weights each gated by the analysis.
  Config d;
  EXPECT_EQ(d.release.EffectiveSteps().size(), 4u);
}

TEST(Config, ReleaseMetricsAreLimitsWithUnits) {
  auto c = ParseConfig(R"(release:
  analysis:
    metrics:
      - {name: error-rate, max: 0.05}
      - {name: latency, quantile: 0.99, max: 500ms}
)",
                       "prodsprint.yaml");
  ASSERT_TRUE(c.ok()) << c.problem().Message();
  ASSERT_EQ(c->release.metrics.size(), 2u);
  EXPECT_DOUBLE_EQ(c->release.metrics[0].max, 0.05);
  EXPECT_EQ(c->release.metrics[1].max_ms, 500);
  EXPECT_DOUBLE_EQ(c->release.metrics[1].quantile, 0.99);
  auto bad = ParseConfig(R"(release:
  analysis:
    metrics:
      - {name: cpu, max: 1}
      - {name: latency, max: fast}
      - {name: error-rate}
)",
                         "prodsprint.yaml");
  ASSERT_FALSE(bad.ok());
  const std::string m = bad.problem().Message();
  EXPECT_NE(m.find("metrics[0].name: expected error-rate or latency"), std::string::npos) << m;
  EXPECT_NE(m.find("metrics[1].max: expected a duration"), std::string::npos) << m;
  EXPECT_NE(m.find("metrics[2]: needs max"), std::string::npos) << m;
}

TEST(Config, BadReleaseStepsAreLocated) {
  auto c = ParseConfig(R"(release:
  steps:
    - setWeight: 150
    - pause: {duration: soon}
    - wait: 10
    - {setWeight: 10, pause: {}}
  analysis: {alpha: 0.5}
  traffic: {paths: "api/items"}
)",
                       "prodsprint.yaml");
  ASSERT_FALSE(c.ok());
  const std::string m = c.problem().Message();
  EXPECT_NE(m.find("prodsprint.yaml:3:18: release.steps[0].setWeight: expected a percentage"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("release.steps[1].pause.duration"), std::string::npos) << m;
  EXPECT_NE(m.find("release.steps[2]: unknown step"), std::string::npos) << m;
  EXPECT_NE(m.find("release.steps[3]: a step is one of"), std::string::npos) << m;
  EXPECT_NE(m.find("release.analysis.alpha"), std::string::npos) << m;
  EXPECT_NE(m.find("release.traffic.paths"), std::string::npos) << m;
}

TEST(Config, AnInvalidValueIsNeverEchoedWhole) {
  const std::string secret = "SUPERSECRETVALUE1234567890abcdef";
  auto c = ParseConfig("engine:\n  workers: " + secret + "\n", "prodsprint.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.problem().detail.find("SUPERSECRET"), std::string::npos) << c.problem().detail;
  EXPECT_NE(c.problem().detail.find("got 'SUPE…' (32 characters)"), std::string::npos)
      << c.problem().detail;
  Config d;
  auto st = ApplyEnvOverrides(d, {{"PRODSPRINT_ENGINE_WORKERS", secret}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.problem().detail.find("SUPERSECRET"), std::string::npos) << st.problem().detail;
  // short values stay readable; control characters are escaped
  auto e = ParseConfig("engine:\n  workers: \"\\e[2J\"\n", "prodsprint.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.problem().detail.find("got '\\x1b[2J'"), std::string::npos) << e.problem().detail;
}

TEST(Config, ALinkedFileInARepositoryIsRefused) {
  ps::testing::TempDir dir;
  ps::testing::WriteText(dir.path() / "outside.txt", "SUPERSECRET\n");
  std::filesystem::create_symlink(dir.path() / "outside.txt", dir.path() / "prodsprint.yaml");
  const std::string file = (dir.path() / "prodsprint.yaml").string();
  auto c = LoadConfig(file);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.problem().Is("invalid-config"));
  EXPECT_NE(c.problem().detail.find("symbolic link"), std::string::npos);
  EXPECT_EQ(c.problem().detail.find("SUPERSECRET"), std::string::npos);
  // named by the user (--config): followed, and its content not echoed
  auto named = LoadConfig(file, false);
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.problem().detail.find("SUPERSECRET"), std::string::npos);
  // a FIFO is refused at once
  ASSERT_EQ(::mkfifo((dir.path() / "fifo.yaml").c_str(), 0644), 0);
  auto fifo = LoadConfig((dir.path() / "fifo.yaml").string());
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.problem().detail.find("not a regular file"), std::string::npos);
}

TEST(Config, ErrorsNameFileLineAndKey) {
  auto c = ParseConfig("engine:\n  workers: many\n  leese_ttl: 5s\n", "repo/prodsprint.yaml");
  ASSERT_FALSE(c.ok());
  const Problem& p = c.problem();
  EXPECT_TRUE(p.Is("invalid-config"));
  EXPECT_EQ(p.status, 422);
  ASSERT_EQ(p.extensions["errors"].size(), 2u);
  EXPECT_NE(p.detail.find("repo/prodsprint.yaml:2:12: engine.workers: expected an integer from 1 "
                          "to 64, got 'many'"),
            std::string::npos)
      << p.detail;
  EXPECT_NE(p.detail.find("repo/prodsprint.yaml:3:3: engine.leese_ttl: unknown key (did you mean "
                          "'lease_ttl'?)"),
            std::string::npos)
      << p.detail;
  EXPECT_EQ(p.extensions["errors"][0]["line"], 2);
  EXPECT_EQ(p.extensions["errors"][0]["key"], "engine.workers");
}

TEST(Config, RejectsBadShapes) {
  for (const char* text :
       {"- a\n- b\n", "engine: 3\n", "engine:\n  workers: [1]\n", "version: 2\n",
        "engine:\n  stages:\n    Audit: {timeout: 1m}\n",
        "engine:\n  stages:\n    audit: {timeout: 1ms}\n",
        "engine:\n  stages:\n    audit: {retries: 1}\n", "log:\n  level: loud\n",
        "engine:\n  workers: 1\n  workers: 2\n", "engine:\n  heartbeat: 10s\n  lease_ttl: 15s\n"}) {
    auto c = ParseConfig(text, "p.yaml");
    EXPECT_FALSE(c.ok()) << text;
    if (!c.ok()) {
      EXPECT_TRUE(c.problem().Is("invalid-config")) << text;
    }
  }
}

TEST(Config, InvalidYamlIsLocated) {
  auto c = ParseConfig("engine:\n  workers: [1, 2\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.problem().detail.find("p.yaml:"), std::string::npos);
  EXPECT_NE(c.problem().detail.find("not valid YAML"), std::string::npos);
}

TEST(Config, DeepNestingIsRefusedNotRecursedInto) {
  std::string deep(100000, '[');
  auto c = ParseConfig(deep, "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.problem().detail.find("nested too deeply"), std::string::npos);
}

TEST(Config, EnvironmentOverridesTheFile) {
  auto c = ParseConfig("engine:\n  workers: 3\n", "p.yaml");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(ApplyEnvOverrides(*c, {{"PRODSPRINT_ENGINE_WORKERS", "7"},
                                     {"PRODSPRINT_STATE_DIR", "/tmp/x"},
                                     {"PRODSPRINT_ENGINE_BACKOFF_BASE", "2s"}})
                  .ok());
  EXPECT_EQ(c->engine.workers, 7);
  EXPECT_EQ(c->state_dir, "/tmp/x");
  EXPECT_EQ(c->engine.backoff_base, 2000);
  EXPECT_EQ(c->origin.at("engine.workers"), "env PRODSPRINT_ENGINE_WORKERS");
}

TEST(Config, BadEnvironmentValueIsNamed) {
  Config c;
  auto st = ApplyEnvOverrides(c, {{"PRODSPRINT_ENGINE_WORKERS", "0"}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.problem().detail.find("PRODSPRINT_ENGINE_WORKERS"), std::string::npos);
  EXPECT_EQ(c.engine.workers, 2);
}

TEST(Config, ToJsonReadsBackTheSame) {
  auto c = ParseConfig("engine:\n  lease_ttl: 20s\n  stages:\n    plan: {timeout: 5m}\n", "p");
  ASSERT_TRUE(c.ok());
  Json j = c->ToJson();
  EXPECT_EQ(j["engine"]["lease_ttl"], "20s");
  EXPECT_EQ(j["engine"]["stages"]["plan"]["timeout"], "5m");
}

}  // namespace
}  // namespace ps

namespace ps {
namespace {

// Found by fuzz/config_fuzz: a key with invalid UTF-8 made printing the
// problem as JSON throw.
TEST(Config, InvalidUtf8InAKeyStillPrints) {
  auto c = ParseConfig("engine:\n  lee\xbfse_ttl: 5s\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NO_THROW((void)Dump(c.problem().ToJson()));
}

}  // namespace
}  // namespace ps

namespace ps {
namespace {

// A run records its project's settings as Config::ToJson's policy, release
// and deploy; the stages read them back through ParseConfig. Nothing may be
// lost or refused on the way.
TEST(Config, SettingsRecordedWithARunReadBackTheSame) {
  auto c = ParseConfig(R"(release:
  strategy: bluegreen
  steps: [{setWeight: 5}, {pause: {duration: 30s}}, {analysis: {}}, {pause: {}}]
  analysis:
    alpha: 0.05
    max_duration: 2m
    metrics: [{name: latency, quantile: 0.95, max: 250ms}, {name: error-rate, max: 0.02}]
  traffic: {rate: 0, paths: "/api/items, /healthz"}
deploy: {instances: 3, health_timeout: 90s}
policy:
  tests: {max_failures: 2}
  security: {licenses: {deny: [GPL-3.0]}, ignore: [CVE-2020-1]}
)",
                       "prodsprint.yaml");
  ASSERT_TRUE(c.ok()) << c.problem().Message();
  for (const Config& original : {Config(), *c}) {
    const Json full = original.ToJson();
    const Json settings = {
        {"policy", full["policy"]}, {"release", full["release"]}, {"deploy", full["deploy"]}};
    auto back = ParseConfig(settings.dump(), "the run's settings");
    ASSERT_TRUE(back.ok()) << back.problem().Message();
    EXPECT_EQ(back->ToJson()["policy"], full["policy"]);
    EXPECT_EQ(back->ToJson()["release"], full["release"]);
    EXPECT_EQ(back->ToJson()["deploy"], full["deploy"]);
  }
}

}  // namespace
}  // namespace ps
