// The test side of warm starts through the real sandbox, shared by the CPython, PyPy and
// Node.js suites: a one-slot executor that builds ahead, the loop that runs until a run
// starts as wanted, and the limit cases compared cold against warm.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/local_executor.hpp"
#include "support/sandbox_harness.hpp"

namespace integr8scode::testing {

// One slot, so every run after the first lands where the last one built ahead; `options`
// says which zygotes (sandbox.warm and the runtimes' own).
inline std::unique_ptr<Executor> MakeOneSlotWarmExecutor(SandboxOptions options) {
  options.slots = 1;
  options.use_spawner = true;
  options.prebuild = true;
  if (const char* mode = std::getenv("INTEGR8SCODE_TEST_CGROUP_MODE")) options.cgroup_mode = mode;
  auto executor = CreateLocalExecutor(options);
  if (!executor) throw std::runtime_error(executor.error().Describe());
  return std::move(*executor);
}

struct RunUntilPacing {
  int attempts = 30;
  std::chrono::milliseconds idle{150};
};

// Runs until a run starts as `kind`; the idle time between runs is the precondition of a
// sandbox built ahead (a run that comes too early is simply cold, and the loop tries again).
inline RunResult RunUntilStart(const std::string& runtime, const std::string& version,
                               StartKind kind, const std::string& program,
                               const RunOptions& options, RunUntilPacing pacing = {}) {
  RunResult result;
  for (int attempt = 0; attempt < pacing.attempts; ++attempt) {
    std::this_thread::sleep_for(pacing.idle);
    result = RunCode(runtime, version, program, options);
    if (result.start == kind) return result;
  }
  ADD_FAILURE() << "no " << runtime << " run started as " << static_cast<int>(kind) << ": "
                << result.stdout_text << result.stderr_text;
  return result;
}

// A warm run (or a fallback) must end as the cold one did.
inline void ExpectSameOutcome(const RunResult& run, const RunResult& cold) {
  EXPECT_EQ(run.status, cold.status);
  EXPECT_EQ(run.exit_code, cold.exit_code);
  EXPECT_EQ(run.stdout_text, cold.stdout_text);
  EXPECT_EQ(run.stderr_text, cold.stderr_text);
}

// `program` prints what it can see of how it was started, reads stdin and fails with
// `error`: run cold (the slot's first run) and then until warm, both must end alike, and
// the warm run is charged its own CPU, not the interpreter's start-up before the go.
inline void ExpectWarmRunMatchesCold(const std::string& runtime, const std::string& version,
                                     const std::string& program, const std::string& error,
                                     Executor& executor) {
  RunOptions options;
  options.executor = &executor;
  options.stdin_data = "from stdin";
  const RunResult cold = RunCode(runtime, version, program, options);
  ASSERT_EQ(cold.start, StartKind::kCold);
  ASSERT_EQ(cold.exit_code, 1) << cold.stderr_text;
  ASSERT_NE(cold.stderr_text.find(error), std::string::npos) << cold.stderr_text;
  const RunResult warm = RunUntilStart(runtime, version, StartKind::kWarm, program, options);
  ExpectSameOutcome(warm, cold);
  EXPECT_LT(warm.usage.cpu_time_ms, cold.usage.cpu_time_ms) << "warm CPU";
}

// `program` prints what every process draws anew (random state, hash secret): two warm
// runs on `executor` must draw differently, not as children forked from one interpreter.
inline void ExpectTwoWarmRunsDrawAnew(const std::string& runtime, const std::string& version,
                                      const std::string& program, Executor& executor) {
  RunOptions options;
  options.executor = &executor;
  std::vector<std::string> draws;
  for (int i = 0; i < 2; ++i) {
    draws.push_back(
        RunUntilStart(runtime, version, StartKind::kWarm, program, options).stdout_text);
  }
  ASSERT_FALSE(draws[0].empty());
  EXPECT_NE(draws[0], draws[1]);
}

struct WarmLimitCase {
  const char* name;
  const char* program;
  LimitOverrides limits;
  ExecutionStatus status;
};

inline void PrintTo(const WarmLimitCase& limit_case, std::ostream* os) { *os << limit_case.name; }

// The limits of one case: the defaults with `set` applied.
template <class Set>
LimitOverrides Limited(Set set) {
  LimitOverrides limits;
  set(limits);
  return limits;
}

// A limit holds for a warm run as for a cold one: the case's status on both, the same
// exit code or signal, and stderr.
inline void ExpectLimitHoldsAsCold(const WarmLimitCase& limit_case, const RunResult& cold,
                                   const RunResult& warm) {
  EXPECT_EQ(cold.status, limit_case.status) << cold.stderr_text;
  EXPECT_EQ(warm.status, limit_case.status) << warm.stderr_text;
  EXPECT_EQ(warm.exit_code, cold.exit_code);
  EXPECT_EQ(warm.signal, cold.signal);
  EXPECT_EQ(warm.stderr_text, cold.stderr_text);
}

// A runtime whose warm run is its cold run's very executable: the case run cold (the slot's
// first run), then until warm, must hold the same.
inline void ExpectLimitHoldsWarmAsCold(const std::string& runtime, const std::string& version,
                                       const WarmLimitCase& limit_case, Executor& executor) {
  RunOptions options;
  options.executor = &executor;
  options.limits = limit_case.limits;
  const RunResult cold = RunCode(runtime, version, limit_case.program, options);
  ASSERT_EQ(cold.start, StartKind::kCold);
  ExpectLimitHoldsAsCold(
      limit_case, cold,
      RunUntilStart(runtime, version, StartKind::kWarm, limit_case.program, options));
}

// The name of an instantiated limit case, as ctest shows it.
inline std::string LimitCaseName(const ::testing::TestParamInfo<WarmLimitCase>& info) {
  return info.param.name;
}

}  // namespace integr8scode::testing
