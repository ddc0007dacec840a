#include "service/auth_service_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/log.hpp"
#include "common/try.hpp"
#include "service/account_rules.hpp"
#include "service/crypto.hpp"
#include "service/jwt.hpp"
#include "service/jwt_secret.hpp"

namespace integr8scode {
namespace {

constexpr std::size_t kMaxListedUsers = 1000;

Error WrongCredentials() {
  return MakeError(ErrorCode::kUnauthenticated, "unauthenticated", "wrong username or password");
}

User WithoutHash(User user) {
  user.password_hash.clear();
  return user;
}

// "in 15 minutes" / "in 40 seconds": how long a lock still holds, rounded up.
std::string Remaining(std::int64_t ms) {
  const std::int64_t seconds = std::max<std::int64_t>(1, (ms + 999) / 1000);
  if (seconds < 120) return fmt::format("{} seconds", seconds);
  return fmt::format("{} minutes", (seconds + 59) / 60);
}

}  // namespace

Result<std::unique_ptr<AuthServiceImpl>> AuthServiceImpl::Create(
    std::shared_ptr<UserStore> users, std::shared_ptr<TokenStore> tokens, AuthOptions options,
    Clock now_ms, std::shared_ptr<SharedLoginAttempts> login_attempts) {
  I8C_TRY(EnsureSodium());
  if (options.token_lifetime.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "auth token lifetime must be positive");
  }
  if (options.lockout_failures < 1) {
    return Fail(ErrorCode::kInvalidArgument, "auth lockout failures must be at least 1");
  }
  std::string secret = options.jwt_secret;
  if (secret.empty()) {
    auto loaded = LoadOrCreateJwtSecret(options.data_dir);
    if (!loaded) return Fail(std::move(loaded.error()).WithContext("JWT secret"));
    secret = std::move(*loaded);
  } else if (secret.size() < kMinJwtSecretBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the JWT secret must be at least {} bytes long", kMinJwtSecretBytes));
  }
  const PasswordHasher hasher(options.password_hash);
  auto dummy = I8C_TRY_VALUE(hasher.Hash(HexEncode(RandomBytes(16))));
  std::unique_ptr<AuthServiceImpl> service(new AuthServiceImpl(
      std::move(users), std::move(tokens), std::move(options), std::move(now_ms), std::move(secret),
      std::move(dummy), std::move(login_attempts)));
  if (auto admin = service->EnsureAdmin(); !admin) {
    return Fail(std::move(admin.error()).WithContext("admin account"));
  }
  return service;
}

AuthServiceImpl::AuthServiceImpl(std::shared_ptr<UserStore> users,
                                 std::shared_ptr<TokenStore> tokens, AuthOptions options,
                                 Clock now_ms, std::string secret, std::string dummy_hash,
                                 std::shared_ptr<SharedLoginAttempts> login_attempts)
    : users_(std::move(users)),
      tokens_(std::move(tokens)),
      options_(std::move(options)),
      now_ms_(std::move(now_ms)),
      secret_(std::move(secret)),
      dummy_hash_(std::move(dummy_hash)),
      hasher_(options_.password_hash),
      throttle_(LoginThrottle::Options{options_.lockout_failures, options_.lockout_duration},
                std::move(login_attempts)) {}

Status AuthServiceImpl::EnsureAdmin() {
  if (options_.admin_username.empty()) return {};
  auto existing = users_->FindByUsername(options_.admin_username);
  if (existing) {
    // An account registered through the API under this name has a password the operator
    // never chose: promoting it would hand admin to whoever registered it first.
    if (existing->role != Role::kAdmin) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("auth.admin_username '{}' names an account registered through the "
                              "API (user id {}), not one this setting created; it is not made an "
                              "admin because its password is not auth.admin_password. Choose "
                              "another auth.admin_username, or delete that account first",
                              options_.admin_username, existing->id));
    }
    if (options_.admin_password.empty() ||
        hasher_.Verify(existing->password_hash, options_.admin_password)) {
      return {};
    }
    // The configured password is the admin's password: a changed setting (or an account
    // promoted by an older version) takes the configured one.
    I8C_TRY(ValidatePassword(options_.admin_password));
    auto hash = I8C_TRY_VALUE(hasher_.Hash(options_.admin_password));
    I8C_TRY(users_->UpdatePasswordHash(existing->id, hash));
    Log(LogLevel::kWarn, "set the configured admin account's password to auth.admin_password",
        {{"username", options_.admin_username}, {"user_id", existing->id}});
    return {};
  }
  if (existing.error().code != ErrorCode::kNotFound) return Fail(std::move(existing.error()));

  I8C_TRY(ValidateUsername(options_.admin_username));
  if (options_.admin_password.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("admin '{}' does not exist yet: an admin password is needed to "
                            "create it",
                            options_.admin_username));
  }
  I8C_TRY(ValidatePassword(options_.admin_password));
  const std::string email = options_.admin_email.empty()
                                ? options_.admin_username + "@admin.invalid"
                                : options_.admin_email;
  I8C_TRY(ValidateEmail(email));
  auto hash = I8C_TRY_VALUE(hasher_.Hash(options_.admin_password));
  User admin;
  admin.username = options_.admin_username;
  admin.email = email;
  admin.password_hash = std::move(hash);
  admin.role = Role::kAdmin;
  admin.created_at_ms = now_ms_();
  auto created = I8C_TRY_VALUE(users_->Create(admin));
  Log(LogLevel::kInfo, "created the configured admin account",
      {{"username", options_.admin_username}, {"user_id", created.id}});
  return {};
}

