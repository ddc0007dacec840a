// What the warm probes (warm_probe.cpp, node_warm_probe.cpp) measure a run by: its wall
// time from a start, the CPU its wait reports, and the percentiles of a series of them.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

namespace integr8scode::bench {

using Clock = std::chrono::steady_clock;

inline double Millis(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

inline double CpuMillis(const rusage& usage) {
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

struct Series {
  std::vector<double> wall;
  std::vector<double> cpu;
  std::vector<double> cpu_ahead;  // a zygote's: spent before the go
};

inline double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

// Reaps `pid`, started (or sent its go) at `start`: its wall time and its CPU less
// `cpu_before_ms` (a zygote's, spent before the go) join `series`. True when it exited 0.
inline bool ReapInto(pid_t pid, Clock::time_point start, Series& series, double cpu_before_ms = 0) {
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  series.wall.push_back(Millis(Clock::now() - start));
  series.cpu.push_back(CpuMillis(usage) - cpu_before_ms);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace integr8scode::bench
