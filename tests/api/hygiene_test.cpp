// HTTP hygiene of the API: a body must say it is JSON, answers say what they are and
// are never sniffed, client text is not echoed whole, ambiguous JSON is refused, and
// Idempotency-Key has one rule and one name.
#include <gtest/gtest.h>

#include <chrono>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

class Hygiene : public ServerSuite {
 protected:
  static void SetUpTestSuite() { StartServer(); }
  static void TearDownTestSuite() { StopServer(); }

  static void ExpectProblem(const HttpResult& result, int status, std::string_view code,
                            std::string_view field = {}) {
    EXPECT_EQ(result.status, status) << result.Describe();
    const boost::json::value body = result.Json();
    ASSERT_TRUE(body.is_object()) << result.Describe();
    EXPECT_EQ(Str(body.at("code")), code) << result.Describe();
    if (!field.empty()) {
      ASSERT_TRUE(body.as_object().contains("field")) << result.Describe();
      EXPECT_EQ(Str(body.at("field")), field) << result.Describe();
    }
  }

  static boost::json::object RunBody(std::string_view script) {
    return {{"script", script}, {"lang", "python"}, {"lang_version", "3.11"}};
  }
};

TEST_F(Hygiene, EveryBodyWithoutContentTypeIs415) {
  HttpClient client(Port());
  const Account account = CreateAccount(client, "hygiene-415");
  const HttpResult created = client.PostJson(
      "/api/v1/scripts",
      boost::json::object{
          {"name", "n"}, {"lang", "python"}, {"lang_version", "3.11"}, {"script", "print(1)"}},
      account.Bearer());
  ASSERT_EQ(created.status, 201) << created.Describe();
  const std::string script_id = Str(created.Json().at("id"));

  // What a cross-site no-cors fetch sends: a JSON text with no Content-Type at all.
  const std::string run = boost::json::serialize(RunBody("print('from another site')"));
  ExpectProblem(client.Request("POST", "/api/v1/execute", run), 415, "unsupported_media_type");
  ExpectProblem(
      client.Request("POST", "/api/v1/auth/register",
                     R"({"username":"x415","email":"x@example.com","password":"pw-415-pw"})"),
      415, "unsupported_media_type");
  ExpectProblem(
      client.Request("POST", "/api/v1/auth/login", R"({"username":"x415","password":"pw-415-pw"})"),
      415, "unsupported_media_type");
  const std::string draft = R"({"name":"m","lang":"python","lang_version":"3.11","script":"1"})";
  ExpectProblem(client.Request("POST", "/api/v1/scripts", draft, account.Bearer()), 415,
                "unsupported_media_type");
  ExpectProblem(client.Request("PUT", "/api/v1/scripts/" + script_id, draft, account.Bearer()), 415,
                "unsupported_media_type");
  // The CORS-safelisted types a form can send are refused the same way.
  for (const char* type :
       {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}) {
    ExpectProblem(client.Request("POST", "/api/v1/execute", run, {{"Content-Type", type}}), 415,
                  "unsupported_media_type");
  }
  // Nothing was run or stored by any of them.
  const HttpResult mine = client.Get("/api/v1/scripts", account.Bearer());
  ASSERT_EQ(mine.status, 200) << mine.Describe();
  EXPECT_EQ(mine.Json().at("items").as_array().size(), 1u) << mine.body;
  // A body-less POST needs no Content-Type.
  EXPECT_EQ(client.Request("POST", "/api/v1/auth/logout", {}, account.Bearer()).status, 204);
}

TEST_F(Hygiene, AnswersAreNeverSniffed) {
  HttpClient client(Port());
  for (const char* target : {"/api/v1/runtimes", "/api/v1/nothing-here", "/metrics",
                             "/api/v1/openapi.json", "/api/v1/health/live"}) {
    const HttpResult result = client.Get(target);
    EXPECT_NE(result.status, 0) << target;
    EXPECT_EQ(result.AllHeaders("x-content-type-options"), std::vector<std::string>{"nosniff"})
        << target << ": " << result.Describe();
  }
  const HttpResult problem = client.Request("POST", "/api/v1/execute", "x");
  EXPECT_EQ(problem.Header("x-content-type-options"), "nosniff") << problem.Describe();
  // The server's own refusals (before any route) too.
  RawConnection raw(Port());
  ASSERT_TRUE(raw.Send("GET /api/v1/runtimes HTTP/1.1\r\n\r\n"));
  const std::string refused = raw.ReadUntil("\r\n\r\n", std::chrono::seconds(10));
  EXPECT_NE(refused.find("X-Content-Type-Options: nosniff"), std::string::npos) << refused;
}

TEST_F(Hygiene, AHugeUnknownKeyIsNotEchoedWhole) {
  HttpClient client(Port());
  boost::json::object body = RunBody("print(1)");
  body[std::string(200000, 'k')] = 1;
  const HttpResult result = client.PostJson("/api/v1/execute", body);
  ExpectProblem(result, 422, "invalid_field");
  EXPECT_LT(result.body.size(), 2048u) << result.body.substr(0, 400);
  EXPECT_NE(Str(result.Json().at("detail")).find("unknown field"), std::string::npos);
}

