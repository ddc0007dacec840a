#include "service/jwt.hpp"

#include <gtest/gtest.h>

#include <string>

#include "service/crypto.hpp"

namespace integr8scode {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";
constexpr std::int64_t kNowMs = 1'800'000'000'000;

TokenClaims Claims() {
  TokenClaims claims;
  claims.user_id = 42;
  claims.role = Role::kUser;
  claims.token_id = "jti-123";
  claims.issued_at_s = kNowMs / 1000;
  claims.expires_at_s = kNowMs / 1000 + 3600;
  return claims;
}

struct Parts {
  std::string header, payload, signature;
};

Parts Split(const std::string& token) {
  const auto a = token.find('.');
  const auto b = token.find('.', a + 1);
  return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}

void ExpectReason(const Result<TokenClaims>& result, std::string_view reason) {
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(result.error().reason, reason);
}

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(EnsureSodium()); }
};

TEST_F(JwtTest, SignedTokenVerifies) {
  const std::string token = SignJwt(Claims(), kSecret);
  auto verified = VerifyJwt(token, kSecret, kNowMs);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(*verified, Claims());
}

TEST_F(JwtTest, HeaderNamesHs256) {
  const Parts parts = Split(SignJwt(Claims(), kSecret));
  EXPECT_EQ(*Base64UrlDecode(parts.header), R"({"alg":"HS256","typ":"JWT"})");
  EXPECT_EQ(parts.header.find('='), std::string::npos);
  EXPECT_EQ(parts.signature.size(), 43u);  // 32 bytes, unpadded
}

TEST_F(JwtTest, TamperedPayloadIsRejected) {
  Parts parts = Split(SignJwt(Claims(), kSecret));
  std::string payload = *Base64UrlDecode(parts.payload);
  const auto at = payload.find("\"user\"");
  ASSERT_NE(at, std::string::npos);
  payload.replace(at, 6, "\"admin\"");
  const std::string forged = parts.header + "." + Base64UrlEncode(payload) + "." + parts.signature;
  ExpectReason(VerifyJwt(forged, kSecret, kNowMs), "invalid_token");
}

TEST_F(JwtTest, TamperedSignatureIsRejected) {
  Parts parts = Split(SignJwt(Claims(), kSecret));
  std::string signature = *Base64UrlDecode(parts.signature);
  signature[0] = static_cast<char>(signature[0] ^ 1);
  const std::string forged = parts.header + "." + parts.payload + "." + Base64UrlEncode(signature);
  ExpectReason(VerifyJwt(forged, kSecret, kNowMs), "invalid_token");
}

TEST_F(JwtTest, AlgNoneIsRejected) {
  const Parts parts = Split(SignJwt(Claims(), kSecret));
  const std::string none_header = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})");
  ExpectReason(VerifyJwt(none_header + "." + parts.payload + ".", kSecret, kNowMs),
               "invalid_token");
  // Even with a signature that would be valid for the HS256 header's bytes.
  const std::string resigned_input = none_header + "." + parts.payload;
  ExpectReason(
      VerifyJwt(resigned_input + "." + Base64UrlEncode(HmacSha256(kSecret, resigned_input)),
                kSecret, kNowMs),
      "invalid_token");
}

TEST_F(JwtTest, OtherAlgorithmsAreRejectedEvenWhenCorrectlySigned) {
  const Parts parts = Split(SignJwt(Claims(), kSecret));
  for (const char* header : {R"({"alg":"HS512","typ":"JWT"})", R"({"alg":"RS256"})",
                             R"({"alg":"hs256"})", R"({"typ":"JWT"})", R"({"alg":["HS256"]})"}) {
    const std::string input = Base64UrlEncode(header) + "." + parts.payload;
    const std::string token = input + "." + Base64UrlEncode(HmacSha256(kSecret, input));
    ExpectReason(VerifyJwt(token, kSecret, kNowMs), "invalid_token");
  }
}

TEST_F(JwtTest, ExpiredTokenSaysSo) {
  const std::string token = SignJwt(Claims(), kSecret);
  const std::int64_t expiry_ms = Claims().expires_at_s * 1000;
  EXPECT_TRUE(VerifyJwt(token, kSecret, expiry_ms - 1));
  ExpectReason(VerifyJwt(token, kSecret, expiry_ms), "token_expired");
}

TEST_F(JwtTest, ForgedExpiredTokenIsInvalidNotExpired) {
  TokenClaims claims = Claims();
  const std::string token = SignJwt(claims, "another-secret-another-secret-xx");
  ExpectReason(VerifyJwt(token, kSecret, claims.expires_at_s * 1000 + 1), "invalid_token");
}

TEST_F(JwtTest, WrongSecretIsRejected) {
  const std::string token = SignJwt(Claims(), kSecret);
  ExpectReason(VerifyJwt(token, kSecret + "x", kNowMs), "invalid_token");
}

TEST_F(JwtTest, MalformedTokensAreRejected) {
  const std::string token = SignJwt(Claims(), kSecret);
  for (const std::string& bad :
       {std::string(), std::string("abc"), std::string("a.b"), token + ".extra", token + "=",
        "!!!." + Split(token).payload + "." + Split(token).signature, std::string(5000, 'a')}) {
    ExpectReason(VerifyJwt(bad, kSecret, kNowMs), "invalid_token");
  }
}

TEST_F(JwtTest, ClaimsMustBeComplete) {
  const std::string header = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  for (const char* payload : {
           R"({"role":"user","jti":"j","iat":1,"exp":99999999999})",            // no sub
           R"({"sub":"x","role":"user","jti":"j","iat":1,"exp":99999999999})",  // sub not a number
           R"({"sub":"1","role":"root","jti":"j","iat":1,"exp":99999999999})",  // unknown role
           R"({"sub":"1","role":"user","jti":"","iat":1,"exp":99999999999})",   // empty jti
           R"({"sub":"1","role":"user","jti":"j","iat":1})",                    // no exp
           R"({"sub":"1","role":"user","jti":"j","iat":1,"exp":"99999999999"})",  // exp a string
           R"([1,2,3])",
       }) {
    const std::string input = header + "." + Base64UrlEncode(payload);
    const std::string token = input + "." + Base64UrlEncode(HmacSha256(kSecret, input));
    ExpectReason(VerifyJwt(token, kSecret, kNowMs), "invalid_token");
  }
}

}  // namespace
}  // namespace integr8scode
