// Accounts against outside attacks, on the real server: the admin name cannot be squatted
// before (or after) an operator configures it, and failed logins from one address never
// lock the right password out from another.
#include <gtest/gtest.h>

#include <string>

#include "support/api_fixture.hpp"

namespace integr8scode::testing {
namespace {

class AccountHardening : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CanRunServer()) GTEST_SKIP() << "the server's sandbox needs root";
    dir_ = std::make_unique<TempDir>("integr8scode-accounts");
    options_.data_dir = dir_->Path() / "data";
  }

  std::unique_ptr<ServerProcess> Start() {
    std::string error;
    auto server = ServerProcess::Start(options_, error);
    EXPECT_NE(server, nullptr) << error;
    return server;
  }

  static HttpResult Register(HttpClient& client, const std::string& username,
                             const std::string& password) {
    return client.PostJson(
        "/api/v1/auth/register",
        boost::json::object{
            {"username", username}, {"email", username + "@example.com"}, {"password", password}});
  }

  static HttpResult LoginFrom(HttpClient& client, const std::string& address,
                              const std::string& username, const std::string& password) {
    return client.PostJson("/api/v1/auth/login",
                           boost::json::object{{"username", username}, {"password", password}},
                           {{"X-Forwarded-For", address}});
  }

  std::unique_ptr<TempDir> dir_;
  ServerOptions options_;
};

TEST_F(AccountHardening, AnAdminNameRegisteredBeforeItWasConfiguredIsNeverPromoted) {
  {
    auto server = Start();
    ASSERT_NE(server, nullptr);
    HttpClient client(server->Port());
    ASSERT_EQ(Register(client, "Admin", "squatter-password").status, 201);
    ASSERT_EQ(server->Terminate(), 0);
  }
  options_.settings = {{"auth.admin_username", "admin"},
                       {"auth.admin_password", "operator-password"}};
  std::string error;
  auto refused = ServerProcess::Start(options_, error);
  ASSERT_EQ(refused, nullptr) << "the server started and made the squatter an admin";
  EXPECT_NE(error.find("auth.admin_username 'admin'"), std::string::npos) << error;
  EXPECT_NE(error.find("registered through the API"), std::string::npos) << error;
}

TEST_F(AccountHardening, TheConfiguredAdminNameCannotBeRegisteredInAnyCase) {
  options_.settings = {{"auth.admin_username", "boss"}, {"auth.admin_password", "boss-password"}};
  auto server = Start();
  ASSERT_NE(server, nullptr);
  HttpClient client(server->Port());
  for (const char* name : {"boss", "BOSS", "Boss"}) {
    const HttpResult refused = Register(client, name, "squatter-password");
    EXPECT_EQ(refused.status, 409) << name << ": " << refused.Describe();
    EXPECT_EQ(Str(refused.Json().at("field")), "username");
  }
  const Account boss = Login(client, "boss", "boss-password");
  const HttpResult me = client.Get("/api/v1/auth/me", boss.Bearer());
  EXPECT_EQ(Str(me.Json().at("role")), "admin") << me.Describe();
}

TEST_F(AccountHardening, FailedLoginsFromOneAddressDoNotLockTheRightPasswordOutElsewhere) {
  options_.settings = {{"server.trust_proxy", "true"},
                       {"auth.admin_username", "admin"},
                       {"auth.admin_password", "admin-password"}};
  auto server = Start();
  ASSERT_NE(server, nullptr);
  HttpClient client(server->Port());
  ASSERT_EQ(Register(client, "victim", "victim-password").status, 201);

  const std::string attacker = "203.0.113.66";
  for (const char* name : {"victim", "admin", "no-such-user"}) {
    for (int i = 1; i <= 6; ++i) {
      const HttpResult failed = LoginFrom(client, attacker, name, "guess-guess");
      // Known and unknown names answer alike: 401 four times, then the lock.
      EXPECT_EQ(failed.status, i < 5 ? 401 : 423) << name << " attempt " << i;
    }
  }
  // The attacker's address is locked out of those names, even with the right password...
  EXPECT_EQ(LoginFrom(client, attacker, "victim", "victim-password").status, 423);
  // ...but from anywhere else the right password works, for the user and the admin.
  EXPECT_EQ(LoginFrom(client, "198.51.100.20", "victim", "victim-password").status, 200);
  EXPECT_EQ(LoginFrom(client, "198.51.100.21", "admin", "admin-password").status, 200);
  // And another name from the attacker's address is not locked by the others' failures.
  ASSERT_EQ(Register(client, "bystander", "bystander-password").status, 201);
  EXPECT_EQ(LoginFrom(client, attacker, "bystander", "bystander-password").status, 200);
}

}  // namespace
}  // namespace integr8scode::testing
