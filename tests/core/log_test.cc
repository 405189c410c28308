#include "core/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace ps {
namespace {

TEST(Logger, LogfmtQuotesWhatNeedsQuoting) {
  SimClock clock(0);
  Logger l(nullptr, LogFormat::kLogfmt, LogLevel::kInfo, clock);
  auto line = l.With("run", "r1")
                  .With("stage", "audit")
                  .Format(0, LogLevel::kInfo, "hello world", {{"path", "a=b"}});
  EXPECT_EQ(line,
            "ts=1970-01-01T00:00:00.000Z level=info msg=\"hello world\" run=r1 stage=audit "
            "path=\"a=b\"");
}

TEST(Logger, JsonCarriesTheIds) {
  SimClock clock(0);
  Logger l(nullptr, LogFormat::kJson, LogLevel::kInfo, clock);
  auto line = l.With({{"org", "o"}, {"project", "p"}, {"run", "r"}, {"stage", "s"}})
                  .Format(0, LogLevel::kWarn, "m\n", {});
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["org"], "o");
  EXPECT_EQ(j["project"], "p");
  EXPECT_EQ(j["run"], "r");
  EXPECT_EQ(j["stage"], "s");
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["msg"], "m\n");
}

TEST(Logger, WithReplacesAnExistingField) {
  SimClock clock(0);
  Logger l(nullptr, LogFormat::kLogfmt, LogLevel::kInfo, clock);
  auto l2 = l.With("stage", "a").With("stage", "b");
  ASSERT_EQ(l2.fields().size(), 1u);
  EXPECT_EQ(l2.fields()[0].second, "b");
}

TEST(Logger, ParsesLevelsAndFormats) {
  LogLevel lv;
  LogFormat f;
  EXPECT_TRUE(ParseLogLevel("debug", &lv));
  EXPECT_EQ(lv, LogLevel::kDebug);
  EXPECT_FALSE(ParseLogLevel("loud", &lv));
  EXPECT_TRUE(ParseLogFormat("json", &f));
  EXPECT_FALSE(ParseLogFormat("xml", &f));
}

}  // namespace
}  // namespace ps
