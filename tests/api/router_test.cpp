#include "api/router.hpp"

#include <gtest/gtest.h>

namespace integr8scode {
namespace {

Router MakeRouter() {
  Router router;
  router.Add("GET", "/api/v1/executions");
  router.Add("GET", "/api/v1/executions/{id}");
  router.Add("POST", "/api/v1/executions/{id}/cancel");
  router.Add("GET", "/api/v1/scripts/{id}");
  router.Add("PUT", "/api/v1/scripts/{id}");
  router.Add("DELETE", "/api/v1/scripts/{id}");
  return router;
}

TEST(Router, MatchesLiteralAndParameterSegments) {
  const Router router = MakeRouter();
  RouteMatch match = router.Match("GET", "/api/v1/executions");
  ASSERT_EQ(match.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(router.Routes()[match.index].pattern, "/api/v1/executions");

  match = router.Match("GET", "/api/v1/executions/7d0e-42");
  ASSERT_EQ(match.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(router.Routes()[match.index].pattern, "/api/v1/executions/{id}");
  EXPECT_EQ(match.Param("id"), "7d0e-42");

  match = router.Match("POST", "/api/v1/executions/abc/cancel");
  ASSERT_EQ(match.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(match.Param("id"), "abc");
}

TEST(Router, WrongMethodIs405WithTheAllowedMethods) {
  const Router router = MakeRouter();
  const RouteMatch match = router.Match("PATCH", "/api/v1/scripts/1");
  ASSERT_EQ(match.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(match.allowed, "GET, PUT, DELETE");
}

TEST(Router, UnknownPathsAndEmptySegmentsAreNotFound) {
  const Router router = MakeRouter();
  EXPECT_EQ(router.Match("GET", "/api/v1/nothing").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", "/api/v1/executions/").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", "/api/v1/executions/a/b").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", "/api/v1").kind, RouteMatch::Kind::kNotFound);
}

TEST(Router, HeadIsServedByGetRoutes) {
  const Router router = MakeRouter();
  const RouteMatch match = router.Match("HEAD", "/api/v1/executions/x");
  ASSERT_EQ(match.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(router.Routes()[match.index].method, "GET");
}

TEST(Router, ParametersArePercentDecodedAndBadEscapesDoNotMatch) {
  const Router router = MakeRouter();
  RouteMatch match = router.Match("GET", "/api/v1/scripts/a%20b");
  ASSERT_EQ(match.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(match.Param("id"), "a b");
  EXPECT_EQ(router.Match("GET", "/api/v1/scripts/a%zz").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", "/api/v1/scripts/a%00").kind, RouteMatch::Kind::kNotFound);
}

TEST(RouterDeathTest, RegisteringARouteTwiceAborts) {
  EXPECT_DEATH(
      {
        Router router;
        router.Add("GET", "/x");
        router.Add("GET", "/x");
      },
      "registered twice");
}

TEST(Query, ParsesAndDecodesPairs) {
  const auto pairs = ParseQuery("status=completed&lang=c%2B%2B&name=a+b&flag&=x&bad=%zz");
  ASSERT_EQ(pairs.size(), 5u);
  EXPECT_EQ(pairs[0], (std::pair<std::string, std::string>{"status", "completed"}));
  EXPECT_EQ(pairs[1].second, "c++");
  EXPECT_EQ(pairs[2].second, "a b");
  EXPECT_EQ(pairs[3], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(pairs[4], (std::pair<std::string, std::string>{"", "x"}));
}

}  // namespace
}  // namespace integr8scode
