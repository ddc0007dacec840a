// AuthService over real SQLite user and token stores, with a clock the test moves.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>

#include "service/auth_service_impl.hpp"
#include "service/password_hasher.hpp"
#include "test_support.hpp"

namespace integr8scode {
namespace {

using namespace std::chrono_literals;

// Client addresses logins come from.
constexpr std::string_view kHere = "192.0.2.1";
constexpr std::string_view kElsewhere = "198.51.100.7";

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stores_ = testing::OpenSqliteStores(dir_.Path());
    options_.data_dir = dir_.Path() / "data";
    options_.password_hash = PasswordHashCost::Min();
    options_.token_lifetime = 1h;
  }

  std::unique_ptr<AuthServiceImpl> Make(const AuthOptions& options) {
    auto auth = AuthServiceImpl::Create(stores_.users, stores_.tokens, options, clock_.Fn());
    EXPECT_TRUE(auth) << auth.error().Describe();
    return auth ? std::move(*auth) : nullptr;
  }
  AuthServiceImpl& Auth() {
    if (!auth_) auth_ = Make(options_);
    return *auth_;
  }
  User Register(const std::string& name, const std::string& password = "password123") {
    auto user = Auth().Register(name, name + "@example.org", password);
    EXPECT_TRUE(user) << user.error().Describe();
    return user ? *user : User{};
  }
  LoginResult Login(const std::string& name, const std::string& password = "password123") {
    auto login = Auth().Login(name, password, kHere);
    EXPECT_TRUE(login) << login.error().Describe();
    return login ? *login : LoginResult{};
  }

  testing::TempDir dir_;
  testing::ManualClock clock_;
  Stores stores_;
  AuthOptions options_;
  std::unique_ptr<AuthServiceImpl> auth_;
};

TEST_F(AuthServiceTest, RegisterStoresAnArgon2idHashButNeverReturnsIt) {
  const User user = Register("ada");
  EXPECT_GT(user.id, 0);
  EXPECT_EQ(user.username, "ada");
  EXPECT_EQ(user.role, Role::kUser);
  EXPECT_TRUE(user.password_hash.empty());
  auto stored = stores_.users->Get(user.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->password_hash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(stored->password_hash.find("password123"), std::string::npos);
  EXPECT_EQ(stored->created_at_ms, clock_.Now());
}

TEST_F(AuthServiceTest, RegisterRejectsBadFieldsAndTakenNames) {
  Register("ada");
  auto taken = Auth().Register("ADA", "other@example.org", "password123");
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);
  for (auto [username, email, password, field] :
       {std::tuple{"x", "x@example.org", "password123", "username"},
        std::tuple{"grace", "not-an-email", "password123", "email"},
        std::tuple{"grace", "grace@example.org", "short", "password"}}) {
    auto refused = Auth().Register(username, email, password);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(refused.error().field, field);
  }
}

TEST_F(AuthServiceTest, LoginIssuesATokenThatAuthenticates) {
  const User user = Register("ada");
  const LoginResult login = Login("ada");
  EXPECT_EQ(login.user.id, user.id);
  EXPECT_TRUE(login.user.password_hash.empty());
  EXPECT_EQ(login.expires_in_s, 3600);
  auto context = Auth().Authenticate(login.access_token);
  ASSERT_TRUE(context) << context.error().Describe();
  EXPECT_EQ(context->user_id, user.id);
  EXPECT_EQ(context->role, Role::kUser);
  EXPECT_FALSE(context->token_id.empty());
  EXPECT_EQ(context->expires_at_ms, (clock_.Now() / 1000 + 3600) * 1000);
}

