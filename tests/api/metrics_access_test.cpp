// /metrics stays small whatever clients send, and can be restricted to a scraper: a
// bearer token, a listener of its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <string_view>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

class MetricsLabels : public ServerSuite {
 protected:
  static void SetUpTestSuite() { StartServer(); }
  static void TearDownTestSuite() { StopServer(); }
};

TEST_F(MetricsLabels, JunkMethodsAndPathsDoNotGrowTheExposition) {
  HttpClient client(Port());
  const HttpResult warm = client.Get("/metrics");
  ASSERT_EQ(warm.status, 200);
  for (int i = 0; i < 50; ++i) {
    const std::string method = "JUNK" + std::to_string(i) + std::string(4000, 'X');
    EXPECT_NE(client.Request(method, "/api/v1/runtimes").status, 0);
    EXPECT_NE(client.Request(method, "/api/v1/no/such/route/" + std::to_string(i)).status, 0);
    EXPECT_NE(client.Request(method, "/static/" + std::to_string(i)).status, 0);
    EXPECT_EQ(client.Get("/api/v1/no-route-" + std::to_string(i)).status, 404);
  }
  const HttpResult after = client.Get("/metrics");
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.body.find("JUNK"), std::string::npos);
  EXPECT_EQ(after.body.find("no-route"), std::string::npos);
  EXPECT_NE(after.body.find(R"(method="other")"), std::string::npos);
  // A handful of new series (other × 404/405 × a few routes), not hundreds.
  EXPECT_LT(after.body.size(), warm.body.size() + 64 * 1024)
      << "grew from " << warm.body.size() << " to " << after.body.size() << " bytes";
  RecordProperty("metrics_bytes_before", static_cast<int>(warm.body.size()));
  RecordProperty("metrics_bytes_after_200_junk_requests", static_cast<int>(after.body.size()));
}

// The value of one series in a text exposition, or -1 when it is absent.
double SeriesValue(const std::string& exposition, std::string_view series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(series) && line.size() > series.size() && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

// A client that has its answer may scrape next, on another connection: the request must
// be counted already. (The count used to be taken after the write completed, so a fast
// scrape on a busy machine could miss it.)
TEST_F(MetricsLabels, AnAnswerIsCountedBeforeTheClientHasIt) {
  constexpr std::string_view kSeries =
      R"(integr8scode_http_requests_total{code="200",method="GET",route="/api/v1/health/live"})";
  HttpClient scraper(Port());
  const HttpResult before = scraper.Get("/metrics");
  ASSERT_EQ(before.status, 200);
  const double start = std::max(0.0, SeriesValue(before.body, kSeries));
  for (int i = 1; i <= 200; ++i) {
    HttpClient client(Port());  // a connection of its own: nothing orders it with the scrape
    ASSERT_EQ(client.Get("/api/v1/health/live").status, 200);
    const HttpResult scraped = scraper.Get("/metrics");
    ASSERT_EQ(scraped.status, 200);
    ASSERT_EQ(SeriesValue(scraped.body, kSeries), start + i) << "after answer " << i;
  }
}

// The port the server logged for its metrics listener.
std::uint16_t MetricsPortFromLog(const std::string& log) {
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("\"msg\":\"serving metrics\"") == std::string::npos) continue;
    const boost::json::value value = boost::json::parse(line);
    return static_cast<std::uint16_t>(value.at("metrics_port").to_number<int>());
  }
  return 0;
}

constexpr std::string_view kToken = "scrape-token-6d1f0a9b";

class MetricsListener : public ServerSuite {
 protected:
  static void SetUpTestSuite() {
    StartServer({{"metrics.listen", "127.0.0.1:0"}, {"metrics.bearer_token", std::string(kToken)}});
  }
  static void TearDownTestSuite() { StopServer(); }
};

TEST_F(MetricsListener, MetricsAreServedOnTheirOwnListenerOnly) {
  const std::uint16_t port = MetricsPortFromLog(Server().Log());
  ASSERT_NE(port, 0) << Server().Log();
  ASSERT_NE(port, Port());
  HttpClient api(Port());
  EXPECT_EQ(api.Get("/metrics", {{"Authorization", "Bearer " + std::string(kToken)}}).status, 404);

  HttpClient scraper(port);
  const HttpResult anonymous = scraper.Get("/metrics");
  EXPECT_EQ(anonymous.status, 401) << anonymous.Describe();
  EXPECT_EQ(anonymous.Header("www-authenticate"), "Bearer realm=\"integr8scode\"");
  EXPECT_EQ(scraper.Get("/metrics", {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(
      scraper.Get("/metrics", {{"Authorization", "Bearer " + std::string(kToken) + "x"}}).status,
      401);
  const HttpResult scraped =
      scraper.Get("/metrics", {{"Authorization", "Bearer " + std::string(kToken)}});
  ASSERT_EQ(scraped.status, 200) << scraped.Describe();
  EXPECT_NE(scraped.body.find("integr8scode_http_requests_total"), std::string::npos);
  EXPECT_EQ(scraped.Header("x-content-type-options"), "nosniff");
  // It serves nothing else.
  EXPECT_EQ(scraper.Get("/api/v1/runtimes").status, 404);
  EXPECT_EQ(scraper.Request("POST", "/metrics").status, 405);
  // And the API still works on its own listener.
  EXPECT_EQ(api.Get("/api/v1/runtimes").status, 200);
}

class MetricsToken : public ServerSuite {
 protected:
  static void SetUpTestSuite() { StartServer({{"metrics.bearer_token", std::string(kToken)}}); }
  static void TearDownTestSuite() { StopServer(); }
};

TEST_F(MetricsToken, MetricsNeedTheBearerToken) {
  HttpClient client(Port());
  const HttpResult anonymous = client.Get("/metrics");
  EXPECT_EQ(anonymous.status, 401) << anonymous.Describe();
  EXPECT_EQ(anonymous.Header("content-type"), "application/problem+json");
  EXPECT_EQ(anonymous.body.find("integr8scode_"), std::string::npos);
  // A user's token is not the scraper's.
  const Account account = CreateAccount(client, "metrics-user");
  EXPECT_EQ(client.Get("/metrics", account.Bearer()).status, 401);
  const HttpResult scraped =
      client.Get("/metrics", {{"Authorization", "bearer " + std::string(kToken)}});
  ASSERT_EQ(scraped.status, 200) << scraped.Describe();
  EXPECT_NE(scraped.body.find("integr8scode_http_requests_total"), std::string::npos);
}

}  // namespace
}  // namespace integr8scode::testing
