// Rate limits on a real server: per user and per address, per group, with headers.
#include <gtest/gtest.h>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

class RateLimits : public ServerSuite {
 protected:
  static void SetUpTestSuite() {
    StartServer({{"rate_limits.enabled", "true"},
                 {"rate_limits.execute_per_minute", "4"},
                 {"rate_limits.anonymous_execute_per_minute", "2"},
                 {"rate_limits.auth_per_minute", "6"},
                 {"rate_limits.other_per_minute", "30"}});
  }
  static void TearDownTestSuite() { StopServer(); }
};

TEST_F(RateLimits, AnonymousExecutionsAreLimitedHarderThanUsers) {
  HttpClient client(Port());
  for (int i = 0; i < 2; ++i) {
    const HttpResult accepted = Submit(client, "print(1)");
    ASSERT_EQ(accepted.status, 202) << accepted.Describe();
    EXPECT_EQ(accepted.Header("x-ratelimit-limit"), "2");
    EXPECT_EQ(accepted.Header("x-ratelimit-remaining"), std::to_string(1 - i));
    EXPECT_FALSE(accepted.Header("x-ratelimit-reset").empty());
  }
  const HttpResult refused = Submit(client, "print(1)");
  ASSERT_EQ(refused.status, 429) << refused.Describe();
  EXPECT_EQ(Str(refused.Json().at("code")), "rate_limited");
  const int retry_after = std::stoi(refused.Header("retry-after"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 30);  // 2 a minute: one every 30 s
  EXPECT_NE(
      Str(refused.Json().at("detail")).find("try again in " + std::to_string(retry_after) + " s"),
      std::string::npos)
      << refused.body;
  EXPECT_EQ(refused.Header("x-ratelimit-remaining"), "0");

  // A signed-in user has its own, larger allowance (register/login are the auth group).
  const Account user = CreateAccount(client, "quota-user");
  for (int i = 0; i < 4; ++i) {
    const HttpResult accepted = Submit(client, "print(1)", user.Bearer());
    ASSERT_EQ(accepted.status, 202) << "run " << i << ": " << accepted.Describe();
    EXPECT_EQ(accepted.Header("x-ratelimit-limit"), "4");
  }
  EXPECT_EQ(Submit(client, "print(1)", user.Bearer()).status, 429);
  // Retries spend the same allowance.
  const std::string some_id = Str(client.Get("/api/v1/executions?limit=1", user.Bearer())
                                      .Json()
                                      .at("items")
                                      .at(0)
                                      .at("execution_id"));
  EXPECT_EQ(
      client.Request("POST", "/api/v1/executions/" + some_id + "/retry", {}, user.Bearer()).status,
      429);

  // Other routes have their own bucket, and health checks none.
  EXPECT_EQ(client.Get("/api/v1/runtimes").status, 200);
  const HttpResult health = client.Get("/api/v1/health/ready");
  EXPECT_EQ(health.status, 200);
  EXPECT_TRUE(health.Header("x-ratelimit-limit").empty());
}

TEST_F(RateLimits, PasswordGuessingIsLimitedPerAddress) {
  HttpClient client(Port());
  int refused = 0;
  for (int i = 0; i < 10; ++i) {
    const HttpResult login = client.PostJson(
        "/api/v1/auth/login",
        boost::json::object{{"username", "victim-" + std::to_string(i)}, {"password", "guess"}});
    if (login.status == 429) {
      ++refused;
      EXPECT_FALSE(login.Header("retry-after").empty());
    } else {
      EXPECT_EQ(login.status, 401) << login.Describe();
    }
  }
  // 6 a minute, and the earlier test's registration and login may have used two.
  EXPECT_GE(refused, 4);
  // The server is still healthy and other routes still answer.
  EXPECT_EQ(client.Get("/api/v1/health/ready").status, 200);
  EXPECT_EQ(client.Get("/api/v1/limits").status, 200);
}

TEST_F(RateLimits, ScriptHammeringOtherRoutesIsStopped) {
  HttpClient client(Port());
  int accepted = 0;
  int refused = 0;
  for (int i = 0; i < 60; ++i) {
    const HttpResult result = client.Get("/api/v1/example-scripts");
    if (result.status == 200) ++accepted;
    if (result.status == 429) ++refused;
  }
  EXPECT_LE(accepted, 31);  // the burst of 30, plus at most one refilled meanwhile
  EXPECT_GE(refused, 29);
  EXPECT_EQ(accepted + refused, 60);
}

}  // namespace
}  // namespace integr8scode::testing
