#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "domain/user.hpp"

namespace integr8scode {

// The claims of an access token.
struct TokenClaims {
  std::int64_t user_id = 0;       // "sub", as a decimal string
  Role role = Role::kUser;        // "role"
  std::string token_id;           // "jti"
  std::int64_t issued_at_s = 0;   // "iat", Unix seconds
  std::int64_t expires_at_s = 0;  // "exp", Unix seconds

  friend bool operator==(const TokenClaims&, const TokenClaims&) = default;
};

// A compact JWS (RFC 7515/7519): base64url(header).base64url(payload).base64url(HMAC-SHA-256
// over the first two parts), no padding, header {"alg":"HS256","typ":"JWT"}.
std::string SignJwt(const TokenClaims& claims, std::string_view secret);

// Checks, in this order: the shape, the header (alg must be HS256: "none" and every
// other algorithm are refused), the signature (constant-time), the claims, the expiry.
// Fails with kUnauthenticated, reason "invalid_token" or, for a genuine token past its
// "exp", "token_expired". Never says which part of a forged token was wrong.
Result<TokenClaims> VerifyJwt(std::string_view token, std::string_view secret, std::int64_t now_ms);

}  // namespace integr8scode
