// HTTP/1.1 framing (RFC 9112 §6): a request that a front proxy could frame differently
// from this server is answered 400 and its connection closed, so that nothing hidden in
// it is ever answered as a second request. Spoken by hand over raw sockets.
#include <gtest/gtest.h>

#include <algorithm>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

// The request that must never be answered: smuggled behind the one under test.
constexpr std::string_view kSmuggled = "GET /api/v1/health/live HTTP/1.1\r\nHost: x\r\n\r\n";

class Smuggling : public ServerSuite {
 protected:
  static void SetUpTestSuite() { StartServer(); }
  static void TearDownTestSuite() { StopServer(); }

  void TearDown() override {
    if (!server_) return;
    HttpClient client(Port());
    EXPECT_EQ(client.Get("/api/v1/health/ready").status, 200) << "the server is not healthy";
  }

  // Sends `bytes` and reads until the server closes the connection (or 20 s pass).
  static std::string Converse(std::string_view bytes) {
    RawConnection raw(Port());
    EXPECT_TRUE(raw.Send(bytes));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!raw.Closed() && std::chrono::steady_clock::now() < deadline) {
      raw.ReadSome(std::chrono::seconds(1));
    }
    EXPECT_TRUE(raw.Closed()) << "the server kept the connection open: " << raw.Received();
    return raw.Received();
  }

  // Status lines in what came back (an answer's body follows its header directly, so a
  // second status line need not start a line).
  static int Answers(std::string_view text) {
    int count = 0;
    for (std::size_t at = text.find("HTTP/1.1 "); at != std::string_view::npos;
         at = text.find("HTTP/1.1 ", at + 1)) {
      const std::string_view code = text.substr(at + 9, 3);
      if (code.size() == 3 &&
          std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }))
        ++count;
    }
    return count;
  }

  // One 400 problem whose detail mentions `needle`, and nothing after it.
  static void ExpectRefused(const std::string& request, std::string_view needle) {
    const std::string answer = Converse(request);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400")) << answer;
    EXPECT_EQ(Answers(answer), 1) << "a smuggled request was answered:\n" << answer;
    EXPECT_EQ(answer.find("\"status\":\"ok\""), std::string::npos) << answer;
    EXPECT_NE(answer.find("application/problem+json"), std::string::npos) << answer;
    EXPECT_NE(answer.find(needle), std::string::npos) << answer;
  }
};

TEST_F(Smuggling, TransferEncodingNotEndingInChunkedBesideContentLength) {
  for (const char* coding : {"chunked, identity", "xchunked", "identity"}) {
    SCOPED_TRACE(coding);
    ExpectRefused(std::string("POST /api/v1/execute HTTP/1.1\r\nHost: x\r\n") +
                      "Content-Type: application/json\r\nTransfer-Encoding: " + coding +
                      "\r\nContent-Length: 0\r\n\r\n" + std::string(kSmuggled),
                  "Transfer-Encoding");
  }
}

TEST_F(Smuggling, TransferEncodingNotEndingInChunkedAlone) {
  ExpectRefused(std::string("POST /api/v1/execute HTTP/1.1\r\nHost: x\r\n") +
                    "Content-Type: application/json\r\nTransfer-Encoding: identity\r\n\r\n" +
                    std::string(kSmuggled),
                "chunked");
}

TEST_F(Smuggling, ChunkedWithContentLengthInEitherOrder) {
  ExpectRefused(std::string("POST /api/v1/execute HTTP/1.1\r\nHost: x\r\n") +
                    "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" +
                    std::string(kSmuggled),
                "Content-Length");
  ExpectRefused(std::string("POST /api/v1/execute HTTP/1.1\r\nHost: x\r\n") +
                    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
                    std::string(kSmuggled),
                "Transfer-Encoding");
}

TEST_F(Smuggling, TransferEncodingInHttp10) {
  ExpectRefused(std::string("POST /api/v1/execute HTTP/1.0\r\nHost: x\r\n") +
                    "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n" +
                    std::string(kSmuggled),
                "HTTP/1.0");
}

TEST_F(Smuggling, ContentLengthsThatDisagree) {
  ExpectRefused(std::string("POST /api/v1/execute HTTP/1.1\r\nHost: x\r\n") +
                    "Content-Length: 0\r\nContent-Length: 47\r\n\r\n" + std::string(kSmuggled),
                "Content-Length");
}

TEST_F(Smuggling, HostMissingRepeatedOrNotOneAuthority) {
  ExpectRefused("GET /api/v1/health/live HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "Host");
  ExpectRefused("GET /api/v1/health/live HTTP/1.1\r\n\r\n", "Host");
  ExpectRefused("GET /api/v1/health/live HTTP/1.1\r\nHost: a, b\r\n\r\n", "Host");
}

TEST_F(Smuggling, SoundChunkedRequestsStillWork) {
  const std::string body = R"j({"script":"print(1)","lang":"python","lang_version":"3.11"})j";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  RawConnection raw(Port());
  ASSERT_TRUE(raw.Send(std::string("POST /api/v1/execute HTTP/1.1\r\nHost: x\r\n") +
                       "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                       size + "\r\n" + body + "\r\n0\r\n\r\n" + std::string(kSmuggled)));
  // Both are answered, in order: the framing is sound, the second request is a real one.
  const std::string answer = raw.ReadUntil("\"status\":\"ok\"", std::chrono::seconds(20));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 202")) << answer;
  EXPECT_EQ(Answers(answer), 2) << answer;
}

TEST_F(Smuggling, TrailerFieldsDoNotPassForHeaders) {
  HttpClient client(Port());
  const Account account = CreateAccount(client, "trailer-user");
  ASSERT_FALSE(account.token.empty());
  // Authorization only in the chunked body's trailer: the request is anonymous.
  RawConnection raw(Port());
  ASSERT_TRUE(
      raw.Send("GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
               "\r\n0\r\nAuthorization: Bearer " +
               account.token + "\r\n\r\n"));
  const std::string answer = raw.ReadUntil("\r\n\r\n", std::chrono::seconds(20));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 401")) << answer;
}

}  // namespace
}  // namespace integr8scode::testing
