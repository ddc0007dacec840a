#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace integr8scode {

// Small wrappers over libsodium for the services (sodium.h stays in crypto.cpp).

// Initializes libsodium once; thread-safe, idempotent. Fails with kInternal if the
// library cannot start (no entropy source). Every other function here needs it first.
Status EnsureSodium();

std::string RandomBytes(std::size_t count);
// A random UUID version 4 in canonical lower-case text, 122 random bits.
std::string NewUuidV4();

// RFC 4648 §5 base64url without padding. Decoding rejects padding, whitespace and any
// character outside the alphabet.
std::string Base64UrlEncode(std::string_view bytes);
Result<std::string> Base64UrlDecode(std::string_view text);

std::string HexEncode(std::string_view bytes);

// HMAC-SHA-256 (RFC 2104) with a key of any length; 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view message);
// BLAKE2b, 32 bytes.
std::string Blake2b256(std::string_view message);
// Compares in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace integr8scode
