#include "domain/status.hpp"

namespace integr8scode {

std::string_view StatusName(ExecutionStatus status) {
  switch (status) {
    case ExecutionStatus::kQueued:
      return "queued";
    case ExecutionStatus::kRunning:
      return "running";
    case ExecutionStatus::kCompleted:
      return "completed";
    case ExecutionStatus::kFailed:
      return "failed";
    case ExecutionStatus::kCompileError:
      return "compile_error";
    case ExecutionStatus::kTimedOut:
      return "timed_out";
    case ExecutionStatus::kMemoryExceeded:
      return "memory_exceeded";
    case ExecutionStatus::kOutputExceeded:
      return "output_exceeded";
    case ExecutionStatus::kCancelled:
      return "cancelled";
    case ExecutionStatus::kError:
      return "error";
  }
  return "error";
}

std::optional<ExecutionStatus> ParseStatus(std::string_view name) {
  for (const ExecutionStatus status : kAllStatuses) {
    if (StatusName(status) == name) return status;
  }
  return std::nullopt;
}

bool IsTerminal(ExecutionStatus status) {
  return status != ExecutionStatus::kQueued && status != ExecutionStatus::kRunning;
}

bool CanTransition(ExecutionStatus from, ExecutionStatus to) {
  switch (from) {
    case ExecutionStatus::kQueued:
      return to == ExecutionStatus::kRunning || to == ExecutionStatus::kCancelled ||
             to == ExecutionStatus::kError;
    case ExecutionStatus::kRunning:
      return IsTerminal(to) || to == ExecutionStatus::kQueued;
    default:
      return false;
  }
}

}  // namespace integr8scode
