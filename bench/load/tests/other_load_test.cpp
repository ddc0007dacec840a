#include "load/other_load.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace integr8scode {
namespace {

ProcStat Stat(pid_t ppid, std::uint64_t own, std::uint64_t children = 0,
              std::uint64_t start_time = 1) {
  ProcStat stat;
  stat.ppid = ppid;
  stat.utime = own;
  stat.cutime = children;
  stat.start_time = start_time;
  return stat;
}

TEST(OtherProcessesTicks, CountsOthersAndLeavesOutOwnTrees) {
  ProcessTable start{{1, Stat(0, 5)},
                     {10, Stat(1, 100)},   // a build tool
                     {11, Stat(10, 50)},   // its compiler, ends inside the window
                     {20, Stat(1, 1000)},  // the server
                     {21, Stat(20, 10)}};  // its spawner
  ProcessTable end{
      {1, Stat(0, 5)},     {10, Stat(1, 100, 80)},  // reaped the compiler: 80 ticks in all
      {12, Stat(10, 30)},                           // a compiler started inside the window
      {20, Stat(1, 2000)}, {21, Stat(20, 50)},
      {22, Stat(21, 7)}};  // a sandbox under the spawner
  // 80 - 50 (the first compiler within the window) + 30 (the second).
  EXPECT_EQ(OtherProcessesTicks(start, end, {20}), 60u);
  // Without roots, the server tree is other load too: + 1000 + 40 + 7.
  EXPECT_EQ(OtherProcessesTicks(start, end, {}), 60u + 1000 + 40 + 7);
}

TEST(OtherProcessesTicks, AReusedPidIsANewProcess) {
  ProcessTable start{{30, Stat(1, 400, 0, /*start_time=*/100)}};
  ProcessTable end{{30, Stat(1, 25, 0, /*start_time=*/900)}};
  // The old process ended (-400, clamped with the rest) and the new one used 25.
  EXPECT_EQ(OtherProcessesTicks(start, end, {}), 0u);
  start.emplace(40, Stat(1, 0));
  end.emplace(40, Stat(1, 500));
  EXPECT_EQ(OtherProcessesTicks(start, end, {}), 500u + 25 - 400);
}

TEST(OtherProcessesTicks, OwnTreeOfTheRealMachineIsExactlyWhatItUsed) {
  rusage before{};
  ::getrusage(RUSAGE_CHILDREN, &before);
  const ProcessTable start = ReadProcessTable();
  ASSERT_NE(start.count(::getpid()), 0u);
  // A child burns CPU and is reaped: its time reaches this process's children counters.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    volatile std::uint64_t x = 0;
    for (std::uint64_t i = 0; i < 50'000'000; ++i) x = x + i;
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  const ProcessTable end = ReadProcessTable();
  // The same two snapshots with and without this process's tree: the difference is
  // this tree's CPU in between, which includes the child's.
  const std::uint64_t all = OtherProcessesTicks(start, end, {});
  const std::uint64_t others = OtherProcessesTicks(start, end, {::getpid()});
  rusage after{};
  ::getrusage(RUSAGE_CHILDREN, &after);
  const auto seconds = [](const rusage& usage) {
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  };
  const double child_ticks =
      (seconds(after) - seconds(before)) * static_cast<double>(::sysconf(_SC_CLK_TCK));
  ASSERT_GT(child_ticks, 1.0);
  EXPECT_GE(static_cast<double>(all - others) + 2,
            child_ticks);  // +2: tick rounding of utime and stime
}

}  // namespace
}  // namespace integr8scode
