#include "domain/limits.hpp"

#include <gtest/gtest.h>

namespace integr8scode {
namespace {

Limits Maximum() {
  Limits max;
  max.memory_bytes = 512ull << 20;
  max.timeout = std::chrono::seconds(30);
  max.cpu_millicores = 2000;
  return max;
}

TEST(Limits, DefaultsMatchTheOriginal) {
  const Limits limits;
  EXPECT_EQ(limits.memory_bytes, 128ull << 20);
  EXPECT_EQ(limits.timeout, std::chrono::seconds(5));
  EXPECT_EQ(limits.cpu_millicores, 1000u);
  EXPECT_EQ(limits.output_bytes, 1ull << 20);
  EXPECT_EQ(limits.tmpfs_bytes, 64ull << 20);
}

TEST(Limits, OverridesApplyFieldByField) {
  LimitOverrides overrides;
  overrides.memory_bytes = 64ull << 20;
  overrides.timeout = std::chrono::milliseconds(1500);
  auto limits = ApplyOverrides(Limits{}, overrides, Maximum());
  ASSERT_TRUE(limits.has_value()) << limits.error().message;
  EXPECT_EQ(limits->memory_bytes, 64ull << 20);
  EXPECT_EQ(limits->timeout.count(), 1500);
  EXPECT_EQ(limits->pids, Limits{}.pids);
}

TEST(Limits, AboveMaximumIsRefusedWithBothValues) {
  LimitOverrides overrides;
  overrides.memory_bytes = 4ull << 30;
  auto limits = ApplyOverrides(Limits{}, overrides, Maximum());
  ASSERT_FALSE(limits.has_value());
  EXPECT_EQ(limits.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(limits.error().message, "memory limit 4 GiB is above the maximum 512 MiB");
}

TEST(Limits, BelowMinimumIsRefused) {
  LimitOverrides overrides;
  overrides.timeout = std::chrono::milliseconds(1);
  auto limits = ApplyOverrides(Limits{}, overrides, Maximum());
  ASSERT_FALSE(limits.has_value());
  EXPECT_NE(limits.error().message.find("timeout"), std::string::npos);
}

TEST(Limits, HundredMillicoresIsAllowed) {
  LimitOverrides overrides;
  overrides.cpu_millicores = 100;
  EXPECT_TRUE(ApplyOverrides(Limits{}, overrides, Maximum()).has_value());
}

}  // namespace
}  // namespace integr8scode
