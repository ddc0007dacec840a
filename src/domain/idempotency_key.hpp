#pragma once

#include <cstddef>
#include <string_view>

#include "common/error.hpp"

namespace integr8scode {

// The one check of an Idempotency-Key, made by the API on the header and by the
// execution service for any other caller, so both refuse the same keys with the same
// error (422, field "Idempotency-Key").
//
// A key is 1–255 visible ASCII characters (no spaces or controls). Keys are scoped to
// the caller: a user's to the account, an anonymous caller's to the client address —
// which many clients can share (a NAT, a proxy), so an anonymous key must also be at
// least kMinAnonymousIdempotencyKeyBytes long: a random value such as a UUID, which no
// other client at that address will send, and which a replay by someone who does not
// know it cannot find.
inline constexpr std::size_t kMaxIdempotencyKeyBytes = 255;
inline constexpr std::size_t kMinAnonymousIdempotencyKeyBytes = 16;

Status ValidateIdempotencyKey(std::string_view key, bool anonymous);

}  // namespace integr8scode
