#include "core/clock.h"

#include <gtest/gtest.h>

#include "core/ids.h"

namespace ps {
namespace {

TEST(Duration, ParsesUnitsAndCombinations) {
  EXPECT_EQ(ParseDuration("250ms"), 250);
  EXPECT_EQ(ParseDuration("10s"), 10'000);
  EXPECT_EQ(ParseDuration("5m"), 300'000);
  EXPECT_EQ(ParseDuration("1h30m"), 5'400'000);
  EXPECT_EQ(ParseDuration("2d"), 172'800'000);
  EXPECT_EQ(ParseDuration(""), -1);
  EXPECT_EQ(ParseDuration("10"), -1);
  EXPECT_EQ(ParseDuration("ten s"), -1);
  EXPECT_EQ(ParseDuration("5y"), -1);
  EXPECT_EQ(ParseDuration("99999999999999999999s"), -1);
}

TEST(Duration, FormatsTheShortestExactForm) {
  EXPECT_EQ(FormatDuration(1500), "1500ms");
  EXPECT_EQ(FormatDuration(60'000), "1m");
  EXPECT_EQ(FormatDuration(7'200'000), "2h");
  EXPECT_EQ(ParseDuration(FormatDuration(90'000)), 90'000);
}

TEST(Time, FormatsIso8601Utc) { EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000Z"); }

TEST(SimClock, MovesOnlyWhenTold) {
  SimClock c(1000);
  EXPECT_EQ(c.Now(), 1000);
  c.SleepFor(50);
  c.Advance(25);
  EXPECT_EQ(c.Now(), 1075);
}

TEST(Random, UniformStaysInBoundsAndIsSeeded) {
  SeededRandom a(7), b(7);
  for (int i = 0; i < 1000; ++i) {
    auto x = a.Uniform(10);
    EXPECT_LT(x, 10u);
    EXPECT_EQ(x, b.Uniform(10));
  }
}

TEST(Ids, AreUuidV7AndSortByTime) {
  SimClock c;
  SeededRandom r(1);
  auto a = NewId(c, r);
  c.Advance(1);
  auto b = NewId(c, r);
  EXPECT_TRUE(IsUuid(a));
  EXPECT_EQ(a[14], '7');                                          // version
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);  // variant
  EXPECT_LT(a, b);
  EXPECT_FALSE(IsUuid("not-a-uuid"));
}

}  // namespace
}  // namespace ps
