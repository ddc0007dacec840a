#include "api/request_auth.hpp"

#include <gtest/gtest.h>

namespace integr8scode {
namespace {

HttpRequest WithHeaders(std::vector<std::pair<std::string, std::string>> headers) {
  HttpRequest request;
  request.headers = std::move(headers);
  request.peer_address = "10.1.2.3";
  return request;
}

TEST(Credentials, BearerHeaderWinsOverTheCookie) {
  auto credentials = ReadCredentials(WithHeaders(
      {{"authorization", "Bearer abc.def.ghi"}, {"cookie", "integr8scode_session=cookie-token"}}));
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->token, "abc.def.ghi");
  EXPECT_FALSE(credentials->from_cookie);
  credentials = ReadCredentials(WithHeaders({{"authorization", "bearer   x  "}}));
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->token, "x");
}

TEST(Credentials, OtherAuthorizationSchemesAreRefused) {
  for (const char* header : {"Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc"}) {
    auto credentials = ReadCredentials(WithHeaders({{"authorization", header}}));
    ASSERT_FALSE(credentials.has_value()) << header;
    EXPECT_EQ(credentials.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(credentials.error().reason, "invalid_token");
  }
}

TEST(Credentials, SessionCookieIsFoundAmongOthers) {
  auto credentials = ReadCredentials(WithHeaders(
      {{"cookie", "theme=dark; integr8scode_csrf=c; integr8scode_session=tok.en.x; other=1"}}));
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->token, "tok.en.x");
  EXPECT_TRUE(credentials->from_cookie);
  EXPECT_TRUE(ReadCredentials(WithHeaders({{"cookie", "integr8scode_sessionx=1"}}))->token.empty());
  EXPECT_TRUE(ReadCredentials(WithHeaders({}))->token.empty());
}

TEST(ClientAddress, ForwardedForOnlyWhenTheProxyIsTrusted) {
  const HttpRequest request = WithHeaders({{"x-forwarded-for", "203.0.113.9, 198.51.100.7"}});
  EXPECT_EQ(ClientAddress(request, false), "10.1.2.3");
  // The last entry is the one our proxy wrote; earlier ones are the client's claims.
  EXPECT_EQ(ClientAddress(request, true), "198.51.100.7");
  EXPECT_EQ(ClientAddress(WithHeaders({{"x-forwarded-for", "<script>"}}), true), "10.1.2.3");
  EXPECT_EQ(ClientAddress(WithHeaders({{"x-forwarded-for", "2001:db8::1"}}), true), "2001:db8::1");
}

TEST(SessionCookies, HaveTheContractsAttributes) {
  const auto cookies = SessionCookies("tok", "csrf", std::chrono::seconds(3600), false);
  ASSERT_EQ(cookies.size(), 2u);
  EXPECT_EQ(cookies[0],
            "integr8scode_session=tok; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict");
  EXPECT_EQ(cookies[1], "integr8scode_csrf=csrf; Path=/; Max-Age=3600; SameSite=Strict");
  const auto secure = SessionCookies("tok", "csrf", std::chrono::seconds(1), true);
  EXPECT_TRUE(secure[0].ends_with("; Secure"));
  EXPECT_TRUE(secure[1].ends_with("; Secure"));
  const auto cleared = ClearSessionCookies(false);
  EXPECT_NE(cleared[0].find("integr8scode_session=;"), std::string::npos);
  EXPECT_NE(cleared[0].find("Max-Age=0"), std::string::npos);
  EXPECT_NE(cleared[1].find("Max-Age=0"), std::string::npos);
}

}  // namespace
}  // namespace integr8scode
