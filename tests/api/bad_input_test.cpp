// Bad input of every kind: each gets a clear 4xx problem, and the server stays healthy.
#include <gtest/gtest.h>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

class BadInput : public ServerSuite {
 protected:
  static void SetUpTestSuite() { StartServer(); }
  static void TearDownTestSuite() { StopServer(); }

  void TearDown() override {
    if (!server_) return;
    HttpClient client(Port());
    EXPECT_EQ(client.Get("/api/v1/health/ready").status, 200)
        << "the server is not healthy after the test";
    const HttpResult run = Submit(client, "print('still fine')", {}, "?wait=true");
    EXPECT_EQ(run.status, 200) << run.Describe();
  }

  static void ExpectProblem(const HttpResult& result, int status, std::string_view code,
                            std::string_view field = {}) {
    EXPECT_EQ(result.status, status) << result.Describe();
    EXPECT_EQ(result.Header("content-type"), "application/problem+json") << result.Describe();
    const boost::json::value body = result.Json();
    ASSERT_TRUE(body.is_object()) << result.Describe();
    EXPECT_EQ(Str(body.at("code")), code) << result.Describe();
    EXPECT_EQ(body.at("status").to_number<int>(), status);
    EXPECT_FALSE(Str(body.at("detail")).empty());
    EXPECT_EQ(Str(body.at("request_id")), result.Header("x-request-id"));
    if (!field.empty()) {
      ASSERT_TRUE(body.as_object().contains("field")) << result.Describe();
      EXPECT_EQ(Str(body.at("field")), field);
    }
  }

  static HttpResult PostRaw(HttpClient& client, std::string_view body,
                            std::string_view content_type = "application/json") {
    return client.Request("POST", "/api/v1/execute", body,
                          {{"Content-Type", std::string(content_type)}});
  }
};

TEST_F(BadInput, MalformedJson) {
  HttpClient client(Port());
  ExpectProblem(PostRaw(client, R"j({"script": "print(1)", "lang": )j"), 400, "malformed_json");
  ExpectProblem(PostRaw(client, "script=print(1)"), 400, "malformed_json");
  ExpectProblem(PostRaw(client, ""), 400, "malformed_json");
}

TEST_F(BadInput, InvalidUtf8) {
  HttpClient client(Port());
  ExpectProblem(
      PostRaw(
          client,
          "{\"script\": \"print('\xc3\x28')\", \"lang\": \"python\", \"lang_version\": \"3.11\"}"),
      400, "invalid_utf8");
}

TEST_F(BadInput, WrongTypesMissingAndUnknownFields) {
  HttpClient client(Port());
  ExpectProblem(client.PostJson("/api/v1/execute",
                                boost::json::object{
                                    {"script", 42}, {"lang", "python"}, {"lang_version", "3.11"}}),
                422, "invalid_field", "script");
  ExpectProblem(
      client.PostJson("/api/v1/execute", boost::json::object{{"script", "1"}, {"lang", "python"}}),
      422, "invalid_field", "lang_version");
  ExpectProblem(client.PostJson("/api/v1/execute", boost::json::object{{"script", "1"},
                                                                       {"lang", "python"},
                                                                       {"lang_version", "3.11"},
                                                                       {"priority", "high"}}),
                422, "invalid_field", "priority");
  ExpectProblem(client.PostJson("/api/v1/execute",
                                boost::json::object{{"script", "1"},
                                                    {"lang", "python"},
                                                    {"lang_version", "3.11"},
                                                    {"limits", {{"memory_bytes", "lots"}}}}),
                422, "invalid_field", "limits.memory_bytes");
  ExpectProblem(client.PostJson("/api/v1/execute", boost::json::array{1, 2}), 422, "invalid_field");
  ExpectProblem(
      client.PostJson("/api/v1/execute", boost::json::object{{"script", "1"},
                                                             {"lang", "python"},
                                                             {"lang_version", "3.11"},
                                                             {"limits", {{"timeout_ms", -5}}}}),
      422, "invalid_field", "limits.timeout_ms");
  ExpectProblem(client.PostJson("/api/v1/auth/register", boost::json::object{{"username", "x"}}),
                422, "invalid_field", "email");
}

TEST_F(BadInput, UnknownRuntimeListsWhatIsAvailable) {
  HttpClient client(Port());
  const HttpResult result = client.PostJson(
      "/api/v1/execute",
      boost::json::object{{"script", "DISPLAY 1"}, {"lang", "cobol"}, {"lang_version", "85"}});
  ExpectProblem(result, 422, "unknown_runtime");
  EXPECT_NE(Str(result.Json().at("detail")).find("python 3.11"), std::string::npos) << result.body;
  const HttpResult version = client.PostJson(
      "/api/v1/execute",
      boost::json::object{{"script", "1"}, {"lang", "python"}, {"lang_version", "2.7"}});
  ExpectProblem(version, 422, "unknown_runtime");
}

