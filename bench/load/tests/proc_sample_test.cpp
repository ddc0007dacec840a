#include "load/proc_sample.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

namespace integr8scode {
namespace {

constexpr const char* kStatus =
    "Name:\tintegr8scode\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t 1200000 kB\nVmSize:\t "
    "1100000 kB\n"
    "VmHWM:\t   52000 kB\nVmRSS:\t   48128 kB\nThreads:\t12\n";

TEST(ParseProcStatus, ReadsRssAndPeakInBytes) {
  auto sample = ParseProcStatus(kStatus);
  ASSERT_TRUE(sample) << sample.error().message;
  EXPECT_EQ(sample->rss_bytes, 48128ull * 1024);
  EXPECT_EQ(sample->hwm_bytes, 52000ull * 1024);
}

TEST(ParseProcStatus, RefusesMissingOrMalformedFields) {
  // A kernel thread has no VmRSS line at all.
  EXPECT_FALSE(ParseProcStatus("Name:\tkthreadd\nState:\tS (sleeping)\n"));
  EXPECT_FALSE(ParseProcStatus("VmHWM:\t 1 kB\nVmRSS:\t lots kB\n"));
  EXPECT_FALSE(ParseProcStatus("VmHWM:\t 1 kB\nVmRSS:\t 12 MB\n"));
  // "VmRSSx" is not "VmRSS".
  EXPECT_FALSE(ParseProcStatus("VmHWM:\t 1 kB\nVmRSSx:\t 12 kB\n"));
}

TEST(ParseProcStatCpuSeconds, CountsFieldsAfterTheLastParenthesis) {
  // A command name with spaces and a ')' of its own must not shift the fields.
  std::string stat = "4242 (evil ) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 ";
  stat += "250 150 0 0 20 0 12 0 100 1000000 1000 18446744073709551615\n";
  auto seconds = ParseProcStatCpuSeconds(stat, 100);
  ASSERT_TRUE(seconds) << seconds.error().message;
  EXPECT_DOUBLE_EQ(*seconds, 4.0);  // (250 + 150) / 100
  EXPECT_FALSE(ParseProcStatCpuSeconds("4242 (short) S 1 2", 100));
  EXPECT_FALSE(ParseProcStatCpuSeconds("no parenthesis", 100));
}

TEST(ParseSystemCpu, BusyLeavesOutIdleAndIowait) {
  auto sample = ParseSystemCpu("cpu  100 5 50 1000 20 3 2 0 7 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n");
  ASSERT_TRUE(sample) << sample.error().message;
  EXPECT_EQ(sample->total_ticks, 100u + 5 + 50 + 1000 + 20 + 3 + 2 + 0);
  EXPECT_EQ(sample->busy_ticks, 100u + 5 + 50 + 3 + 2 + 0);
  EXPECT_FALSE(ParseSystemCpu("intr 1 2 3\n"));
}

TEST(BusyShare, IsTheBusyFractionOfElapsedTicks) {
  EXPECT_DOUBLE_EQ(BusyShare({100, 400}, {250, 600}), 0.75);
  EXPECT_DOUBLE_EQ(BusyShare({100, 400}, {100, 400}), 0.0);
}

TEST(BusySeconds, IsBusyTicksOverTicksPerSecond) {
  EXPECT_DOUBLE_EQ(BusySeconds({100, 400}, {350, 700}, 100), 2.5);
  EXPECT_DOUBLE_EQ(BusySeconds({100, 400}, {100, 500}, 100), 0.0);
}

TEST(ParseChildPids, ReadsSpaceSeparatedPids) {
  EXPECT_EQ(ParseChildPids("123 456 \n"), (std::vector<pid_t>{123, 456}));
  EXPECT_TRUE(ParseChildPids("").empty());
}

TEST(ReadChildPids, FindsALiveChildAndForgetsItOnceReaped) {
  int gate[2];
  ASSERT_EQ(::pipe(gate), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char byte;
    ::close(gate[1]);
    (void)::read(gate[0], &byte, 1);  // until the parent closes its end
    ::_exit(0);
  }
  ::close(gate[0]);
  const std::vector<pid_t> children = ReadChildPids(::getpid());
  ::close(gate[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_NE(std::find(children.begin(), children.end(), child), children.end());
  const std::vector<pid_t> after = ReadChildPids(::getpid());
  EXPECT_EQ(std::find(after.begin(), after.end(), child), after.end());
}

TEST(ReadProcessSample, ReadsThisProcess) {
  // Touch memory so that the resident size is clearly above zero.
  std::vector<char> ballast(8 << 20, 1);
  auto sample = ReadProcessSample(::getpid());
  ASSERT_TRUE(sample) << sample.error().Describe();
  EXPECT_GE(sample->rss_bytes, ballast.size());
  EXPECT_GE(sample->hwm_bytes, sample->rss_bytes);
  EXPECT_GE(sample->cpu_seconds, 0.0);
  EXPECT_EQ(ballast[ballast.size() - 1], 1);
}

TEST(ReadProcessSample, AReapedProcessIsNotFound) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  auto sample = ReadProcessSample(child);
  ASSERT_FALSE(sample);
  EXPECT_EQ(sample.error().code, ErrorCode::kNotFound);
}

TEST(ReadSystemCpu, TicksAdvanceAndBusyIsAtMostTotal) {
  auto sample = ReadSystemCpu();
  ASSERT_TRUE(sample) << sample.error().Describe();
  EXPECT_GT(sample->total_ticks, 0u);
  EXPECT_LE(sample->busy_ticks, sample->total_ticks);
}

}  // namespace
}  // namespace integr8scode
