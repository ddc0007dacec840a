// The scheduler slice as the kernel shows it (/proc/thread-self/sched, se.slice in ns).
#include "common/sched.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <string>
#include <thread>

namespace integr8scode {
namespace {

std::optional<long long> SliceNanos() {
  std::ifstream sched("/proc/thread-self/sched");
  std::string line;
  while (std::getline(sched, line)) {
    if (line.starts_with("se.slice")) return std::stoll(line.substr(line.find(':') + 1));
  }
  return std::nullopt;
}

TEST(ThreadSlice, IsSetInheritedAndReset) {
  // Each thread of its own, so that the test runner's thread keeps its slice.
  std::thread([] {
    const auto original = SliceNanos();
    if (!original) GTEST_SKIP() << "this kernel shows no se.slice (before Linux 6.12)";
    ASSERT_TRUE(SetThreadSlice(std::chrono::microseconds(200)).has_value());
    EXPECT_EQ(SliceNanos(), 200'000);
    std::optional<long long> child;
    std::thread([&] { child = SliceNanos(); }).join();
    EXPECT_EQ(child, 200'000);  // threads started afterwards inherit it
    ASSERT_TRUE(SetThreadSlice(std::chrono::microseconds(0)).has_value());
    EXPECT_EQ(SliceNanos(), original);  // 0: back to the kernel's default
  }).join();
}

TEST(ThreadSlice, IsKeptWithinTheKernelsRange) {
  std::thread([] {
    if (!SliceNanos()) GTEST_SKIP() << "this kernel shows no se.slice (before Linux 6.12)";
    ASSERT_TRUE(SetThreadSlice(std::chrono::microseconds(50)).has_value());
    EXPECT_EQ(SliceNanos(), 100'000);  // the kernel's floor: 0.1 ms
  }).join();
}

}  // namespace
}  // namespace integr8scode
