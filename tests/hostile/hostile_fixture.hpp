#pragma once

// The fixture of every hostile suite: each test is an attack, and after each one the
// host must show nothing more than before it (processes, mounts, descriptors, cgroups).

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "support/sandbox_harness.hpp"

namespace integr8scode {

constexpr std::size_t kSlack = testing::PrebuiltFdSlack(testing::kSharedExecutorSlots);

class Hostile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::CanSandbox()) {
      testing::SharedExecutor();  // slots exist before the first snapshot
      suite_before_ = new testing::HostSnapshot(testing::TakeHostSnapshot());
    }
  }
  static void TearDownTestSuite() {
    delete suite_before_;
    suite_before_ = nullptr;
    // Run warm (hostile_warm), how many attacks met a zygote: those after an idle slot
    // whose last run was CPython 3.11 (docs/warm-starts.md).
    if (std::getenv("INTEGR8SCODE_TEST_WARM_ZYGOTE") != nullptr && python_runs_ > 0)
      std::printf("%d of %d Python attacks started warm\n", python_warm_runs_, python_runs_);
  }
  void SetUp() override {
    if (!testing::CanSandbox()) GTEST_SKIP() << "the sandbox needs root";
    before_ = testing::TakeHostSnapshot();
  }
  void TearDown() override {
    if (!testing::CanSandbox()) return;
    EXPECT_EQ(testing::DescribeLeaks(before_, testing::TakeHostSnapshot(), kSlack), "")
        << "after this attack";
  }

  static RunResult Python(std::string_view code, testing::RunOptions options = {}) {
    RunResult result = testing::RunCode("python", "3.11", code, options);
    ++python_runs_;
    python_warm_runs_ += result.start == StartKind::kWarm ? 1 : 0;
    return result;
  }
  static RunResult C(std::string_view code, testing::RunOptions options = {}) {
    return testing::RunCode("c", "12", code, options);
  }

  static testing::RunOptions Timeout(std::chrono::milliseconds timeout) {
    testing::RunOptions options;
    options.limits.timeout = timeout;
    return options;
  }

  static inline testing::HostSnapshot* suite_before_ = nullptr;
  static inline int python_runs_ = 0;
  static inline int python_warm_runs_ = 0;
  testing::HostSnapshot before_;
};

}  // namespace integr8scode
