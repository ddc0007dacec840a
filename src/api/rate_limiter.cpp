#include "api/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace integr8scode {
namespace {

double Refilled(double tokens, std::uint32_t per_minute,
                std::chrono::steady_clock::duration elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  return std::min<double>(per_minute, tokens + std::max(0.0, seconds) * per_minute / 60.0);
}

std::int64_t SecondsUntil(double missing_tokens, std::uint32_t per_minute) {
  if (missing_tokens <= 0) return 0;
  return static_cast<std::int64_t>(std::ceil(missing_tokens * 60.0 / per_minute));
}

}  // namespace

RateLimiter::RateLimiter(std::size_t max_keys)
    : max_per_shard_(std::max<std::size_t>(1, max_keys / kShards)), shards_(new Shard[kShards]) {}

RateDecision RateLimiter::Take(std::string_view group, std::string_view key,
                               std::uint32_t per_minute,
                               std::chrono::steady_clock::time_point now) {
  per_minute = std::max<std::uint32_t>(1, per_minute);
  std::string id;
  id.reserve(group.size() + key.size() + 1);
  id.append(group).push_back('|');
  id.append(key);
  Shard& shard = shards_[std::hash<std::string>{}(id) % kShards];

  std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(id);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_per_shard_) Evict(shard, now);
    it = shard.buckets
             .emplace(std::move(id), Bucket{static_cast<double>(per_minute), now, per_minute})
             .first;
  }
  Bucket& bucket = it->second;
  if (bucket.per_minute != per_minute) {  // the limit changed (config reload in tests)
    bucket.tokens = std::min<double>(bucket.tokens, per_minute);
    bucket.per_minute = per_minute;
  }
  bucket.tokens = Refilled(bucket.tokens, per_minute, now - bucket.updated);
  bucket.updated = now;

  RateDecision decision;
  decision.limit = per_minute;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    decision.allowed = true;
  } else {
    decision.allowed = false;
    decision.retry_after_s =
        std::max<std::int64_t>(1, SecondsUntil(1.0 - bucket.tokens, per_minute));
  }
  decision.remaining = static_cast<std::uint32_t>(std::floor(bucket.tokens));
  decision.reset_s = SecondsUntil(per_minute - bucket.tokens, per_minute);
  return decision;
}

void RateLimiter::Evict(Shard& shard, std::chrono::steady_clock::time_point now) {
  std::erase_if(shard.buckets, [&](const auto& entry) {
    const Bucket& bucket = entry.second;
    return Refilled(bucket.tokens, bucket.per_minute, now - bucket.updated) >= bucket.per_minute;
  });
  if (shard.buckets.size() < max_per_shard_) return;
  // Still full of active keys: drop the least recently used tenth, so that eviction
  // work is amortised over many insertions.
  std::vector<std::chrono::steady_clock::time_point> times;
  times.reserve(shard.buckets.size());
  for (const auto& entry : shard.buckets) times.push_back(entry.second.updated);
  const std::size_t drop = std::max<std::size_t>(1, times.size() / 10);
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                   times.end());
  const auto cutoff = times[drop - 1];
  std::size_t dropped = 0;
  std::erase_if(shard.buckets, [&](const auto& entry) {
    if (dropped < drop && entry.second.updated <= cutoff) {
      ++dropped;
      return true;
    }
    return false;
  });
}

std::size_t RateLimiter::Size() const {
  std::size_t total = 0;
  for (std::size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    total += shards_[i].buckets.size();
  }
  return total;
}

}  // namespace integr8scode
