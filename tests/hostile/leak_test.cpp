// Many short runs in a row and at once: nothing may accumulate — descriptors, mounts,
// cgroups, processes.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/sandbox_harness.hpp"

namespace integr8scode {
namespace {

class Leaks : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::CanSandbox()) GTEST_SKIP() << "the sandbox needs root";
  }
};

TEST_F(Leaks, AThousandSequentialRuns) {
  testing::SharedExecutor();
  const auto before = testing::TakeHostSnapshot();
  int completed = 0;
  for (int i = 0; i < 1000; ++i) {
    const RunResult result =
        testing::RunCode("python", "3.11", "print(" + std::to_string(i) + ")\n");
    if (result.status == ExecutionStatus::kCompleted &&
        result.stdout_text == std::to_string(i) + "\n") {
      ++completed;
    } else {
      ADD_FAILURE() << "run " << i << ": " << StatusName(result.status) << " " << result.message;
    }
  }
  EXPECT_EQ(completed, 1000);
  EXPECT_EQ(testing::DescribeLeaks(before, testing::TakeHostSnapshot(),
                                   testing::PrebuiltFdSlack(testing::kSharedExecutorSlots)),
            "");
}

TEST_F(Leaks, TwoHundredConcurrentRuns) {
  const auto before = testing::TakeHostSnapshot();
  {
    auto executor = testing::MakeExecutor(200, /*use_spawner=*/true);
    std::atomic<int> completed{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 200; ++i) {
      threads.emplace_back([&, i] {
        testing::RunOptions options;
        options.executor = executor.get();
        options.limits.timeout = std::chrono::seconds(60);  // 200 interpreters share 2 cores
        const RunResult result = testing::RunCode(
            "python", "3.11", "print('run', " + std::to_string(i) + ")\n", options);
        if (result.status == ExecutionStatus::kCompleted &&
            result.stdout_text == "run " + std::to_string(i) + "\n") {
          completed.fetch_add(1);
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(completed.load(), 200);
  }
  // The executor and its 200 slots are gone: so must be their cgroups and everything else.
  EXPECT_EQ(testing::DescribeLeaks(before, testing::TakeHostSnapshot()), "");
}

}  // namespace
}  // namespace integr8scode
