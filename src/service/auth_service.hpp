#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "domain/user.hpp"

namespace integr8scode {

struct LoginResult {
  std::string access_token;  // JWT HS256
  std::string csrf_token;    // for cookie-authenticated browser requests
  std::int64_t expires_in_s = 0;
  User user;
};

// A verified token: who it is for and what it allows.
struct AuthContext {
  std::int64_t user_id = 0;
  Role role = Role::kUser;
  std::string token_id;  // jti, for logout/revocation
  std::int64_t expires_at_ms = 0;
};

// Accounts and tokens. Thread-safe. Password hashing (Argon2id) is slow on purpose:
// call from a thread that may block ~0.1 s.
class AuthService {
 public:
  virtual ~AuthService() = default;
  // kInvalidArgument (field set) for a bad username/email/password; kAlreadyExists.
  virtual Result<User> Register(std::string_view username, std::string_view email,
                                std::string_view password) = 0;
  // `source` is the client's address. kUnauthenticated for a wrong username or password
  // (same message and the same work for both); kLocked (message says for how long) after
  // too many failures for this username from this source — known or not, and never
  // for other sources.
  virtual Result<LoginResult> Login(std::string_view username, std::string_view password,
                                    std::string_view source) = 0;
  // Verifies signature, expiry and revocation. kUnauthenticated with reason
  // "token_expired" or "invalid_token".
  virtual Result<AuthContext> Authenticate(std::string_view token) = 0;
  // The CSRF token bound to a session token (same value Login returned).
  virtual bool CheckCsrf(const AuthContext& context, std::string_view csrf_token) = 0;
  virtual Status Logout(const AuthContext& context) = 0;
  virtual Result<User> GetUser(std::int64_t user_id) = 0;
  virtual Result<std::vector<User>> ListUsers(std::size_t limit, std::size_t offset) = 0;
  virtual Result<std::size_t> CountUsers() = 0;
  virtual std::int64_t TokenLifetimeSeconds() const = 0;
};

}  // namespace integr8scode