TEST_F(AuthServiceTest, WrongPasswordAndUnknownUserGetTheSameAnswer) {
  Register("ada");
  auto wrong = Auth().Login("ada", "password124", kHere);
  auto unknown = Auth().Login("nobody", "password123", kHere);
  ASSERT_FALSE(wrong);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(unknown.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(wrong.error().message, unknown.error().message);
  EXPECT_EQ(wrong.error().reason, unknown.error().reason);
}

TEST_F(AuthServiceTest, FiveFailuresLockOneAddressOutOfOneNameUntilTheTimePasses) {
  const User user = Register("ada");
  for (int i = 1; i <= 4; ++i) {
    auto failed = Auth().Login("ada", "wrong-password", kHere);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::kUnauthenticated) << "attempt " << i;
  }
  auto fifth = Auth().Login("ada", "wrong-password", kHere);
  ASSERT_FALSE(fifth);
  EXPECT_EQ(fifth.error().code, ErrorCode::kLocked);
  EXPECT_EQ(fifth.error().reason, "account_locked");

  // From that address even the right password waits, and the message says how long.
  clock_.Advance(14min);
  auto still_locked = Auth().Login("ADA", "password123", kHere);
  ASSERT_FALSE(still_locked);
  EXPECT_EQ(still_locked.error().code, ErrorCode::kLocked);
  EXPECT_NE(still_locked.error().message.find("60 seconds"), std::string::npos)
      << still_locked.error().message;

  clock_.Advance(1min);
  auto login = Auth().Login("ada", "password123", kHere);
  ASSERT_TRUE(login) << login.error().Describe();
  EXPECT_EQ(login->user.id, user.id);
}

TEST_F(AuthServiceTest, AThirdPartyCannotLockTheRightPasswordOut) {
  const User victim = Register("ada");
  const User admin = Register("grace");
  ASSERT_TRUE(stores_.users->UpdateRole(admin.id, Role::kAdmin));
  for (const char* name : {"ada", "grace"}) {
    for (int i = 0; i < 20; ++i) ASSERT_FALSE(Auth().Login(name, "wrong-password", kElsewhere));
    ASSERT_EQ(Auth().Login(name, "wrong-password", kElsewhere).error().code, ErrorCode::kLocked);
  }
  auto victim_login = Auth().Login("ada", "password123", kHere);
  EXPECT_TRUE(victim_login) << victim_login.error().Describe();
  auto admin_login = Auth().Login("grace", "password123", kHere);
  EXPECT_TRUE(admin_login) << admin_login.error().Describe();
  // And nothing of the attack is kept on the account itself.
  auto stored = stores_.users->Get(victim.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->failed_logins, 0);
  EXPECT_FALSE(stored->locked_until_ms.has_value());
}

TEST_F(AuthServiceTest, KnownAndUnknownNamesGetTheSameAnswersAllTheWayToTheLock) {
  Register("ada");
  for (int i = 1; i <= 7; ++i) {
    auto known = Auth().Login("ada", "wrong-password", kHere);
    auto unknown = Auth().Login("nobody", "wrong-password", kHere);
    ASSERT_FALSE(known);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(known.error().code, unknown.error().code) << "attempt " << i;
    EXPECT_EQ(known.error().reason, unknown.error().reason) << "attempt " << i;
    EXPECT_EQ(known.error().message, unknown.error().message) << "attempt " << i;
    EXPECT_EQ(known.error().code, i < 5 ? ErrorCode::kUnauthenticated : ErrorCode::kLocked)
        << "attempt " << i;
  }
}

TEST_F(AuthServiceTest, AfterALockExpiresOneMoreFailureDoesNotRelockAtOnce) {
  Register("ada");
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(Auth().Login("ada", "wrong-password", kHere));
  clock_.Advance(15min);
  auto failed = Auth().Login("ada", "wrong-password", kHere);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kUnauthenticated);
  EXPECT_TRUE(Auth().Login("ada", "password123", kHere));
}

TEST_F(AuthServiceTest, ASuccessResetsTheFailureCount) {
  Register("ada");
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(Auth().Login("ada", "wrong-password", kHere));
  Login("ada");
  for (int i = 0; i < 4; ++i) {
    auto failed = Auth().Login("ada", "wrong-password", kHere);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::kUnauthenticated);
  }
}

