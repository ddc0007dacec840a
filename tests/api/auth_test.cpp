// Authentication and authorisation against a real server: tokens (missing, tampered,
// forged, expired, revoked), the session cookie and its CSRF token, failed-login lockout.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>

#include "support/api_fixture.hpp"
#include "support/jwt_forge.hpp"

namespace integr8scode::testing {
namespace {

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Auth : public ServerSuite {
 protected:
  static void SetUpTestSuite() { StartServer(); }
  static void TearDownTestSuite() { StopServer(); }
};

TEST_F(Auth, MissingTokenOnAProtectedRouteIs401) {
  HttpClient client(Port());
  const HttpResult me = client.Get("/api/v1/auth/me");
  EXPECT_EQ(me.status, 401);
  EXPECT_EQ(Str(me.Json().at("code")), "unauthenticated");
  EXPECT_FALSE(Str(me.Json().at("detail")).empty());
  EXPECT_EQ(me.Header("www-authenticate"), "Bearer realm=\"integr8scode\"");
}

TEST_F(Auth, TamperedTokensAreRefused) {
  HttpClient client(Port());
  const Account alice = CreateAccount(client, "alice");
  ASSERT_EQ(client.Get("/api/v1/auth/me", alice.Bearer()).status, 200);

  std::string flipped = alice.token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  std::string payload_edit = alice.token;
  payload_edit[payload_edit.find('.') + 3] ^= 1;
  for (const std::string& token :
       {flipped, payload_edit, std::string("not.a.jwt"), alice.token + "x",
        alice.token.substr(0, alice.token.rfind('.'))}) {
    const HttpResult me = client.Get("/api/v1/auth/me", {{"Authorization", "Bearer " + token}});
    EXPECT_EQ(me.status, 401) << token;
    EXPECT_EQ(Str(me.Json().at("code")), "invalid_token") << token;
    EXPECT_NE(me.Header("www-authenticate").find("error=\"invalid_token\""), std::string::npos);
  }
  // A bad bearer token is refused even where anonymous calls are allowed: the client
  // meant to be someone.
  const HttpResult anonymous_route =
      client.Get("/api/v1/runtimes", {{"Authorization", "Bearer " + flipped}});
  EXPECT_EQ(anonymous_route.status, 401);
  const HttpResult basic = client.Get("/api/v1/auth/me", {{"Authorization", "Basic YTpi"}});
  EXPECT_EQ(basic.status, 401);
  EXPECT_EQ(Str(basic.Json().at("code")), "invalid_token");
}

TEST_F(Auth, ForgedTokensWithoutTheSecretOrWithAlgNoneAreRefused) {
  HttpClient client(Port());
  const Account bob = CreateAccount(client, "bob");
  const std::string claims =
      fmt::format(R"({{"sub":"{}","role":"admin","jti":"forged","iat":{},"exp":{}}})", bob.id,
                  NowSeconds(), NowSeconds() + 3600);
  const std::string wrong_secret = ForgeJwt(claims, "guessed-secret");
  const std::string alg_none =
      Base64Url(R"({"alg":"none","typ":"JWT"})") + "." + Base64Url(claims) + ".";
  for (const std::string& token : {wrong_secret, alg_none}) {
    const HttpResult stats =
        client.Get("/api/v1/admin/stats", {{"Authorization", "Bearer " + token}});
    EXPECT_EQ(stats.status, 401) << token;
  }
}

TEST_F(Auth, ExpiredTokenSaysSo) {
  HttpClient client(Port());
  const Account carol = CreateAccount(client, "carol");
  // Signed with the server's key (the harness sets it), but past its expiry.
  const std::string expired =
      ForgeJwt(fmt::format(R"({{"sub":"{}","role":"user","jti":"old-session","iat":{},"exp":{}}})",
                           carol.id, NowSeconds() - 7200, NowSeconds() - 3600),
               ServerProcess::kJwtSecret);
  const HttpResult me = client.Get("/api/v1/auth/me", {{"Authorization", "Bearer " + expired}});
  EXPECT_EQ(me.status, 401) << me.Describe();
  EXPECT_EQ(Str(me.Json().at("code")), "token_expired");
  // The same claims, still valid, are accepted: the test's forging matches the server.
  const std::string fresh =
      ForgeJwt(fmt::format(R"({{"sub":"{}","role":"user","jti":"new-session","iat":{},"exp":{}}})",
                           carol.id, NowSeconds(), NowSeconds() + 3600),
               ServerProcess::kJwtSecret);
  EXPECT_EQ(client.Get("/api/v1/auth/me", {{"Authorization", "Bearer " + fresh}}).status, 200);
}

TEST_F(Auth, CookieRequestsNeedTheCsrfTokenForUnsafeMethods) {
  HttpClient client(Port());
  const Account dave = CreateAccount(client, "dave");
  const boost::json::object draft{
      {"name", "n"}, {"lang", "python"}, {"lang_version", "3.11"}, {"script", "1"}};

  // Reads need no CSRF token.
  const HttpResult me = client.Get("/api/v1/auth/me", dave.Cookie(false));
  ASSERT_EQ(me.status, 200) << me.Describe();

  const HttpResult without = client.PostJson("/api/v1/scripts", draft, dave.Cookie(false));
  EXPECT_EQ(without.status, 403);
  EXPECT_EQ(Str(without.Json().at("code")), "csrf_failed");

  Headers wrong = dave.Cookie(false);
  wrong.emplace_back("X-CSRF-Token", "not-the-token");
  EXPECT_EQ(client.PostJson("/api/v1/scripts", draft, wrong).status, 403);

  const HttpResult with = client.PostJson("/api/v1/scripts", draft, dave.Cookie(true));
  ASSERT_EQ(with.status, 201) << with.Describe();
  const std::string id = Str(with.Json().at("id"));
  EXPECT_EQ(client.Delete("/api/v1/scripts/" + id, dave.Cookie(false)).status, 403);
  EXPECT_EQ(client.Delete("/api/v1/scripts/" + id, dave.Cookie(true)).status, 204);

  // An execution submitted by cookie without the token is refused, not run anonymously.
  const HttpResult execute = Submit(client, "print(1)", dave.Cookie(false));
  EXPECT_EQ(execute.status, 403);
  // Bearer clients need no CSRF token.
  EXPECT_EQ(client.PostJson("/api/v1/scripts", draft, dave.Bearer()).status, 201);
}

TEST_F(Auth, StaleCookieIsClearedAndTheRequestGoesOnAnonymously) {
  HttpClient client(Port());
  const Headers stale = {{"Cookie", "integr8scode_session=expired.or.forged"}};
  const HttpResult runtimes = client.Get("/api/v1/runtimes", stale);
  EXPECT_EQ(runtimes.status, 200);
  const std::vector<std::string> cleared = runtimes.AllHeaders("set-cookie");
  ASSERT_EQ(cleared.size(), 2u);
  EXPECT_NE(cleared[0].find("integr8scode_session=;"), std::string::npos);
  EXPECT_NE(cleared[0].find("Max-Age=0"), std::string::npos);
  // Where an account is needed, it is a 401 (with the cookies cleared too).
  const HttpResult me = client.Get("/api/v1/auth/me", stale);
  EXPECT_EQ(me.status, 401);
  EXPECT_EQ(me.AllHeaders("set-cookie").size(), 2u);
  // Logging in works with a stale cookie present.
  HttpClient other(Port());
  CreateAccount(other, "erin");
  const HttpResult login = client.PostJson(
      "/api/v1/auth/login",
      boost::json::object{{"username", "erin"}, {"password", "password-erin"}}, stale);
  EXPECT_EQ(login.status, 200) << login.Describe();
}

TEST_F(Auth, LogoutRevokesTheTokenAndClearsCookies) {
  HttpClient client(Port());
  const Account frank = CreateAccount(client, "frank");
  const HttpResult logout = client.Request("POST", "/api/v1/auth/logout", {}, frank.Cookie(true));
  ASSERT_EQ(logout.status, 204) << logout.Describe();
  EXPECT_EQ(logout.AllHeaders("set-cookie").size(), 2u);
  EXPECT_EQ(client.Get("/api/v1/auth/me", frank.Bearer()).status, 401);
  // Logging out twice, or anonymously, is harmless.
  EXPECT_EQ(client.Request("POST", "/api/v1/auth/logout").status, 204);
}

TEST_F(Auth, WrongPasswordAndUnknownUserGetTheSameAnswer) {
  HttpClient client(Port());
  CreateAccount(client, "gina");
  const HttpResult wrong = client.PostJson(
      "/api/v1/auth/login", boost::json::object{{"username", "gina"}, {"password", "nope-nope"}});
  const HttpResult unknown = client.PostJson(
      "/api/v1/auth/login",
      boost::json::object{{"username", "nobody-at-all"}, {"password", "nope-nope"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(Str(wrong.Json().at("detail")), Str(unknown.Json().at("detail")));
  EXPECT_EQ(Str(wrong.Json().at("code")), Str(unknown.Json().at("code")));
}

TEST_F(Auth, RepeatedFailuresLockThisAddressOutOfTheAccount) {
  HttpClient client(Port());
  CreateAccount(client, "henry");
  for (int i = 0; i < 5; ++i) {
    const HttpResult failed =
        client.PostJson("/api/v1/auth/login",
                        boost::json::object{{"username", "henry"}, {"password", "wrong-password"}});
    // The fifth failure is the one that locks: it may already say so.
    if (i < 4) {
      ASSERT_EQ(failed.status, 401) << "attempt " << i << ": " << failed.Describe();
    } else {
      ASSERT_TRUE(failed.status == 401 || failed.status == 423) << failed.Describe();
    }
  }
  // This address is locked out of that name now: even the right password is refused,
  // with when to come back (other addresses: tests/api/account_hardening_test.cpp).
  const HttpResult locked =
      client.PostJson("/api/v1/auth/login",
                      boost::json::object{{"username", "henry"}, {"password", "password-henry"}});
  EXPECT_EQ(locked.status, 423) << locked.Describe();
  EXPECT_EQ(Str(locked.Json().at("code")), "account_locked");
  EXPECT_GT(std::stoi(locked.Header("retry-after")), 0);
  // Other accounts are unaffected.
  CreateAccount(client, "irene");
}

TEST_F(Auth, RegistrationRulesAreChecked) {
  HttpClient client(Port());
  const auto attempt = [&](const char* username, const char* email, const char* password) {
    return client.PostJson(
        "/api/v1/auth/register",
        boost::json::object{{"username", username}, {"email", email}, {"password", password}});
  };
  const HttpResult short_password = attempt("jack", "jack@example.com", "short");
  EXPECT_EQ(short_password.status, 422);
  EXPECT_EQ(Str(short_password.Json().at("field")), "password");
  const HttpResult bad_name = attempt("j k", "jk@example.com", "long-enough");
  EXPECT_EQ(bad_name.status, 422);
  EXPECT_EQ(Str(bad_name.Json().at("field")), "username");
  const HttpResult bad_email = attempt("kate", "not-an-email", "long-enough");
  EXPECT_EQ(bad_email.status, 422);
  EXPECT_EQ(Str(bad_email.Json().at("field")), "email");
}

}  // namespace
}  // namespace integr8scode::testing
