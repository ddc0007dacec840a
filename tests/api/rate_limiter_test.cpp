#include "api/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace integr8scode {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

TEST(RateLimiter, AllowsABurstOfTheMinutesQuotaThenRefuses) {
  RateLimiter limiter(1000);
  const auto now = Clock::now();
  for (int i = 0; i < 60; ++i) {
    const RateDecision decision = limiter.Take("execute", "user:1", 60, now);
    ASSERT_TRUE(decision.allowed) << "request " << i;
    EXPECT_EQ(decision.limit, 60u);
    EXPECT_EQ(decision.remaining, static_cast<std::uint32_t>(59 - i));
  }
  const RateDecision refused = limiter.Take("execute", "user:1", 60, now);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0u);
  EXPECT_EQ(refused.retry_after_s, 1);  // one token per second at 60 a minute
  EXPECT_EQ(refused.reset_s, 60);       // the whole bucket takes a minute to refill
}

TEST(RateLimiter, RefillsContinuously) {
  RateLimiter limiter(1000);
  const auto start = Clock::now();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(limiter.Take("auth", "ip:1.2.3.4", 6, start).allowed);
  EXPECT_FALSE(limiter.Take("auth", "ip:1.2.3.4", 6, start).allowed);
  // 6 a minute = one every 10 s.
  const RateDecision early = limiter.Take("auth", "ip:1.2.3.4", 6, start + seconds(5));
  EXPECT_FALSE(early.allowed);
  EXPECT_EQ(early.retry_after_s, 5);
  EXPECT_TRUE(limiter.Take("auth", "ip:1.2.3.4", 6, start + seconds(10)).allowed);
  EXPECT_FALSE(limiter.Take("auth", "ip:1.2.3.4", 6, start + seconds(10)).allowed);
  // Never more than the burst, however long the pause.
  const RateDecision later = limiter.Take("auth", "ip:1.2.3.4", 6, start + std::chrono::hours(5));
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(later.remaining, 5u);
}

TEST(RateLimiter, KeysAndGroupsAreIndependent) {
  RateLimiter limiter(1000);
  const auto now = Clock::now();
  ASSERT_TRUE(limiter.Take("execute", "user:1", 1, now).allowed);
  EXPECT_FALSE(limiter.Take("execute", "user:1", 1, now).allowed);
  EXPECT_TRUE(limiter.Take("execute", "user:2", 1, now).allowed);
  EXPECT_TRUE(limiter.Take("other", "user:1", 1, now).allowed);
}

TEST(RateLimiter, MemoryStaysBoundedUnderManyKeys) {
  RateLimiter limiter(160);
  const auto now = Clock::now();
  for (int i = 0; i < 20000; ++i) {
    limiter.Take("other", "ip:10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), 10,
                 now + milliseconds(i));
    ASSERT_LE(limiter.Size(), 160u);
  }
}

TEST(RateLimiter, IdleKeysAreEvictedBeforeActiveOnes) {
  // One shard holds max_keys/16 buckets; fill far past that with keys that become idle
  // (full again) while one key stays drained: it must keep its state.
  RateLimiter limiter(16 * 4);
  auto now = Clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.Take("execute", "user:hammer", 3, now).allowed);
  ASSERT_FALSE(limiter.Take("execute", "user:hammer", 3, now).allowed);
  for (int i = 0; i < 5000; ++i) {
    // At 60000 a minute a bucket refills its token in 1 ms: each visitor is idle at once.
    limiter.Take("execute", "ip:visitor-" + std::to_string(i), 60000, now);
    now += milliseconds(2);
    ASSERT_LE(limiter.Size(), 64u);
  }
  // 10 s passed: the hammering key (3 a minute, one per 20 s) has earned no token back.
  EXPECT_FALSE(limiter.Take("execute", "user:hammer", 3, now).allowed);
}

}  // namespace
}  // namespace integr8scode