TEST_F(BadInput, LimitsAboveTheMaximum) {
  HttpClient client(Port());
  const HttpResult result = client.PostJson(
      "/api/v1/execute", boost::json::object{{"script", "1"},
                                             {"lang", "python"},
                                             {"lang_version", "3.11"},
                                             {"limits", {{"memory_bytes", 8ll << 30}}}});
  ExpectProblem(result, 422, "limit_exceeded", "limits.memory_bytes");
  EXPECT_NE(Str(result.Json().at("detail")).find("512 MiB"), std::string::npos) << result.body;
  ExpectProblem(client.PostJson("/api/v1/execute",
                                boost::json::object{{"script", "1"},
                                                    {"lang", "python"},
                                                    {"lang_version", "3.11"},
                                                    {"limits", {{"timeout_ms", 3600000}}}}),
                422, "limit_exceeded", "limits.timeout_ms");
}

TEST_F(BadInput, TwentyMebibyteBodyIsRefusedBeforeItIsRead) {
  // Sent by hand: the headers, then the body as fast as the server takes it. The answer
  // must come although the server never reads the 20 MiB.
  RawConnection raw(Port());
  const std::size_t size = 20u << 20;
  ASSERT_TRUE(
      raw.Send("POST /api/v1/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: " +
               std::to_string(size) + "\r\n\r\n"));
  const std::string chunk(64 << 10, ' ');
  for (std::size_t sent = 0; sent < size; sent += chunk.size()) {
    if (!raw.Send(chunk)) break;  // the server stopped reading and closed: expected
    if (!raw.ReadSome(std::chrono::milliseconds(0)).empty() || raw.Closed()) break;
  }
  const std::string answer = raw.ReadUntil("\r\n\r\n{", std::chrono::seconds(30));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer.substr(0, 300);
  raw.ReadUntil("}", std::chrono::seconds(5));
  EXPECT_NE(raw.Received().find("payload_too_large"), std::string::npos)
      << raw.Received().substr(0, 500);
}

TEST_F(BadInput, LargeChunkedBodyIsCutAtTheCap) {
  RawConnection raw(Port());
  ASSERT_TRUE(
      raw.Send("POST /api/v1/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk(1 << 20, 'a');
  char size_line[32];
  std::snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk.size());
  for (int i = 0; i < 20; ++i) {
    if (!raw.Send(std::string(size_line) + chunk + "\r\n")) break;
    if (!raw.ReadSome(std::chrono::milliseconds(0)).empty() || raw.Closed()) break;
  }
  const std::string answer = raw.ReadUntil("\r\n\r\n", std::chrono::seconds(30));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer.substr(0, 300);
}

TEST_F(BadInput, ScriptOverItsCapIs413) {
  HttpClient client(Port());
  const std::string script(1536 << 10, '#');  // under the 2 MiB body cap, over the 1 MiB script cap
  const HttpResult result = Submit(client, script);
  ExpectProblem(result, 413, "payload_too_large", "script");
}

TEST_F(BadInput, NonJsonContentTypeIs415) {
  HttpClient client(Port());
  ExpectProblem(
      PostRaw(client, R"({"script":"1","lang":"python","lang_version":"3.11"})", "text/plain"), 415,
      "unsupported_media_type");
}

TEST_F(BadInput, BadIdempotencyKeyAndQueryParameters) {
  HttpClient client(Port());
  const boost::json::object body{{"script", "1"}, {"lang", "python"}, {"lang_version", "3.11"}};
  ExpectProblem(
      client.PostJson("/api/v1/execute", body, {{"Idempotency-Key", std::string(300, 'k')}}), 422,
      "invalid_field", "Idempotency-Key");
  ExpectProblem(client.PostJson("/api/v1/execute?wait=perhaps", body), 422, "invalid_field",
                "wait");
}

TEST_F(BadInput, MalformedHttpIsA400) {
  RawConnection raw(Port());
  ASSERT_TRUE(raw.Send("GET /api/v1/runtimes HTTP/1.1\r\nHost x\r\n\r\n"));
  const std::string answer = raw.ReadUntil("\r\n\r\n", std::chrono::seconds(10));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 400")) << answer;

  RawConnection huge(Port());
  ASSERT_TRUE(
      huge.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(20000, 'x') + "\r\n\r\n"));
  EXPECT_TRUE(huge.ReadUntil("\r\n\r\n", std::chrono::seconds(10)).starts_with("HTTP/1.1 400"));
}

TEST_F(BadInput, NonexistentIdsAre404) {
  HttpClient client(Port());
  ExpectProblem(client.Get("/api/v1/executions/00000000-0000-4000-8000-000000000000"), 404,
                "not_found");
  ExpectProblem(client.Get("/api/v1/executions/not-even-a-uuid"), 404, "not_found");
  ExpectProblem(client.Get("/api/v1/executions/%27%20OR%201%3D1/events"), 404, "not_found");
}

}  // namespace
}  // namespace integr8scode::testing
