// The connection level: TLS with the same routes, header and idle timeouts.
#include <gtest/gtest.h>

#include <thread>

#include "support/api_fixture.hpp"
#include "support/tls_files.hpp"

namespace integr8scode::testing {
namespace {

class Tls : public ServerSuite {
 protected:
  static void SetUpTestSuite() {
    if (!CanRunServer()) return;
    certificates_ = std::make_unique<TempDir>("integr8scode-tls");
    if (!WriteSelfSignedCertificate(certificates_->Path())) {
      start_error_ = "cannot make a test certificate";
      return;
    }
    StartServer({{"server.tls_cert", (certificates_->Path() / "cert.pem").string()},
                 {"server.tls_key", (certificates_->Path() / "key.pem").string()}});
  }
  static void TearDownTestSuite() {
    StopServer();
    certificates_.reset();
  }
  static std::unique_ptr<TempDir> certificates_;
};
std::unique_ptr<TempDir> Tls::certificates_;

TEST_F(Tls, ServesTheApiOverHttpsWithSecureCookies) {
  HttpClient client(Port(), true);
  const HttpResult ready = client.Get("/api/v1/health/ready");
  ASSERT_EQ(ready.status, 200) << ready.Describe();
  const HttpResult run = Submit(client, "print('over tls')", {}, "?wait=true");
  ASSERT_EQ(run.status, 200) << run.Describe();
  EXPECT_EQ(Str(run.Json().at("stdout")), "over tls\n");

  ASSERT_EQ(
      client
          .PostJson("/api/v1/auth/register", boost::json::object{{"username", "tls-user"},
                                                                 {"email", "tls@example.com"},
                                                                 {"password", "password-tls"}})
          .status,
      201);
  const HttpResult login =
      client.PostJson("/api/v1/auth/login",
                      boost::json::object{{"username", "tls-user"}, {"password", "password-tls"}});
  ASSERT_EQ(login.status, 200);
  for (const std::string& cookie : login.AllHeaders("set-cookie")) {
    EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.Get("/api/v1/health/live").status, 200);
  EXPECT_EQ(client.Connections(), 1);
}

TEST_F(Tls, PlainHttpIsNotServed) {
  HttpClient plain(Port(), false);
  EXPECT_NE(plain.Get("/api/v1/health/live").status, 200);
  HttpClient client(Port(), true);
  EXPECT_EQ(client.Get("/api/v1/health/live").status, 200);
}

class Timeouts : public ServerSuite {
 protected:
  static void SetUpTestSuite() {
    StartServer({{"server.header_timeout", "300ms"}, {"server.idle_timeout", "400ms"}});
  }
  static void TearDownTestSuite() { StopServer(); }
};

TEST_F(Timeouts, SlowHeadersAreCutOff) {
  RawConnection slow(Port());
  ASSERT_TRUE(slow.Send("GET /api/v1/health/live HTTP/1.1\r\nHost:"));
  // The rest never comes: the server must close the connection by itself.
  while (!slow.Closed()) {
    if (slow.ReadSome(std::chrono::seconds(30)).empty() && !slow.Closed()) break;
  }
  EXPECT_TRUE(slow.Closed());
  EXPECT_EQ(slow.Received().find("200 OK"), std::string::npos);
  HttpClient client(Port());
  EXPECT_EQ(client.Get("/api/v1/health/live").status, 200);
}

TEST_F(Timeouts, IdleKeepAliveConnectionsAreClosed) {
  RawConnection idle(Port());
  ASSERT_TRUE(idle.Send("GET /api/v1/health/live HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string answer = idle.ReadUntil("{\"status\":\"ok\"}", std::chrono::seconds(10));
  ASSERT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
  while (!idle.Closed()) {
    if (idle.ReadSome(std::chrono::seconds(30)).empty() && !idle.Closed()) break;
  }
  EXPECT_TRUE(idle.Closed());
}

TEST_F(Timeouts, ALongRunningWaitIsNotCutByTheIdleTimeout) {
  // The idle timeout bounds silence from the client, not the server's own work.
  HttpClient client(Port());
  const HttpResult run =
      Submit(client, "import time\ntime.sleep(1)\nprint('slept')", {}, "?wait=true");
  ASSERT_EQ(run.status, 200) << run.Describe();
  EXPECT_EQ(Str(run.Json().at("stdout")), "slept\n") << run.body;
}

}  // namespace
}  // namespace integr8scode::testing
