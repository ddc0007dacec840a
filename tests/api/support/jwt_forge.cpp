#include "jwt_forge.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace integr8scode::testing {

std::string Base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(bytes[at]); };
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned value = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(value >> shift) & 63]);
  }
  if (bytes.size() - i == 1) {
    const unsigned value = byte(i) << 16;
    out.push_back(kAlphabet[(value >> 18) & 63]);
    out.push_back(kAlphabet[(value >> 12) & 63]);
  } else if (bytes.size() - i == 2) {
    const unsigned value = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kAlphabet[(value >> 18) & 63]);
    out.push_back(kAlphabet[(value >> 12) & 63]);
    out.push_back(kAlphabet[(value >> 6) & 63]);
  }
  return out;
}

std::string ForgeJwt(std::string_view payload_json, std::string_view secret,
                     std::string_view header_json) {
  const std::string signing_input = Base64Url(header_json) + "." + Base64Url(payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
       &length);
  return signing_input + "." +
         Base64Url(std::string_view(reinterpret_cast<const char*>(mac), length));
}

}  // namespace integr8scode::testing
