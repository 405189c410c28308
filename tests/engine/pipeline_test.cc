#include "engine/pipeline.h"

#include <gtest/gtest.h>

namespace ps::engine {
namespace {

std::vector<std::string> Names(const std::vector<StageSpec>& v) {
  std::vector<std::string> out;
  for (const auto& s : v) out.push_back(s.name);
  return out;
}

TEST(Pipeline, OrdersTopologicallyWithDeclarationTies) {
  EngineConfig c;
  auto order = ResolvePipeline({store::RunKind::kReadiness,
                                {{"checklist", {"perf", "test"}, 0, 0},
                                 {"perf", {"audit"}, 0, 0},
                                 {"test", {"audit"}, 0, 0},
                                 {"audit", {}, 0, 0}}},
                               c);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(Names(*order), (std::vector<std::string>{"audit", "perf", "test", "checklist"}));
}

TEST(Pipeline, AppliesDefaultsAndOverrides) {
  EngineConfig c;
  c.max_attempts = 4;
  c.stage_timeout = 9'000;
  c.stages["b"].timeout = 2'000;
  c.stages["b"].max_attempts = 1;
  auto order = ResolvePipeline({store::RunKind::kApply, {{"a", {}, 0, 0}, {"b", {"a"}, 0, 0}}}, c);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ((*order)[0].max_attempts, 4);
  EXPECT_EQ((*order)[0].timeout, 9'000);
  EXPECT_EQ((*order)[1].max_attempts, 1);
  EXPECT_EQ((*order)[1].timeout, 2'000);
}

TEST(Pipeline, RejectsCyclesUnknownNeedsDuplicatesAndBadNames) {
  EngineConfig c;
  using K = store::RunKind;
  EXPECT_FALSE(ResolvePipeline({K::kApply, {{"a", {"b"}, 0, 0}, {"b", {"a"}, 0, 0}}}, c).ok());
  EXPECT_FALSE(ResolvePipeline({K::kApply, {{"a", {"zzz"}, 0, 0}}}, c).ok());
  EXPECT_FALSE(ResolvePipeline({K::kApply, {{"a", {}, 0, 0}, {"a", {}, 0, 0}}}, c).ok());
  EXPECT_FALSE(ResolvePipeline({K::kApply, {{"Bad Name", {}, 0, 0}}}, c).ok());
  EXPECT_FALSE(ResolvePipeline({K::kApply, {}}, c).ok());
  EXPECT_FALSE(ResolvePipeline({K::kApply, {{"a", {"a"}, 0, 0}}}, c).ok());
}

}  // namespace
}  // namespace ps::engine
