// LoginThrottle on its own: counts per (name, address), attempts in flight, bounded memory.
#include "service/login_throttle.hpp"

#include <gtest/gtest.h>

#include <string>

namespace integr8scode {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kStart = 1'800'000'000'000;

// One wrong password as the service reports it: admitted, then failed. Returns the end
// of a lock (the one that refused the attempt, or the one its failure started).
std::optional<std::int64_t> WrongPassword(LoginThrottle& throttle, std::string_view name,
                                          std::string_view source, std::int64_t now) {
  if (auto locked = throttle.Admit(name, source, now)) return locked;
  return throttle.RecordFailure(name, source, now);
}

TEST(LoginThrottle, CountsEachNameAndAddressApart) {
  LoginThrottle throttle({3, 1min, 100});
  EXPECT_FALSE(WrongPassword(throttle, "ada", "a", kStart));
  EXPECT_FALSE(WrongPassword(throttle, "ada", "b", kStart));
  EXPECT_FALSE(WrongPassword(throttle, "grace", "a", kStart));
  EXPECT_FALSE(WrongPassword(throttle, "ADA", "a", kStart));
  EXPECT_EQ(WrongPassword(throttle, "Ada", "a", kStart), kStart + 60'000);
  EXPECT_EQ(throttle.Admit("ada", "a", kStart + 59'999), kStart + 60'000);
  EXPECT_FALSE(throttle.Admit("ada", "b", kStart));
  EXPECT_FALSE(throttle.Admit("grace", "a", kStart));
  // When the lock runs out the count starts again.
  EXPECT_FALSE(throttle.Admit("ada", "a", kStart + 60'000));
  EXPECT_FALSE(throttle.RecordFailure("ada", "a", kStart + 60'000));
}

TEST(LoginThrottle, AttemptsInFlightCountTowardsTheLimit) {
  LoginThrottle throttle({3, 1min, 100});
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(throttle.Admit("ada", "a", kStart)) << i;
  // Three password checks are running: a fourth in parallel is refused at once.
  EXPECT_EQ(throttle.Admit("ada", "a", kStart), kStart + 60'000);
  // One of the three was right: the pair is forgiven.
  throttle.RecordSuccess("ada", "a");
  EXPECT_FALSE(throttle.Admit("ada", "a", kStart));
}

TEST(LoginThrottle, FailuresLongAgoAreForgotten) {
  LoginThrottle throttle({2, 1min, 100});
  EXPECT_FALSE(WrongPassword(throttle, "ada", "a", kStart));
  EXPECT_FALSE(WrongPassword(throttle, "ada", "a", kStart + 60'000));
  EXPECT_TRUE(WrongPassword(throttle, "ada", "a", kStart + 60'001));
}

TEST(LoginThrottle, ASuccessForgetsThePair) {
  LoginThrottle throttle({2, 1min, 100});
  EXPECT_FALSE(WrongPassword(throttle, "ada", "a", kStart));
  ASSERT_FALSE(throttle.Admit("ada", "a", kStart));
  throttle.RecordSuccess("ada", "a");
  EXPECT_EQ(throttle.Size(), 0u);
  EXPECT_FALSE(WrongPassword(throttle, "ada", "a", kStart));
}

TEST(LoginThrottle, MemoryIsBoundedAndFloodingDoesNotUnlock) {
  LoginThrottle throttle({2, 1min, 10});
  ASSERT_FALSE(WrongPassword(throttle, "victim", "attacker", kStart));
  ASSERT_TRUE(WrongPassword(throttle, "victim", "attacker", kStart));
  for (int i = 0; i < 1000; ++i) {
    (void)WrongPassword(throttle, "name" + std::to_string(i), "attacker", kStart + 1 + i);
    // One failure each, no lock: these go before the lock does.
    ASSERT_LE(throttle.Size(), 10u);
  }
  EXPECT_TRUE(throttle.Admit("victim", "attacker", kStart + 2000));
}

}  // namespace
}  // namespace integr8scode
