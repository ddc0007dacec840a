#pragma once

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
  std::uint64_t oom_kills = 0;
  std::uint64_t pids_limit_hits = 0;
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
// memory limit (OOM kill), then the CPU-time backstop (SIGXCPU → timed out), then a
// compile step's failure, then the program's own exit.
Verdict Judge(const StepFacts& facts);

}  // namespace integr8scode