Result<User> AuthServiceImpl::Register(std::string_view username, std::string_view email,
                                       std::string_view password) {
  I8C_TRY(ValidateUsername(username));
  I8C_TRY(ValidateEmail(email));
  I8C_TRY(ValidatePassword(password));
  auto hash = I8C_TRY_VALUE(hasher_.Hash(password));
  if (IsReserved(username)) {
    // The answer (and, after the hash, the time) of a taken name: a configured name is
    // never a user's, whether or not its account exists yet.
    Error taken = MakeError(ErrorCode::kAlreadyExists,
                            fmt::format("the username '{}' is already taken", username));
    taken.field = "username";
    return Fail(std::move(taken));
  }
  User user;
  user.username = std::string(username);
  user.email = std::string(email);
  user.password_hash = std::move(hash);
  user.role = Role::kUser;
  user.created_at_ms = now_ms_();
  auto created = I8C_TRY_VALUE(users_->Create(user));
  return WithoutHash(std::move(created));
}

bool AuthServiceImpl::IsReserved(std::string_view username) const {
  return !options_.admin_username.empty() && SameUsername(username, options_.admin_username);
}

Error AuthServiceImpl::LockedError(std::int64_t locked_until_ms) const {
  return MakeError(ErrorCode::kLocked, "account_locked",
                   fmt::format("too many failed logins for this account from your address; try "
                               "again in {}",
                               Remaining(locked_until_ms - now_ms_())));
}

Result<LoginResult> AuthServiceImpl::Login(std::string_view username, std::string_view password,
                                           std::string_view source) {
  const std::int64_t now = now_ms_();
  // Before any lookup or hash: a locked pair answers the same for known and unknown names.
  if (auto locked = throttle_.Admit(username, source, now)) return Fail(LockedError(*locked));
  auto found = users_->FindByUsername(username);
  if (!found && found.error().code != ErrorCode::kNotFound) return Fail(std::move(found.error()));
  // Unknown names verify against a dummy hash: the same work, so the same time.
  const bool verified =
      hasher_.Verify(found ? found->password_hash : dummy_hash_, password) && found.has_value();
  if (!verified) {
    if (auto locked = throttle_.RecordFailure(username, source, now)) {
      Log(LogLevel::kWarn, "failed logins: address locked out of an account name",
          {{"client", std::string(source)}});
      return Fail(LockedError(*locked));
    }
    return Fail(WrongCredentials());
  }
  throttle_.RecordSuccess(username, source);
  User user = std::move(*found);
  if (hasher_.NeedsRehash(user.password_hash)) {
    // The configured cost changed since this password was set: upgrade it now, the one
    // moment the password is known. Failing here must not fail the login.
    if (auto rehashed = hasher_.Hash(password)) {
      if (auto stored = users_->UpdatePasswordHash(user.id, *rehashed); !stored) {
        Log(LogLevel::kWarn, "could not store a rehashed password",
            {{"user_id", user.id}, {"error", stored.error().Describe()}});
      }
    }
  }

  TokenClaims claims;
  claims.user_id = user.id;
  claims.role = user.role;
  claims.token_id = Base64UrlEncode(RandomBytes(16));
  claims.issued_at_s = now / 1000;
  claims.expires_at_s = claims.issued_at_s + options_.token_lifetime.count();
  LoginResult result;
  result.access_token = SignJwt(claims, secret_);
  result.csrf_token = CsrfToken(claims.token_id);
  result.expires_in_s = options_.token_lifetime.count();
  result.user = WithoutHash(std::move(user));
  return result;
}

Result<AuthContext> AuthServiceImpl::Authenticate(std::string_view token) {
  auto claims = I8C_TRY_VALUE(VerifyJwt(token, secret_, now_ms_()));
  auto revoked = I8C_TRY_VALUE(tokens_->IsRevoked(claims.token_id));
  if (revoked) {
    return Fail(MakeError(ErrorCode::kUnauthenticated, "invalid_token",
                          "this session was logged out; log in again"));
  }
  AuthContext context;
  context.user_id = claims.user_id;
  context.role = claims.role;
  context.token_id = std::move(claims.token_id);
  context.expires_at_ms = claims.expires_at_s * 1000;
  return context;
}

std::string AuthServiceImpl::CsrfToken(std::string_view token_id) const {
  return Base64UrlEncode(HmacSha256(secret_, "csrf:" + std::string(token_id)));
}

bool AuthServiceImpl::CheckCsrf(const AuthContext& context, std::string_view csrf_token) {
  if (context.token_id.empty() || csrf_token.empty()) return false;
  return ConstantTimeEquals(CsrfToken(context.token_id), csrf_token);
}

Status AuthServiceImpl::Logout(const AuthContext& context) {
  if (context.token_id.empty()) {
    return Fail(MakeError(ErrorCode::kUnauthenticated, "unauthenticated", "not logged in"));
  }
  return tokens_->Revoke(context.token_id, context.expires_at_ms);
}

Result<User> AuthServiceImpl::GetUser(std::int64_t user_id) {
  auto user = I8C_TRY_VALUE(users_->Get(user_id));
  return WithoutHash(std::move(user));
}

Result<std::vector<User>> AuthServiceImpl::ListUsers(std::size_t limit, std::size_t offset) {
  auto users = I8C_TRY_VALUE(users_->List(std::min(limit, kMaxListedUsers), offset));
  for (User& user : users) user.password_hash.clear();
  return users;
}

Result<std::size_t> AuthServiceImpl::CountUsers() { return users_->Count(); }

std::int64_t AuthServiceImpl::TokenLifetimeSeconds() const {
  return options_.token_lifetime.count();
}

Result<std::size_t> AuthServiceImpl::SweepExpiredRevocations() {
  return tokens_->DeleteExpired(now_ms_());
}

Result<std::size_t> AuthServiceImpl::SweepLoginAttempts() {
  return throttle_.SweepShared(now_ms_());
}

}  // namespace integr8scode
