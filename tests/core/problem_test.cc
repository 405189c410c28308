#include "core/problem.h"

#include <gtest/gtest.h>

namespace ps {
namespace {

TEST(Problem, RoundTripsThroughRfc9457Json) {
  Problem p = problems::NotFound("run", "abc");
  p.instance = "/v1/runs/abc";
  Json j = p.ToJson();
  EXPECT_EQ(j["type"], "https://prodsprint.dev/problems/not-found");
  EXPECT_EQ(j["title"], "run not found");
  EXPECT_EQ(j["status"], 404);
  EXPECT_EQ(j["id"], "abc");  // extension member at the top level, as RFC 9457 wants
  auto back = Problem::FromJson(j);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->Is("not-found"));
  EXPECT_EQ(back->instance, "/v1/runs/abc");
  EXPECT_EQ(back->extensions["id"], "abc");
}

TEST(Problem, FromJsonRejectsNonProblems) {
  EXPECT_FALSE(Problem::FromJson(Json::array()).has_value());
  EXPECT_FALSE(Problem::FromJson(Json{{"type", "x"}}).has_value());
}

TEST(Problem, RetryableSurvivesJson) {
  auto p = problems::Timeout("slow");
  EXPECT_TRUE(p.retryable);
  EXPECT_TRUE(Problem::FromJson(p.ToJson())->retryable);
  EXPECT_FALSE(Problem::FromJson(problems::Internal("x").ToJson())->retryable);
}

Result<int> Half(int x) {
  if (x % 2) return problems::InvalidInput("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  PS_ASSIGN(int h, Half(x));
  PS_ASSIGN(int q, Half(h));
  return q;
}

TEST(Result, PropagatesTheFirstProblem) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problem().detail, "odd");
}

}  // namespace
}  // namespace ps