TEST_F(AuthServiceTest, LockoutIsConfigurable) {
  options_.lockout_failures = 2;
  options_.lockout_duration = 30s;
  Register("ada");
  ASSERT_EQ(Auth().Login("ada", "wrong-password", kHere).error().code, ErrorCode::kUnauthenticated);
  ASSERT_EQ(Auth().Login("ada", "wrong-password", kHere).error().code, ErrorCode::kLocked);
  clock_.Advance(30s);
  EXPECT_TRUE(Auth().Login("ada", "password123", kHere));
}

TEST_F(AuthServiceTest, TokensExpire) {
  Register("ada");
  const LoginResult login = Login("ada");
  clock_.Advance(59min);
  EXPECT_TRUE(Auth().Authenticate(login.access_token));
  clock_.Advance(1min);
  auto expired = Auth().Authenticate(login.access_token);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(expired.error().reason, "token_expired");
}

TEST_F(AuthServiceTest, LogoutRevokesTheToken) {
  Register("ada");
  const LoginResult first = Login("ada");
  const LoginResult second = Login("ada");
  auto context = Auth().Authenticate(first.access_token);
  ASSERT_TRUE(context);
  ASSERT_TRUE(Auth().Logout(*context));
  auto revoked = Auth().Authenticate(first.access_token);
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().reason, "invalid_token");
  EXPECT_TRUE(Auth().Authenticate(second.access_token));  // other sessions live on

  // Once expired anyway, the revocation record may go.
  clock_.Advance(2h);
  auto swept = Auth().SweepExpiredRevocations();
  ASSERT_TRUE(swept);
  EXPECT_EQ(*swept, 1u);
}

TEST_F(AuthServiceTest, TamperedTokensAreRejected) {
  Register("ada");
  const LoginResult login = Login("ada");
  std::string tampered = login.access_token;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  auto refused = Auth().Authenticate(tampered);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, "invalid_token");
  EXPECT_FALSE(Auth().Authenticate(""));
  EXPECT_FALSE(Auth().Authenticate("Bearer " + login.access_token));
}

TEST_F(AuthServiceTest, TokenFromAnotherSecretIsRejected) {
  Register("ada");
  AuthOptions other = options_;
  other.jwt_secret = std::string(40, 'o');
  auto foreign = Make(other);
  ASSERT_NE(foreign, nullptr);
  auto login = foreign->Login("ada", "password123", kHere);
  ASSERT_TRUE(login);
  auto refused = Auth().Authenticate(login->access_token);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, "invalid_token");
}

