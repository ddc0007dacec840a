// LoginThrottle on its own: counts per (name, address), bounded memory.
#include "service/login_throttle.hpp"

#include <gtest/gtest.h>

#include <string>

namespace integr8scode {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kStart = 1'800'000'000'000;

TEST(LoginThrottle, CountsEachNameAndAddressApart) {
  LoginThrottle throttle({3, 1min, 100});
  EXPECT_FALSE(throttle.RecordFailure("ada", "a", kStart));
  EXPECT_FALSE(throttle.RecordFailure("ada", "b", kStart));
  EXPECT_FALSE(throttle.RecordFailure("grace", "a", kStart));
  EXPECT_FALSE(throttle.RecordFailure("ADA", "a", kStart));
  EXPECT_EQ(throttle.RecordFailure("Ada", "a", kStart), kStart + 60'000);
  EXPECT_EQ(throttle.LockedUntil("ada", "a", kStart + 59'999), kStart + 60'000);
  EXPECT_FALSE(throttle.LockedUntil("ada", "a", kStart + 60'000));
  EXPECT_FALSE(throttle.LockedUntil("ada", "b", kStart));
  EXPECT_FALSE(throttle.LockedUntil("grace", "a", kStart));
}

TEST(LoginThrottle, FailuresLongAgoAreForgotten) {
  LoginThrottle throttle({2, 1min, 100});
  EXPECT_FALSE(throttle.RecordFailure("ada", "a", kStart));
  EXPECT_FALSE(throttle.RecordFailure("ada", "a", kStart + 60'000));
  EXPECT_TRUE(throttle.RecordFailure("ada", "a", kStart + 60'001));
}

TEST(LoginThrottle, ASuccessForgetsThePair) {
  LoginThrottle throttle({2, 1min, 100});
  EXPECT_FALSE(throttle.RecordFailure("ada", "a", kStart));
  throttle.RecordSuccess("ada", "a");
  EXPECT_FALSE(throttle.RecordFailure("ada", "a", kStart));
  EXPECT_EQ(throttle.Size(), 1u);
}

TEST(LoginThrottle, MemoryIsBoundedAndFloodingDoesNotUnlock) {
  LoginThrottle throttle({2, 1min, 10});
  ASSERT_FALSE(throttle.RecordFailure("victim", "attacker", kStart));
  ASSERT_TRUE(throttle.RecordFailure("victim", "attacker", kStart));
  for (int i = 0; i < 1000; ++i) {
    (void)throttle.RecordFailure("name" + std::to_string(i), "attacker", kStart + 1 + i);
    // One failure each, no lock: these go before the lock does.
    ASSERT_LE(throttle.Size(), 10u);
  }
  EXPECT_TRUE(throttle.LockedUntil("victim", "attacker", kStart + 2000));
}

}  // namespace
}  // namespace integr8scode
