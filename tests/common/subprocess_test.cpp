// RunHostCommand: output, exit code, and the deadline for the process itself.
#include "common/subprocess.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace integr8scode {
namespace {

using namespace std::chrono_literals;

TEST(RunHostCommand, ReturnsOutputAndExitCode) {
  auto result = RunHostCommand({"/bin/sh", "-c", "echo out; echo err >&2; exit 4"}, 30s);
  ASSERT_TRUE(result) << result.error().Describe();
  EXPECT_EQ(result->exit_code, 4);
  EXPECT_EQ(result->output, "out\nerr\n");
}

TEST(RunHostCommand, AProgramThatClosesItsOutputAndLivesOnIsStillTimedOut) {
  // Its output reaches end-of-file at once; the process runs on past the deadline.
  auto result = RunHostCommand({"/bin/sh", "-c", "exec >/dev/null 2>&1; exec sleep 600"}, 200ms);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message.find("did not finish within 200 ms"), std::string::npos)
      << result.error().message;
}

TEST(RunHostCommand, AKillSignalIsExitCodeMinusOne) {
  auto result = RunHostCommand({"/bin/sh", "-c", "kill -9 $$"}, 30s);
  ASSERT_TRUE(result) << result.error().Describe();
  EXPECT_EQ(result->exit_code, -1);
}

}  // namespace
}  // namespace integr8scode
