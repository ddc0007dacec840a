#pragma once

#include <string>
#include <string_view>

namespace integr8scode::testing {

// An HS256 JWT over `payload_json` signed with `secret`, built independently of the
// server's code, so tests can present expired, forged and role-escalated tokens.
std::string ForgeJwt(std::string_view payload_json, std::string_view secret,
                     std::string_view header_json = R"({"alg":"HS256","typ":"JWT"})");
std::string Base64Url(std::string_view bytes);

}  // namespace integr8scode::testing
