#include "run/outcome.hpp"

#include <gtest/gtest.h>
#include <signal.h>

namespace integr8scode {
namespace {

constexpr int Exited(int code) { return code << 8; }
constexpr int Signaled(int signal) { return signal; }

StepFacts Facts(int wait_status) {
  StepFacts facts;
  facts.wait_status = wait_status;
  return facts;
}

TEST(Judge, CleanExitCompletes) {
  const Verdict verdict = Judge(Facts(Exited(0)));
  EXPECT_EQ(verdict.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(verdict.exit_code, 0);
  EXPECT_FALSE(verdict.signal.has_value());
  EXPECT_TRUE(verdict.message.empty());
}

TEST(Judge, NonZeroExitFails) {
  const Verdict verdict = Judge(Facts(Exited(3)));
  EXPECT_EQ(verdict.status, ExecutionStatus::kFailed);
  EXPECT_EQ(verdict.exit_code, 3);
}

TEST(Judge, SignalFailsAndIsNamed) {
  const Verdict verdict = Judge(Facts(Signaled(SIGSEGV)));
  EXPECT_EQ(verdict.status, ExecutionStatus::kFailed);
  EXPECT_FALSE(verdict.exit_code.has_value());
  EXPECT_EQ(verdict.signal, SIGSEGV);
  EXPECT_NE(verdict.message.find("SIGSEGV"), std::string::npos) << verdict.message;
}

TEST(Judge, SupervisorStopsWinOverTheExit) {
  StepFacts facts = Facts(Exited(0));
  facts.stop = StopReason::kTimeout;
  Verdict verdict = Judge(facts);
  EXPECT_EQ(verdict.status, ExecutionStatus::kTimedOut);
  EXPECT_EQ(verdict.message, "stopped after the 5 s time limit");
  EXPECT_FALSE(verdict.exit_code.has_value());

  facts.stop = StopReason::kOutputLimit;
  facts.flooded = OutputStream::kStderr;
  verdict = Judge(facts);
  EXPECT_EQ(verdict.status, ExecutionStatus::kOutputExceeded);
  EXPECT_EQ(verdict.message, "stopped: stderr exceeded the 1 MiB output limit");

  facts.stop = StopReason::kCancelled;
  EXPECT_EQ(Judge(facts).status, ExecutionStatus::kCancelled);
}

TEST(Judge, OomKillIsMemoryExceeded) {
  StepFacts facts = Facts(Signaled(SIGKILL));
  facts.oom_kills = 1;
  const Verdict verdict = Judge(facts);
  EXPECT_EQ(verdict.status, ExecutionStatus::kMemoryExceeded);
  EXPECT_EQ(verdict.message, "stopped: the program needed more than its 128 MiB memory limit");
}

TEST(Judge, OomOfAChildTheProgramSurvivedIsNotAFailure) {
  StepFacts facts = Facts(Exited(0));
  facts.oom_kills = 1;
  EXPECT_EQ(Judge(facts).status, ExecutionStatus::kCompleted);
}

TEST(Judge, CpuLimitSignalIsATimeoutOnlyAtTheBackstop) {
  StepFacts facts = Facts(Signaled(SIGXCPU));
  facts.main_cpu_us = 6'000'000;  // ceil(5 s) + 1 s: the kernel's RLIMIT_CPU sent it
  Verdict verdict = Judge(facts);
  EXPECT_EQ(verdict.status, ExecutionStatus::kTimedOut);
  EXPECT_EQ(verdict.message, "stopped after using 6 s of CPU time");

  facts.main_cpu_us = 5'999'999;  // wait4's microseconds, truncated
  EXPECT_EQ(Judge(facts).status, ExecutionStatus::kTimedOut);

  facts.main_cpu_us = 156'000;  // the program sent it to itself
  verdict = Judge(facts);
  EXPECT_EQ(verdict.status, ExecutionStatus::kFailed);
  EXPECT_EQ(verdict.signal, SIGXCPU);
  EXPECT_NE(verdict.message.find("killed by SIGXCPU"), std::string::npos) << verdict.message;
}

TEST(Judge, AChildsOomKillDoesNotDecideTheParentsExit) {
  StepFacts facts = Facts(Exited(3));
  facts.oom_kills = 1;
  const Verdict verdict = Judge(facts);
  EXPECT_EQ(verdict.status, ExecutionStatus::kFailed);
  EXPECT_EQ(verdict.exit_code, 3);
  EXPECT_EQ(verdict.message, "a process of it was killed at the 128 MiB memory limit");
}

TEST(Judge, ASandboxGoneWithAnOomKillIsMemoryExceeded) {
  StepFacts facts;
  facts.oom_kills = 1;
  EXPECT_EQ(Judge(facts).status, ExecutionStatus::kMemoryExceeded);
  facts.oom_kills = 0;
  EXPECT_EQ(Judge(facts).status, ExecutionStatus::kError);
}

TEST(Judge, ACompileStepOomNamesTheCompileStepsLimit) {
  StepFacts facts = Facts(Exited(1));  // gcc reports its killed cc1
  facts.compile = true;
  facts.oom_kills = 1;
  facts.limits.memory_bytes = 512ull << 20;
  const Verdict verdict = Judge(facts);
  EXPECT_EQ(verdict.status, ExecutionStatus::kMemoryExceeded);
  EXPECT_EQ(verdict.message,
            "stopped while compiling: the compiler needed more than the compile step's 512 MiB "
            "memory limit");
}

TEST(Judge, AMemoryLimitBelowWhatTheTmpfsHoldsIsMemoryExceeded) {
  StepFacts facts;
  facts.limits_unfit = true;
  facts.limits.memory_bytes = 16ull << 20;
  const Verdict verdict = Judge(facts);
  EXPECT_EQ(verdict.status, ExecutionStatus::kMemoryExceeded);
  EXPECT_NE(verdict.message.find("16 MiB"), std::string::npos) << verdict.message;
}

TEST(Judge, FileSizeLimitIsExplained) {
  const Verdict verdict = Judge(Facts(Signaled(SIGXFSZ)));
  EXPECT_EQ(verdict.status, ExecutionStatus::kFailed);
  EXPECT_NE(verdict.message.find("file size limit"), std::string::npos);
}

TEST(Judge, CompileFailureIsACompileError) {
  StepFacts facts = Facts(Exited(1));
  facts.compile = true;
  const Verdict verdict = Judge(facts);
  EXPECT_EQ(verdict.status, ExecutionStatus::kCompileError);
  EXPECT_EQ(verdict.message, "compilation failed (exit code 1)");
  facts.wait_status = Exited(0);
  EXPECT_EQ(Judge(facts).status, ExecutionStatus::kCompleted);
}

TEST(Judge, ExecFailureIsAPlatformError) {
  StepFacts facts = Facts(Exited(127));
  facts.exec_errno = ENOENT;
  const Verdict verdict = Judge(facts);
  EXPECT_EQ(verdict.status, ExecutionStatus::kError);
  EXPECT_NE(verdict.message.find("could not be started"), std::string::npos);
}

TEST(Judge, ProcessLimitHitsAreMentioned) {
  StepFacts facts = Facts(Exited(1));
  facts.pids_limit_hits = 5;
  EXPECT_NE(Judge(facts).message.find("limit of 64 processes"), std::string::npos);
}

}  // namespace
}  // namespace integr8scode
