#include "service/jwt.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <optional>

#include "service/crypto.hpp"

namespace integr8scode {
namespace {

namespace json = boost::json;

// Far above any token this server issues; refuses junk before it is decoded.
constexpr std::size_t kMaxTokenBytes = 4096;

Error InvalidToken() {
  return MakeError(ErrorCode::kUnauthenticated, "invalid_token",
                   "the access token is not valid; log in again");
}

std::optional<json::object> DecodeJsonObject(std::string_view part) {
  auto bytes = Base64UrlDecode(part);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  json::value value = json::parse(*bytes, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::optional<std::int64_t> IntegerMember(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64() && value->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(value->as_uint64());
  }
  return std::nullopt;
}

std::optional<std::string_view> StringMember(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string_view(value->as_string());
}

}  // namespace

std::string SignJwt(const TokenClaims& claims, std::string_view secret) {
  static const std::string kHeader = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  json::object payload;
  payload["sub"] = std::to_string(claims.user_id);
  payload["role"] = RoleName(claims.role);
  payload["jti"] = claims.token_id;
  payload["iat"] = claims.issued_at_s;
  payload["exp"] = claims.expires_at_s;
  std::string token = kHeader + "." + Base64UrlEncode(json::serialize(payload));
  const std::string signature = HmacSha256(secret, token);
  token += ".";
  token += Base64UrlEncode(signature);
  return token;
}

Result<TokenClaims> VerifyJwt(std::string_view token, std::string_view secret,
                              std::int64_t now_ms) {
  if (token.empty() || token.size() > kMaxTokenBytes) return Fail(InvalidToken());
  const std::size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return Fail(InvalidToken());
  const std::size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Fail(InvalidToken());
  }
  const std::string_view header_part = token.substr(0, dot1);
  const std::string_view payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_part = token.substr(dot2 + 1);

  // The algorithm is fixed by the server, never chosen by the token; a header naming
  // another one (the "alg": "none" attack) is refused before anything else.
  auto header = DecodeJsonObject(header_part);
  if (!header || StringMember(*header, "alg") != "HS256") return Fail(InvalidToken());
  if (header->contains("typ") && StringMember(*header, "typ") != "JWT") return Fail(InvalidToken());

  auto signature = Base64UrlDecode(signature_part);
  if (!signature) return Fail(InvalidToken());
  const std::string expected = HmacSha256(secret, token.substr(0, dot2));
  if (!ConstantTimeEquals(*signature, expected)) return Fail(InvalidToken());

  auto payload = DecodeJsonObject(payload_part);
  if (!payload) return Fail(InvalidToken());
  TokenClaims claims;
  const auto sub = StringMember(*payload, "sub");
  const auto role = StringMember(*payload, "role");
  const auto jti = StringMember(*payload, "jti");
  const auto iat = IntegerMember(*payload, "iat");
  const auto exp = IntegerMember(*payload, "exp");
  if (!sub || !role || !jti || jti->empty() || !iat || !exp) return Fail(InvalidToken());
  const auto [end, ec] = std::from_chars(sub->data(), sub->data() + sub->size(), claims.user_id);
  if (ec != std::errc() || end != sub->data() + sub->size() || claims.user_id <= 0) {
    return Fail(InvalidToken());
  }
  const auto parsed_role = ParseRole(*role);
  if (!parsed_role) return Fail(InvalidToken());
  claims.role = *parsed_role;
  claims.token_id = std::string(*jti);
  claims.issued_at_s = *iat;
  claims.expires_at_s = *exp;
  if (*exp > INT64_MAX / 1000 || now_ms >= *exp * 1000) {
    return Fail(MakeError(ErrorCode::kUnauthenticated, "token_expired",
                          "the session has expired; log in again"));
  }
  return claims;
}

}  // namespace integr8scode
