// User B can reach nothing of user A's: executions, their events, history, scripts.
#include <gtest/gtest.h>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

class Isolation : public ServerSuite {
 protected:
  static void SetUpTestSuite() { StartServer(); }
  static void TearDownTestSuite() { StopServer(); }
};

TEST_F(Isolation, AnotherUsersExecutionsAndScriptsAreInvisible) {
  HttpClient client(Port());
  const Account a = CreateAccount(client, "owner-a");
  const Account b = CreateAccount(client, "other-b");

  const HttpResult run = Submit(client, "print('private to A')", a.Bearer(), "?wait=true");
  ASSERT_EQ(run.status, 200) << run.Describe();
  const std::string execution = Str(run.Json().at("execution_id"));
  const HttpResult pending = Submit(client, "import time\ntime.sleep(30)", a.Bearer());
  ASSERT_EQ(pending.status, 202);
  const std::string running = Str(pending.Json().at("execution_id"));
  const HttpResult saved = client.PostJson(
      "/api/v1/scripts",
      boost::json::object{
          {"name", "secret"}, {"lang", "python"}, {"lang_version", "3.11"}, {"script", "A's code"}},
      a.Bearer());
  ASSERT_EQ(saved.status, 201);
  const std::string script = Str(saved.Json().at("id"));

  // B, and an anonymous caller, get 404 for everything — never 403, which would confirm
  // that the id exists.
  for (const Headers& who : {b.Bearer(), Headers{}}) {
    for (const std::string& id : {execution, running}) {
      for (const std::string& target : {"/api/v1/executions/" + id, "/api/v1/result/" + id,
                                        "/api/v1/executions/" + id + "/events"}) {
        const HttpResult read = client.Get(target, who);
        EXPECT_EQ(read.status, 404) << target << ": " << read.Describe();
        EXPECT_EQ(read.body.find("private to A"), std::string::npos);
      }
      EXPECT_EQ(client.Request("POST", "/api/v1/executions/" + id + "/cancel", {}, who).status,
                404);
      EXPECT_EQ(client.Request("POST", "/api/v1/executions/" + id + "/retry", {}, who).status, 404);
    }
  }
  const HttpResult history = client.Get("/api/v1/executions", b.Bearer());
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(history.Json().at("total").to_number<int>(), 0);
  EXPECT_EQ(client.Get("/api/v1/executions?status=completed", b.Bearer())
                .Json()
                .at("total")
                .to_number<int>(),
            0);

  const HttpResult scripts = client.Get("/api/v1/scripts", b.Bearer());
  ASSERT_EQ(scripts.status, 200);
  EXPECT_TRUE(scripts.Json().at("items").as_array().empty());
  EXPECT_EQ(client.Get("/api/v1/scripts/" + script, b.Bearer()).status, 404);
  const boost::json::object overwrite{
      {"name", "mine now"}, {"lang", "python"}, {"lang_version", "3.11"}, {"script", "B's code"}};
  EXPECT_EQ(client.PutJson("/api/v1/scripts/" + script, overwrite, b.Bearer()).status, 404);
  EXPECT_EQ(client.Delete("/api/v1/scripts/" + script, b.Bearer()).status, 404);

  // A still has everything, unchanged; B's attempts cancelled nothing.
  EXPECT_EQ(Str(client.Get("/api/v1/scripts/" + script, a.Bearer()).Json().at("script")),
            "A's code");
  const HttpResult still_running = client.Get("/api/v1/executions/" + running, a.Bearer());
  EXPECT_TRUE(Str(still_running.Json().at("status")) == "running" ||
              Str(still_running.Json().at("status")) == "queued")
      << still_running.body;
  EXPECT_EQ(client.Get("/api/v1/executions", a.Bearer()).Json().at("total").to_number<int>(), 2);
  EXPECT_EQ(
      client.Request("POST", "/api/v1/executions/" + running + "/cancel", {}, a.Bearer()).status,
      200);
}

TEST_F(Isolation, AnonymousExecutionsAreReadableByIdOnly) {
  HttpClient client(Port());
  const Account c = CreateAccount(client, "reader-c");
  const HttpResult run = Submit(client, "print('anonymous')", {}, "?wait=true");
  ASSERT_EQ(run.status, 200);
  const std::string id = Str(run.Json().at("execution_id"));
  EXPECT_EQ(client.Get("/api/v1/executions/" + id, c.Bearer()).status, 200);
  // But it is in nobody's history.
  EXPECT_EQ(client.Get("/api/v1/executions", c.Bearer()).Json().at("total").to_number<int>(), 0);
}

}  // namespace
}  // namespace integr8scode::testing
