// Verdicts a program could fool, and limits it could turn into platform errors: every
// status here must come from what the platform did (its cgroup's OOM kills, its CPU
// timer), never from a signal the program sent itself, and no user program may end
// `error`.
#include <dirent.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "common/cancel.hpp"
#include "hostile/hostile_fixture.hpp"

namespace integr8scode {
namespace {

using testing::RunOptions;

TEST_F(Hostile, ABinaryLargerThanTheMemoryLimitIsMemoryExceeded) {
  // The compiled program (30 MiB of initialised data) stays on the tmpfs, charged to the
  // slot, while the run step asks for 16 MiB: the limit cannot be set below that.
  RunOptions options;
  options.limits.memory_bytes = 16ull << 20;
  const RunResult result = C(R"(
#include <stdio.h>
static char big[30 << 20] = {1};
int main(int argc, char** argv) { (void)argv; printf("%d\n", big[argc * 4096]); return 0; })",
                             options);
  EXPECT_EQ(result.status, ExecutionStatus::kMemoryExceeded) << result.message;
  EXPECT_NE(result.message.find("16 MiB"), std::string::npos) << result.message;
}

TEST_F(Hostile, FillingTheTmpfsWithATinyResidentSetIsMemoryExceeded) {
  // The files are charged to the slot but belong to no process: the OOM killer must
  // pick the program, not the sandbox's init.
  RunOptions options;
  options.limits.memory_bytes = 24ull << 20;
  const RunResult result = C(R"(
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  static char block[1 << 16];
  memset(block, 'x', sizeof block);
  int fd = open("/tmp/fill", O_WRONLY | O_CREAT, 0600);
  for (;;) if (write(fd, block, sizeof block) < 0) return 2;
})",
                             options);
  EXPECT_EQ(result.status, ExecutionStatus::kMemoryExceeded)
      << result.message << result.stderr_text;
  EXPECT_NE(result.message.find("24 MiB"), std::string::npos) << result.message;
}

bool HaveCapSysResource() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("CapEff:")) {
      return (std::stoull(line.substr(7), nullptr, 16) >> CAP_SYS_RESOURCE) & 1;
    }
  }
  return false;
}

// The parent pid of a process (field 4 of /proc/<pid>/stat), or -1.
long ParentOf(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string state;
  long parent = -1;
  fields >> state >> parent;
  return parent;
}

// Checks, while a program runs, every sandbox init of this test process (named
// i8c-sandbox, children of our spawner; other processes on the host may run their own):
// each must be out of the OOM killer's way. Then ends the run.
class InitInspector final : public OutputSink {
 public:
  void OnOutput(OutputStream, std::string_view chunk) override {
    seen_ += chunk;
    if (seen_.find("running\n") == std::string::npos || inspected_.exchange(true)) return;
    Inspect();
    cancel_.Cancel();
  }
  const CancelToken& Token() const { return cancel_; }
  int inits_ = 0;
  std::string unprotected_;

 private:
  void Inspect() {
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return;
    while (const dirent* entry = ::readdir(proc)) {
      const std::string pid = entry->d_name;
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string comm;
      std::getline(std::ifstream("/proc/" + pid + "/comm"), comm);
      if (comm != "i8c-sandbox") continue;
      if (ParentOf(std::to_string(ParentOf(pid))) != ::getpid()) continue;
      std::string adj;
      std::getline(std::ifstream("/proc/" + pid + "/oom_score_adj"), adj);
      ++inits_;
      // -1000 needs CAP_SYS_RESOURCE, which some container hosts withhold; then the
      // init keeps 0 and the program's 1000 makes it the OOM killer's choice.
      if (adj != (HaveCapSysResource() ? "-1000" : "0")) unprotected_ += pid + ":" + adj + " ";
    }
    ::closedir(proc);
  }

  std::string seen_;
  std::atomic<bool> inspected_{false};
  CancelToken cancel_;
};

