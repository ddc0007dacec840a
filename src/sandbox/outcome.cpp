#include "sandbox/outcome.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "common/units.hpp"

namespace integr8scode {
namespace {

std::string SignalLabel(int signal) {
  const char* abbrev = ::sigabbrev_np(signal);
  const char* description = ::sigdescr_np(signal);
  if (abbrev == nullptr) return fmt::format("signal {}", signal);
  if (description == nullptr) return fmt::format("SIG{}", abbrev);
  return fmt::format("SIG{} ({})", abbrev, description);
}

void AddProcessHint(const StepFacts& facts, Verdict& verdict) {
  if (facts.pids_limit_hits == 0) return;
  if (!verdict.message.empty()) verdict.message += "; ";
  verdict.message += fmt::format("it hit the limit of {} processes and threads", facts.limits.pids);
}

}  // namespace

Verdict Judge(const StepFacts& facts) {
  Verdict verdict;
  if (facts.wait_status) {
    if (WIFEXITED(*facts.wait_status)) verdict.exit_code = WEXITSTATUS(*facts.wait_status);
    if (WIFSIGNALED(*facts.wait_status)) verdict.signal = WTERMSIG(*facts.wait_status);
  }
  switch (facts.stop) {
    case StopReason::kCancelled:
      verdict.status = ExecutionStatus::kCancelled;
      verdict.exit_code.reset();
      verdict.signal = SIGKILL;
      verdict.message = "cancelled";
      return verdict;
    case StopReason::kTimeout:
      verdict.status = ExecutionStatus::kTimedOut;
      verdict.exit_code.reset();
      verdict.signal = SIGKILL;
      verdict.message =
          fmt::format("stopped after the {} time limit{}", FormatDuration(facts.limits.timeout),
                      facts.compile ? " while compiling" : "");
      return verdict;
    case StopReason::kOutputLimit:
      verdict.status = ExecutionStatus::kOutputExceeded;
      verdict.exit_code.reset();
      verdict.signal = SIGKILL;
      verdict.message = fmt::format("stopped: {} exceeded the {} output limit",
                                    facts.flooded == OutputStream::kStdout ? "stdout" : "stderr",
                                    FormatByteSize(facts.limits.output_bytes));
      return verdict;
    case StopReason::kNone:
      break;
  }
  if (facts.exec_errno != 0) {
    verdict.status = ExecutionStatus::kError;
    verdict.exit_code.reset();
    verdict.message =
        fmt::format("the {} could not be started ({})", facts.compile ? "compiler" : "runtime",
                    ::strerrordesc_np(facts.exec_errno));
    return verdict;
  }
  if (!facts.wait_status) {
    verdict.status = ExecutionStatus::kError;
    verdict.message = "the sandbox ended before the program did";
    return verdict;
  }
  const bool clean_exit = verdict.exit_code == 0;
  if (facts.oom_kills > 0 && !clean_exit) {
    verdict.status = ExecutionStatus::kMemoryExceeded;
    verdict.message = fmt::format("stopped: the program needed more than its {} memory limit",
                                  FormatByteSize(facts.limits.memory_bytes));
    return verdict;
  }
  if (verdict.signal == SIGXCPU) {
    verdict.status = ExecutionStatus::kTimedOut;
    verdict.message = "stopped after using its CPU time limit";
    return verdict;
  }
  if (facts.compile) {
    if (clean_exit) {
      verdict.status = ExecutionStatus::kCompleted;
      return verdict;
    }
    verdict.status = ExecutionStatus::kCompileError;
    verdict.message =
        verdict.signal ? fmt::format("the compiler was killed by {}", SignalLabel(*verdict.signal))
                       : fmt::format("compilation failed (exit code {})", *verdict.exit_code);
    AddProcessHint(facts, verdict);
    return verdict;
  }
  if (clean_exit) {
    verdict.status = ExecutionStatus::kCompleted;
    return verdict;
  }
  verdict.status = ExecutionStatus::kFailed;
  if (verdict.signal == SIGXFSZ) {
    verdict.message = fmt::format("killed: it wrote a file larger than the {} file size limit",
                                  FormatByteSize(facts.limits.file_size_bytes));
  } else if (verdict.signal) {
    verdict.message = fmt::format("killed by {}", SignalLabel(*verdict.signal));
  }
  AddProcessHint(facts, verdict);
  return verdict;
}

}  // namespace integr8scode
