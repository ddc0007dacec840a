#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace integr8scode {

// Figures of one process read from /proc/<pid>: resident memory now (VmRSS), its peak
// since the process started (VmHWM), and the CPU time of all its threads.
struct ProcessSample {
  std::uint64_t rss_bytes = 0;
  std::uint64_t hwm_bytes = 0;
  double cpu_seconds = 0;  // utime + stime
};

// The whole machine's CPU time from the first line of /proc/stat, in clock ticks.
struct SystemCpuSample {
  std::uint64_t busy_ticks = 0;  // everything but idle and iowait
  std::uint64_t total_ticks = 0;
};

// The fields of /proc/<pid>/stat the load figures use, in clock ticks (proc(5)).
struct ProcStat {
  pid_t ppid = 0;
  std::uint64_t utime = 0;
  std::uint64_t stime = 0;
  std::uint64_t cutime = 0;  // of waited-for children, added when they are reaped
  std::uint64_t cstime = 0;
  std::uint64_t start_time = 0;  // since boot: tells a reused pid from the old process
};

// Parsers of the kernel's text, separate from the reads so that tests can feed them.
// Fail with kInvalidArgument when a field is missing or not a number.
Result<ProcessSample> ParseProcStatus(std::string_view status_text);  // VmRSS, VmHWM
Result<ProcStat> ParseProcStat(std::string_view stat_text);
Result<double> ParseProcStatCpuSeconds(std::string_view stat_text, long ticks_per_second);
Result<SystemCpuSample> ParseSystemCpu(std::string_view proc_stat_text);

// The direct children of a process, from /proc/<pid>/task/*/children (every thread's
// children: a child belongs to the thread that forked it). Empty when there are none or
// the kernel does not offer the file (CONFIG_PROC_CHILDREN).
std::vector<pid_t> ReadChildPids(pid_t pid);
std::vector<pid_t> ParseChildPids(std::string_view children_text);

// Reads /proc/<pid>/status and /proc/<pid>/stat. Fails with kNotFound once the process
// is gone, kUnavailable on other read errors.
Result<ProcessSample> ReadProcessSample(pid_t pid);
Result<ProcStat> ReadProcStat(pid_t pid);
Result<SystemCpuSample> ReadSystemCpu();

// Busy share of all CPUs between two samples, 0..1 (0 when no tick elapsed).
double BusyShare(const SystemCpuSample& before, const SystemCpuSample& after);
// CPU seconds spent busy on all CPUs together between two samples.
double BusySeconds(const SystemCpuSample& before, const SystemCpuSample& after,
                   long ticks_per_second);

}  // namespace integr8scode
