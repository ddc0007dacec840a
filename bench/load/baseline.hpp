#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "load/latency_samples.hpp"

namespace integr8scode {

// The yardstick of the load figures: the same small program run bare, outside any
// sandbox, server or store, as fast as `jobs` parallel loops of spawn + wait can go.
struct BaselineSettings {
  std::vector<std::string> argv;  // e.g. {"/usr/bin/python3.11", "-c", "print('hi')"}
  std::string expected_stdout;    // a run that prints anything else counts as failed
  std::size_t jobs = 2;           // parallel loops: one per core keeps every core busy
  std::chrono::milliseconds duration{30000};
};

struct BaselineResult {
  BaselineSettings settings;
  double elapsed_s = 0;  // until the last loop ended its last run
  std::uint64_t runs = 0;
  std::uint64_t failures = 0;  // could not start, non-zero exit, signal or other output
  LatencySamples run_latency;  // spawn → output read and exit reaped
  double cpu_s = 0;            // CPU time of all the runs (RUSAGE_CHILDREN)

  double RunsPerSecond() const {
    return elapsed_s > 0 ? static_cast<double>(runs - failures) / elapsed_s : 0;
  }
  double CpuMillisecondsPerRun() const {
    return runs > 0 ? cpu_s * 1000 / static_cast<double>(runs) : 0;
  }
};

// Runs the baseline; each loop makes one run, then starts more only before the deadline. Each run's
// stdout and stderr go to a pipe that is read whole, as the sandbox reads them. Fails with
// kInvalidArgument for an empty argv or zero jobs; a run that cannot be started is a
// failure in the result, not an error. The CPU time is that of every child the process
// reaps meanwhile: run nothing else that forks at the same time.
Result<BaselineResult> RunBaseline(const BaselineSettings& settings);

}  // namespace integr8scode
