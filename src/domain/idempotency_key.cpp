#include "domain/idempotency_key.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace integr8scode {

Status ValidateIdempotencyKey(std::string_view key, bool anonymous) {
  const auto refuse = [](std::string message) {
    Error error = MakeError(ErrorCode::kInvalidArgument, "invalid_field", std::move(message));
    error.field = "Idempotency-Key";
    return Fail(std::move(error));
  };
  const bool visible =
      std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x21 && c <= 0x7E; });
  if (key.empty() || key.size() > kMaxIdempotencyKeyBytes || !visible) {
    return refuse(
        fmt::format("header Idempotency-Key must be 1 to {} visible ASCII characters (no spaces)",
                    kMaxIdempotencyKeyBytes));
  }
  if (anonymous && key.size() < kMinAnonymousIdempotencyKeyBytes) {
    return refuse(fmt::format(
        "without signing in, header Idempotency-Key must be at least {} characters — a random "
        "value such as a UUID — so that it cannot collide with another client's at the same "
        "address",
        kMinAnonymousIdempotencyKeyBytes));
  }
  return {};
}

}  // namespace integr8scode
