#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace integr8scode {

struct RateDecision {
  bool allowed = true;
  std::uint32_t limit = 0;         // X-RateLimit-Limit: requests per minute (the burst size)
  std::uint32_t remaining = 0;     // X-RateLimit-Remaining
  std::int64_t reset_s = 0;        // X-RateLimit-Reset: seconds until the bucket is full again
  std::int64_t retry_after_s = 0;  // Retry-After when refused: seconds until one request fits
};

// Token buckets per (group, key): each holds up to `per_minute` requests and refills
// continuously at per_minute/60 per second, so a burst of a minute's worth is allowed
// and then one request every 60/per_minute seconds.
//
// Memory is bounded: at most `max_keys` buckets are kept. When a new key would exceed
// that, buckets that are full again (idle keys: forgetting them changes nothing) are
// dropped first, then the least recently used ones. Thread-safe (sharded locks).
class RateLimiter {
 public:
  explicit RateLimiter(std::size_t max_keys);

  RateDecision Take(std::string_view group, std::string_view key, std::uint32_t per_minute,
                    std::chrono::steady_clock::time_point now);
  std::size_t Size() const;

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
    std::uint32_t per_minute = 0;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
  };
  static constexpr std::size_t kShards = 16;

  void Evict(Shard& shard, std::chrono::steady_clock::time_point now);

  std::size_t max_per_shard_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace integr8scode
