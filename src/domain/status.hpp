#pragma once

#include <optional>
#include <string_view>

namespace integr8scode {

// An execution's life: queued → running → one terminal status (docs/architecture.md, "Executions").
enum class ExecutionStatus {
  kQueued,
  kRunning,
  kCompleted,       // exit code 0
  kFailed,          // non-zero exit or killed by a signal of its own making
  kCompileError,    // a compiled runtime's build step failed
  kTimedOut,        // wall-clock limit
  kMemoryExceeded,  // memory limit (OOM kill)
  kOutputExceeded,  // stdout or stderr cap
  kCancelled,       // the user asked
  kError,           // the platform failed, not the user's code
};

std::string_view StatusName(ExecutionStatus status);
std::optional<ExecutionStatus> ParseStatus(std::string_view name);
bool IsTerminal(ExecutionStatus status);
// The legal moves of the state machine: queued→running|cancelled|error,
// running→any terminal, running→queued (a retry after a crash). Nothing leaves a terminal state.
bool CanTransition(ExecutionStatus from, ExecutionStatus to);

inline constexpr ExecutionStatus kAllStatuses[] = {
    ExecutionStatus::kQueued,         ExecutionStatus::kRunning,        ExecutionStatus::kCompleted,
    ExecutionStatus::kFailed,         ExecutionStatus::kCompileError,   ExecutionStatus::kTimedOut,
    ExecutionStatus::kMemoryExceeded, ExecutionStatus::kOutputExceeded, ExecutionStatus::kCancelled,
    ExecutionStatus::kError,
};

}  // namespace integr8scode