TEST_F(AuthServiceTest, SecretIsKeptPrivatelyInTheDataDirAndReusedOnRestart) {
  Register("ada");
  const LoginResult login = Login("ada");
  struct stat st {};
  ASSERT_EQ(::stat((options_.data_dir / "jwt_secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auth_.reset();  // "restart"
  auto context = Auth().Authenticate(login.access_token);
  EXPECT_TRUE(context) << context.error().Describe();
}

TEST_F(AuthServiceTest, ConfiguredSecretMustBeLongEnough) {
  options_.jwt_secret = "too-short";
  auto refused = AuthServiceImpl::Create(stores_.users, stores_.tokens, options_, clock_.Fn());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(AuthServiceTest, CsrfTokenIsBoundToItsSession) {
  Register("ada");
  const LoginResult first = Login("ada");
  const LoginResult second = Login("ada");
  auto context = Auth().Authenticate(first.access_token);
  ASSERT_TRUE(context);
  EXPECT_TRUE(Auth().CheckCsrf(*context, first.csrf_token));
  EXPECT_FALSE(Auth().CheckCsrf(*context, second.csrf_token));
  EXPECT_FALSE(Auth().CheckCsrf(*context, ""));
  EXPECT_FALSE(Auth().CheckCsrf(*context, first.csrf_token + "x"));
  EXPECT_NE(first.csrf_token, first.access_token);
}

TEST_F(AuthServiceTest, ConfiguredAdminIsCreated) {
  options_.admin_username = "root-admin";
  options_.admin_password = "admin-password";
  auto admin = Auth().Login("root-admin", "admin-password", kHere);
  ASSERT_TRUE(admin) << admin.error().Describe();
  EXPECT_EQ(admin->user.role, Role::kAdmin);
  auto context = Auth().Authenticate(admin->access_token);
  ASSERT_TRUE(context);
  EXPECT_EQ(context->role, Role::kAdmin);
  auth_.reset();
  EXPECT_TRUE(Auth().Login("root-admin", "admin-password", kHere));  // a restart keeps one admin
  auto count = Auth().CountUsers();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 1u);
}

TEST_F(AuthServiceTest, ARegisteredUserIsNeverPromotedToTheConfiguredAdmin) {
  // Someone registers the name before the operator configures it, with their own password.
  const User squatter = Register("Admin", "squatter-password");
  auth_.reset();
  options_.admin_username = "admin";
  options_.admin_password = "operator-password";
  auto refused = AuthServiceImpl::Create(stores_.users, stores_.tokens, options_, clock_.Fn());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("auth.admin_username 'admin'"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("registered through the API"), std::string::npos)
      << refused.error().message;
  auto stored = stores_.users->Get(squatter.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->role, Role::kUser);
}

TEST_F(AuthServiceTest, TheConfiguredAdminNameIsReservedInAnyCase) {
  options_.admin_username = "root-admin";
  options_.admin_password = "admin-password";
  for (const char* name : {"root-admin", "ROOT-ADMIN", "Root-Admin"}) {
    auto refused = Auth().Register(name, "x@example.org", "password123");
    ASSERT_FALSE(refused) << name;
    EXPECT_EQ(refused.error().code, ErrorCode::kAlreadyExists) << name;
    EXPECT_EQ(refused.error().field, "username") << name;
  }
  EXPECT_TRUE(Auth().Register("root-admin2", "y@example.org", "password123"));
}

TEST_F(AuthServiceTest, TheAdminAlwaysHasTheConfiguredPassword) {
  options_.admin_username = "root-admin";
  options_.admin_password = "first-password";
  ASSERT_TRUE(Auth().Login("root-admin", "first-password", kHere));
  auth_.reset();
  options_.admin_password = "second-password";
  EXPECT_TRUE(Auth().Login("root-admin", "second-password", kHere));
  EXPECT_FALSE(Auth().Login("root-admin", "first-password", kHere));
}

TEST_F(AuthServiceTest, AnAdminWithAnotherPasswordGetsTheConfiguredOne) {
  // As an older version left it: a registered user promoted, keeping its own password.
  const User promoted = Register("grace", "grace-own-password");
  ASSERT_TRUE(stores_.users->UpdateRole(promoted.id, Role::kAdmin));
  auth_.reset();
  options_.admin_username = "grace";
  options_.admin_password = "operator-password";
  EXPECT_FALSE(Auth().Login("grace", "grace-own-password", kHere));
  auto admin = Auth().Login("grace", "operator-password", kHere);
  ASSERT_TRUE(admin) << admin.error().Describe();
  EXPECT_EQ(admin->user.role, Role::kAdmin);
  EXPECT_EQ(admin->user.id, promoted.id);
}

TEST_F(AuthServiceTest, MissingAdminNeedsAPassword) {
  options_.admin_username = "root-admin";
  auto refused = AuthServiceImpl::Create(stores_.users, stores_.tokens, options_, clock_.Fn());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(AuthServiceTest, PasswordIsRehashedWhenTheCostChanges) {
  const User user = Register("ada");
  const std::string before = stores_.users->Get(user.id)->password_hash;
  auth_.reset();
  options_.password_hash = PasswordHashCost{2, 1u << 20};
  Login("ada");
  const std::string after = stores_.users->Get(user.id)->password_hash;
  EXPECT_NE(before, after);
  EXPECT_FALSE(PasswordHasher(options_.password_hash).NeedsRehash(after));
  Login("ada");  // and the new hash verifies
}

TEST_F(AuthServiceTest, ListingUsersNeverShowsHashes) {
  Register("ada");
  Register("grace");
  auto users = Auth().ListUsers(10, 0);
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 2u);
  for (const User& user : *users) EXPECT_TRUE(user.password_hash.empty());
  auto count = Auth().CountUsers();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 2u);
}

}  // namespace
}  // namespace integr8scode
