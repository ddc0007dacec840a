#include "load/baseline.hpp"

#include <gtest/gtest.h>

namespace integr8scode {
namespace {

using std::chrono::milliseconds;

BaselineSettings Echo(std::string expected, std::size_t jobs) {
  BaselineSettings settings;
  settings.argv = {"/bin/echo", "hi"};
  settings.expected_stdout = std::move(expected);
  settings.jobs = jobs;
  settings.duration = milliseconds(200);
  return settings;
}

TEST(RunBaseline, CountsRunsOfAllLoopsWithTheirLatencies) {
  auto result = RunBaseline(Echo("hi\n", 2));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_GE(result->runs, 2u);
  EXPECT_EQ(result->failures, 0u);
  EXPECT_EQ(result->run_latency.Count(), result->runs);
  EXPECT_GE(result->elapsed_s, 0.2);
  EXPECT_GT(result->RunsPerSecond(), 0);
  EXPECT_EQ(result->settings.jobs, 2u);
}

TEST(RunBaseline, MeasuresTheCpuTimeOfTheRuns) {
  BaselineSettings settings = Echo("", 1);
  // Each run burns a few milliseconds of CPU in a shell loop.
  settings.argv = {"/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"};
  auto result = RunBaseline(settings);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->failures, 0u);
  EXPECT_GT(result->cpu_s, 0.0);
  EXPECT_GT(result->CpuMillisecondsPerRun(), 0.0);
}

TEST(RunBaseline, OtherOutputIsAFailureAndNotCountedInThroughput) {
  auto result = RunBaseline(Echo("bye\n", 1));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_GE(result->runs, 1u);
  EXPECT_EQ(result->failures, result->runs);
  EXPECT_EQ(result->RunsPerSecond(), 0);
}

TEST(RunBaseline, NonZeroExitAndMissingProgramAreFailures) {
  BaselineSettings failing = Echo("", 1);
  failing.argv = {"/bin/false"};
  auto result = RunBaseline(failing);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->failures, result->runs);

  BaselineSettings missing = Echo("", 1);
  missing.argv = {"/nonexistent/python"};
  result = RunBaseline(missing);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_GE(result->runs, 1u);
  EXPECT_EQ(result->failures, result->runs);
}

TEST(RunBaseline, StderrIsPartOfTheOutput) {
  BaselineSettings settings = Echo("", 1);
  settings.argv = {"/bin/sh", "-c", "echo out; echo err >&2"};
  settings.expected_stdout = "out\nerr\n";
  auto result = RunBaseline(settings);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->failures, 0u);
}

TEST(RunBaseline, RefusesNoCommandAndNoJobs) {
  BaselineSettings settings = Echo("hi\n", 0);
  EXPECT_FALSE(RunBaseline(settings));
  settings.jobs = 1;
  settings.argv.clear();
  EXPECT_FALSE(RunBaseline(settings));
}

}  // namespace
}  // namespace integr8scode
