#include "run/outcome.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <cmath>

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

// The cgroup counts OOM kills of any process in the slot. They ended a program's step
// only when its main process died of the OOM killer's SIGKILL (or the sandbox went): a
// parent that outlived a killed child chose its own status. A compiler driver is not
// the user's: its failure after a killed cc1 is the compile step's memory limit.
bool OomEndedTheStep(const StepFacts& facts, const Verdict& verdict) {
  if (facts.oom_kills == 0) return false;
  if (!facts.wait_status) return true;
  if (facts.compile) return verdict.exit_code != 0;
  return verdict.signal == SIGKILL;
}

std::string MemoryLimitMessage(const StepFacts& facts) {
  if (facts.compile) {
    return fmt::format(
        "stopped while compiling: the compiler needed more than the compile step's {} memory "
        "limit",
        FormatByteSize(facts.limits.memory_bytes));
  }
  return fmt::format("stopped: the program needed more than its {} memory limit",
                     FormatByteSize(facts.limits.memory_bytes));
}

// SIGXCPU is the platform's only when the kernel's RLIMIT_CPU timer could have sent it:
// the main process's own CPU time reached the soft limit. wait4 truncates user and
// system time to microseconds each; 10 ms of slack covers that and nothing a program
// could use (it would have to burn the whole backstop first).
bool ReachedCpuBackstop(const StepFacts& facts) {
  constexpr std::int64_t kSlackUs = 10'000;
  const auto backstop_us =
      static_cast<std::int64_t>(CpuTimeBackstopSeconds(facts.limits.timeout)) * 1'000'000;
  return facts.main_cpu_us >= backstop_us - kSlackUs;
}

void AddOomHint(const StepFacts& facts, Verdict& verdict) {
  if (facts.oom_kills == 0) return;
  if (!verdict.message.empty()) verdict.message += "; ";
  verdict.message += fmt::format("a process of it was killed at the {} memory limit",
                                 FormatByteSize(facts.limits.memory_bytes));
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
  if (facts.limits_unfit) {
    verdict.status = ExecutionStatus::kMemoryExceeded;
    verdict.exit_code.reset();
    verdict.message = fmt::format(
        "not started: the files left in its scratch area already use more than the {} memory "
        "limit{}",
        FormatByteSize(facts.limits.memory_bytes), facts.compile ? " of the compile step" : "");
    return verdict;
  }
  if (facts.exec_errno != 0) {
    verdict.status = ExecutionStatus::kError;
    verdict.exit_code.reset();
    verdict.message =
        fmt::format("the {} could not be started ({})", facts.compile ? "compiler" : "runtime",
                    ::strerrordesc_np(facts.exec_errno));
    return verdict;
  }
  const bool clean_exit = verdict.exit_code == 0;
  if (OomEndedTheStep(facts, verdict)) {
    verdict.status = ExecutionStatus::kMemoryExceeded;
    verdict.message = MemoryLimitMessage(facts);
    return verdict;
  }
  if (!facts.wait_status) {
    verdict.status = ExecutionStatus::kError;
    verdict.message = "the sandbox ended before the program did";
    return verdict;
  }
  if (verdict.signal == SIGXCPU && ReachedCpuBackstop(facts)) {
    verdict.status = ExecutionStatus::kTimedOut;
    verdict.message = fmt::format("stopped after using {} s of CPU time{}",
                                  CpuTimeBackstopSeconds(facts.limits.timeout),
                                  facts.compile ? " while compiling" : "");
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
  AddOomHint(facts, verdict);
  AddProcessHint(facts, verdict);
  return verdict;
}

std::uint32_t CpuTimeBackstopSeconds(std::chrono::milliseconds timeout) {
  const double seconds = std::chrono::duration<double>(timeout).count();
  return static_cast<std::uint32_t>(std::ceil(seconds)) + 1;
}

}  // namespace integr8scode