TEST_F(Hygiene, HugeMethodsAndPathsAreNotEchoedWhole) {
  HttpClient client(Port());
  const HttpResult method = client.Request(std::string(8000, 'M'), "/api/v1/runtimes");
  EXPECT_EQ(method.status, 405) << method.Describe();
  EXPECT_LT(method.body.size(), 2048u);
  const HttpResult path = client.Get("/api/v1/" + std::string(12000, 'p'));
  EXPECT_EQ(path.status, 404) << path.Describe();
  EXPECT_LT(path.body.size(), 2048u);
  // The access log line of the 405 is written before its answer (straight to the log
  // file): it carries a bounded method and no path (the route pattern stands for it).
  const std::string log = Server().Log();
  ASSERT_NE(log.find("\"status\":405"), std::string::npos) << log.substr(0, 2000);
  EXPECT_NE(log.find(std::string(16, 'M')), std::string::npos);
  EXPECT_EQ(log.find(std::string(17, 'M')), std::string::npos);
  EXPECT_EQ(log.find(std::string(64, 'p')), std::string::npos);
}

TEST_F(Hygiene, DuplicateJsonKeysAreRefused) {
  HttpClient client(Port());
  // Another reader of the same bytes (a WAF, a log pipeline) would see the first script.
  const HttpResult top = client.Request(
      "POST", "/api/v1/execute",
      R"j({"script":"print('seen')","lang":"python","lang_version":"3.11","script":"print('run')"})j",
      {{"Content-Type", "application/json"}});
  ExpectProblem(top, 422, "invalid_field", "script");
  EXPECT_NE(Str(top.Json().at("detail")).find("more than once"), std::string::npos) << top.body;
  const HttpResult nested = client.Request(
      "POST", "/api/v1/execute",
      R"({"script":"1","lang":"python","lang_version":"3.11","limits":{"pids":8,"pids":9}})",
      {{"Content-Type", "application/json"}});
  ExpectProblem(nested, 422, "invalid_field", "limits.pids");
  const HttpResult login = client.Request(
      "POST", "/api/v1/auth/login", R"({"username":"a","username":"b","password":"whatever-pw"})",
      {{"Content-Type", "application/json"}});
  ExpectProblem(login, 422, "invalid_field", "username");
}

TEST_F(Hygiene, IdempotencyKeyHasOneRuleAndOneName) {
  HttpClient client(Port());
  const Account account = CreateAccount(client, "hygiene-idem");
  Headers spaced = account.Bearer();
  spaced.emplace_back("Idempotency-Key", "has a space");
  ExpectProblem(client.PostJson("/api/v1/execute", RunBody("print(1)"), spaced), 422,
                "invalid_field", "Idempotency-Key");
  Headers empty = account.Bearer();
  empty.emplace_back("Idempotency-Key", "");
  ExpectProblem(client.PostJson("/api/v1/execute", RunBody("print(1)"), empty), 422,
                "invalid_field", "Idempotency-Key");
  // The conflict names the same field.
  Headers key = account.Bearer();
  key.emplace_back("Idempotency-Key", "k1");
  ASSERT_EQ(client.PostJson("/api/v1/execute", RunBody("print(1)"), key).status, 202);
  ExpectProblem(client.PostJson("/api/v1/execute", RunBody("print(2)"), key), 409, "conflict",
                "Idempotency-Key");
}

TEST_F(Hygiene, AnonymousIdempotencyKeysMustBeUnguessable) {
  HttpClient client(Port());
  // Every anonymous client behind one address (a NAT, a proxy) shares the key space:
  // a short key is refused, so that "1" from one client never replays another's run.
  const HttpResult short_key =
      client.PostJson("/api/v1/execute", RunBody("print('mine')"), {{"Idempotency-Key", "1"}});
  ExpectProblem(short_key, 422, "invalid_field", "Idempotency-Key");
  const Headers mine = {{"Idempotency-Key", "0f8e3c5a-9d1b-4e7f-8a2c-6b4d1e9f7a30"}};
  const Headers theirs = {{"Idempotency-Key", "5c2a7e19-3b8d-4f60-9e1a-2d7c8b4f6e05"}};
  const HttpResult first = client.PostJson("/api/v1/execute", RunBody("print('same')"), mine);
  const HttpResult other = client.PostJson("/api/v1/execute", RunBody("print('same')"), theirs);
  ASSERT_EQ(first.status, 202) << first.Describe();
  ASSERT_EQ(other.status, 202) << other.Describe();
  EXPECT_NE(Str(first.Json().at("execution_id")), Str(other.Json().at("execution_id")));
  const HttpResult replay = client.PostJson("/api/v1/execute", RunBody("print('same')"), mine);
  ASSERT_EQ(replay.status, 200) << replay.Describe();
  EXPECT_EQ(Str(replay.Json().at("execution_id")), Str(first.Json().at("execution_id")));
}

}  // namespace
}  // namespace integr8scode::testing