TEST_F(Hostile, TheOomKillerPicksTheProgramNeverTheInit) {
  InitInspector inspector;
  RunOptions options;
  options.sink = &inspector;
  options.cancel = &inspector.Token();
  const RunResult result = Python(R"(
import time
print(open("/proc/self/oom_score_adj").read().strip())
try:
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("-1000")
    print("LOWERED")
except OSError as e:
    print("refused", e.errno)
print("running", flush=True)
time.sleep(60)
)",
                                  options);
  EXPECT_EQ(result.status, ExecutionStatus::kCancelled) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "1000\nrefused 13\nrunning\n");
  EXPECT_GE(inspector.inits_, 1);
  EXPECT_EQ(inspector.unprotected_, "");
}

TEST_F(Hostile, TheSmallestProcessLimitRunsOneProcess) {
  RunOptions options;
  options.limits.pids = 1;
  const RunResult python = Python("print('one process')\n", options);
  EXPECT_EQ(python.status, ExecutionStatus::kCompleted) << python.message << python.stderr_text;
  EXPECT_EQ(python.stdout_text, "one process\n");
  const RunResult fork = Python(R"(
import os
try:
    os.fork()
    print("FORKED")
except OSError as e:
    print("refused", e.errno)
)",
                                options);
  EXPECT_EQ(fork.status, ExecutionStatus::kCompleted) << fork.message << fork.stderr_text;
  EXPECT_EQ(fork.stdout_text, "refused 11\n");
}

TEST_F(Hostile, ASelfSentCpuSignalIsNotATimeout) {
  const RunResult result = C(R"(
#include <signal.h>
#include <unistd.h>
int main(void) { kill(getpid(), SIGXCPU); pause(); return 0; })");
  EXPECT_EQ(result.status, ExecutionStatus::kFailed) << result.message;
  EXPECT_EQ(result.signal, SIGXCPU);
  EXPECT_NE(result.message.find("SIGXCPU"), std::string::npos) << result.message;
}

TEST_F(Hostile, AChildKilledAtTheMemoryLimitDoesNotDecideTheParentsStatus) {
  RunOptions options;
  options.limits.memory_bytes = 48ull << 20;
  const RunResult result = Python(R"(
import os, sys
child = os.fork()
if child == 0:
    chunks = []
    while True:
        chunks.append(bytearray(4 << 20))
_, status = os.waitpid(child, 0)
print("child signal", os.WTERMSIG(status) if os.WIFSIGNALED(status) else None, flush=True)
sys.exit(3)
)",
                                  options);
  EXPECT_EQ(result.status, ExecutionStatus::kFailed) << result.message << result.stderr_text;
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.stdout_text, "child signal 9\n");
  EXPECT_NE(result.message.find("48 MiB"), std::string::npos) << result.message;
}

TEST_F(Hostile, ACompileStepOutOfMemoryNamesTheCompileStepsLimit) {
  // A catalog entry with a small compile limit, and a source whose preprocessing
  // explodes: a million initialisers.
  Runtime runtime = testing::RuntimeFor("c", "12");
  runtime.compile.limits.memory_bytes = 40ull << 20;
  RunRequest request;
  request.runtime = &runtime;
  request.source = R"(
#define A0 1,
#define A1 A0 A0 A0 A0 A0 A0 A0 A0 A0 A0
#define A2 A1 A1 A1 A1 A1 A1 A1 A1 A1 A1
#define A3 A2 A2 A2 A2 A2 A2 A2 A2 A2 A2
#define A4 A3 A3 A3 A3 A3 A3 A3 A3 A3 A3
#define A5 A4 A4 A4 A4 A4 A4 A4 A4 A4 A4
#define A6 A5 A5 A5 A5 A5 A5 A5 A5 A5 A5
int values[] = { A6 };
int main(void) { return values[0] - 1; })";
  const RunResult result = testing::SharedExecutor().Run(request);
  EXPECT_EQ(result.status, ExecutionStatus::kMemoryExceeded)
      << result.message << result.stderr_text;
  EXPECT_NE(result.message.find("compile step's 40 MiB"), std::string::npos) << result.message;
}

}  // namespace
}  // namespace integr8scode
