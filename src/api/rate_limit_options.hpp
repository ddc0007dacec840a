#pragma once

#include <cstddef>
#include <cstdint>

namespace integr8scode {

// The API's token buckets (config section [rate_limits], docs/operations.md). The
// configuration holds this type itself, so these defaults are the only ones.
struct RateLimitOptions {
  bool enabled = true;
  std::uint32_t execute_per_minute = 60;            // per signed-in user
  std::uint32_t anonymous_execute_per_minute = 20;  // per client address
  std::uint32_t auth_per_minute = 20;               // register and login, per address
  std::uint32_t other_per_minute = 600;
  std::size_t max_keys = 100000;  // buckets kept; idle ones are evicted first

  friend bool operator==(const RateLimitOptions&, const RateLimitOptions&) = default;
};

}  // namespace integr8scode
