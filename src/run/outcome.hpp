#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "domain/executor.hpp"
#include "domain/limits.hpp"
#include "domain/status.hpp"

namespace integr8scode {

// Why the supervisor ended a step early, if it did.
enum class StopReason { kNone, kTimeout, kOutputLimit, kCancelled };

// What is known about one finished step.
struct StepFacts {
  bool compile = false;
  StopReason stop = StopReason::kNone;
  OutputStream flooded = OutputStream::kStdout;  // with kOutputLimit
  std::optional<int> wait_status;  // the step's status as reported by the sandbox init
  int exec_errno = 0;              // the step's program could not be executed
  std::int64_t main_cpu_us = 0;    // the step's main process (and its waited children), wait4
  std::uint64_t oom_kills = 0;
  std::uint64_t pids_limit_hits = 0;
  bool limits_unfit = false;  // the memory limit could not be set: the step never ran
  Limits limits;
};

struct Verdict {
  ExecutionStatus status = ExecutionStatus::kError;
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string message;  // empty for a plain completed/failed run
};

// The status rules of an execution (docs/architecture.md, "Executions"), in one pure function:
// a stop by the supervisor wins, then an exec failure (platform error), then the
// memory limit, then the CPU-time backstop, then a compile step's failure, then the
// program's own exit. A limit verdict needs the platform's own evidence, not a signal
// the program can send itself: memory_exceeded when the slot's cgroup counted an OOM
// kill and the main process died of SIGKILL (or the sandbox with it); timed_out for
// SIGXCPU only when the main process's CPU time reached the RLIMIT_CPU backstop.
Verdict Judge(const StepFacts& facts);

// The RLIMIT_CPU soft limit of a step (SIGXCPU), a backstop behind the wall clock.
std::uint32_t CpuTimeBackstopSeconds(std::chrono::milliseconds timeout);

}  // namespace integr8scode
