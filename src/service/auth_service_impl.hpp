#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/error.hpp"
#include "domain/stores.hpp"
#include "service/auth_service.hpp"
#include "service/login_throttle.hpp"
#include "service/password_hasher.hpp"
#include "service/services.hpp"

namespace integr8scode {

// AuthService over the UserStore and TokenStore: Argon2id passwords, HS256 access tokens
// with revocation, CSRF tokens bound to a token's id, failed logins throttled per (username,
// client address) (LoginThrottle).
// Users it returns never carry the password hash. Thread-safe.
class AuthServiceImpl final : public AuthService {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix ms

  // Resolves the signing key (options.jwt_secret, else <data_dir>/jwt_secret) and ensures
  // the admin account of the options: created if missing, its password set to the
  // configured one if it differs. kInvalidArgument for bad options (a secret shorter than
  // 32 bytes, an admin without password, an admin name already taken by a registered
  // user); store errors as they come.
  // `login_attempts` given: failed logins are counted in the database with every other
  // API replica (LoginThrottle).
  static Result<std::unique_ptr<AuthServiceImpl>> Create(
      std::shared_ptr<UserStore> users, std::shared_ptr<TokenStore> tokens, AuthOptions options,
      Clock now_ms, std::shared_ptr<SharedLoginAttempts> login_attempts = nullptr);

  Result<User> Register(std::string_view username, std::string_view email,
                        std::string_view password) override;
  Result<LoginResult> Login(std::string_view username, std::string_view password,
                            std::string_view source) override;
  Result<AuthContext> Authenticate(std::string_view token) override;
  bool CheckCsrf(const AuthContext& context, std::string_view csrf_token) override;
  Status Logout(const AuthContext& context) override;
  Result<User> GetUser(std::int64_t user_id) override;
  Result<std::vector<User>> ListUsers(std::size_t limit, std::size_t offset) override;
  Result<std::size_t> CountUsers() override;
  std::int64_t TokenLifetimeSeconds() const override;

  // Deletes revocation records of tokens that have expired anyway.
  Result<std::size_t> SweepExpiredRevocations();
  // Deletes shared failed-login records that would start again anyway.
  Result<std::size_t> SweepLoginAttempts();

 private:
  AuthServiceImpl(std::shared_ptr<UserStore> users, std::shared_ptr<TokenStore> tokens,
                  AuthOptions options, Clock now_ms, std::string secret, std::string dummy_hash,
                  std::shared_ptr<SharedLoginAttempts> login_attempts);
  Status EnsureAdmin();
  // The configured admin's name, in any case: never open to registration.
  bool IsReserved(std::string_view username) const;
  std::string CsrfToken(std::string_view token_id) const;
  Error LockedError(std::int64_t locked_until_ms) const;

  std::shared_ptr<UserStore> users_;
  std::shared_ptr<TokenStore> tokens_;
  const AuthOptions options_;
  const Clock now_ms_;
  const std::string secret_;
  // A hash of a random password, verified against for unknown usernames so that they
  // take as long as wrong passwords and reveal nothing.
  const std::string dummy_hash_;
  const PasswordHasher hasher_;
  LoginThrottle throttle_;
};

}  // namespace integr8scode
