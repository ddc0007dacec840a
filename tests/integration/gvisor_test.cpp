// The conformance and hostile basics under sandbox.isolation = "gvisor": the same
// statuses, output, limits and accounting as the native sandbox, with the program
// running on gVisor's Sentry (runsc, ptrace platform). Skipped, saying why, where runsc
// is not installed or the process is not root.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "sandbox/local_executor.hpp"
#include "support/sandbox_harness.hpp"

namespace integr8scode {
namespace {

using testing::RunCode;
using testing::RunOptions;

constexpr const char* kRunsc = "/usr/bin/runsc";

Executor& GvisorExecutor() {
  static std::unique_ptr<Executor> executor = [] {
    SandboxOptions options;
    options.slots = 2;
    options.isolation = "gvisor";
    options.gvisor_runsc = kRunsc;
    auto created = CreateLocalExecutor(options);
    if (!created)
      throw std::runtime_error("cannot create the sandbox: " + created.error().Describe());
    return std::move(*created);
  }();
  return *executor;
}

class Gvisor : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::CanSandbox()) GTEST_SKIP() << "the sandbox needs root";
    if (::access(kRunsc, X_OK) != 0)
      GTEST_SKIP() << "gVisor's runsc is not installed (apt-get install runsc)";
  }

  static RunResult Run(std::string_view language, std::string_view version, std::string_view source,
                       RunOptions options = {}) {
    options.executor = &GvisorExecutor();
    return RunCode(language, version, source, options);
  }
};

TEST_F(Gvisor, TheProgramRunsOnTheSentryNotTheHostKernel) {
  // gVisor's /proc/version names its own emulated kernel, never the host's.
  const RunResult result = Run("python", "3.11",
                               "import os\n"
                               "print(open('/proc/version').read().split()[2])\n"
                               "print(os.getuid() >= 61000, os.getcwd())\n");
  ASSERT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  char host[256] = {};
  std::string host_release;
  if (FILE* f = std::fopen("/proc/sys/kernel/osrelease", "r")) {
    if (std::fgets(host, sizeof host, f) != nullptr) host_release = host;
    std::fclose(f);
  }
  const std::string first_line = result.stdout_text.substr(0, result.stdout_text.find('\n'));
  EXPECT_NE(host_release.substr(0, host_release.find('\n')), first_line);
  EXPECT_NE(result.stdout_text.find("True /home/sandbox\n"), std::string::npos)
      << result.stdout_text;
  EXPECT_GT(result.usage.wall_time_ms, 0);
  EXPECT_GT(result.usage.cpu_time_ms, 0);
  EXPECT_GT(result.usage.peak_memory_bytes, 1u << 20);
}

TEST_F(Gvisor, TheOriginalsSampleOnPython311) {
  const RunResult result = Run("python", "3.11", testing::RuntimeFor("python", "3.11").example);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "An integer greater than 10\nA string: hello\nSomething else\n");
}

TEST_F(Gvisor, TheOriginalsSampleOnPython39IsASyntaxError) {
  const RunResult result = Run("pypy", "3.9", testing::RuntimeFor("python", "3.11").example);
  EXPECT_EQ(result.status, ExecutionStatus::kFailed) << result.message;
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.stderr_text.find("SyntaxError"), std::string::npos) << result.stderr_text;
}

TEST_F(Gvisor, StdinReachesTheProgram) {
  RunOptions options;
  options.stdin_data = "three\nlines\nhere\n";
  const RunResult result =
      Run("python", "3.11", "import sys\nprint(len(sys.stdin.readlines()))\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "3\n");
}

TEST_F(Gvisor, ExitCodesAndStderrPassThrough) {
  const RunResult result =
      Run("python", "3.11", "import sys\nsys.stderr.write('bad\\n')\nsys.exit(7)\n");
  EXPECT_EQ(result.status, ExecutionStatus::kFailed);
  EXPECT_EQ(result.exit_code, 7);
  EXPECT_FALSE(result.signal.has_value());
  EXPECT_EQ(result.stderr_text, "bad\n");
}

TEST_F(Gvisor, AnEndlessLoopTimesOut) {
  RunOptions options;
  options.limits.timeout = std::chrono::milliseconds(1500);
  const RunResult result = Run("python", "3.11", "while True:\n    pass\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kTimedOut) << result.message;
  EXPECT_GE(result.usage.wall_time_ms, 1500);
}

TEST_F(Gvisor, TooMuchMemoryIsMemoryExceeded) {
  RunOptions options;
  options.limits.memory_bytes = 64ull << 20;
  const RunResult result =
      Run("python", "3.11", "x = bytearray(200 * 1024 * 1024)\nprint(len(x))\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kMemoryExceeded) << result.message;
  EXPECT_EQ(result.stdout_text, "");
}

TEST_F(Gvisor, EndlessOutputIsCapped) {
  RunOptions options;
  options.limits.output_bytes = 64 * 1024;
  const RunResult result =
      Run("python", "3.11", "import sys\nwhile True:\n    sys.stdout.write('x' * 4096)\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kOutputExceeded) << result.message;
  EXPECT_TRUE(result.stdout_truncated);
  EXPECT_LE(result.stdout_text.size(), 64u * 1024);
}

TEST_F(Gvisor, AForkBombIsContained) {
  RunOptions options;
  options.limits.timeout = std::chrono::seconds(3);
  // The executor and its slots exist before the snapshot: they are not the run's.
  ASSERT_EQ(Run("python", "3.11", "print(1)\n").status, ExecutionStatus::kCompleted);
  const auto before = testing::TakeHostSnapshot();
  const RunResult result = Run("python", "3.11",
                               "import os\n"
                               "while True:\n"
                               "    try:\n"
                               "        os.fork()\n"
                               "    except OSError:\n"
                               "        pass\n",
                               options);
  // Whichever limit it meets first: the host's pids.max (the Sentry cannot make a stub
  // process and stops: failed), the memory limit (every guest process costs the Sentry
  // memory, charged to the run) or the clock. Never completed, never the platform's error.
  EXPECT_TRUE(result.status == ExecutionStatus::kTimedOut ||
              result.status == ExecutionStatus::kFailed ||
              result.status == ExecutionStatus::kMemoryExceeded)
      << StatusName(result.status) << ": " << result.message;
  // Afterwards the host holds nothing of it: no process, mount or cgroup left.
  const auto after = testing::TakeHostSnapshot();
  EXPECT_EQ(testing::DescribeLeaks(before, after, testing::PrebuiltFdSlack(2)), "");
  // And the next run in the slot works.
  const RunResult next = Run("python", "3.11", "print('ok')\n");
  EXPECT_EQ(next.status, ExecutionStatus::kCompleted) << next.message << next.stderr_text;
  EXPECT_EQ(next.stdout_text, "ok\n");
}

TEST_F(Gvisor, ThereIsNoNetwork) {
  const RunResult result = Run("python", "3.11",
                               "import socket\n"
                               "try:\n"
                               "    socket.create_connection(('127.0.0.1', 22), timeout=1)\n"
                               "    print('connected')\n"
                               "except OSError as e:\n"
                               "    print('refused')\n"
                               "try:\n"
                               "    socket.create_connection(('1.1.1.1', 80), timeout=1)\n"
                               "    print('connected')\n"
                               "except OSError as e:\n"
                               "    print('no route')\n");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "refused\nno route\n");
}

TEST_F(Gvisor, TheRootIsReadOnlyAndTheScratchAreaIsBounded) {
  RunOptions options;
  options.limits.tmpfs_bytes = 8ull << 20;
  const RunResult result = Run("python", "3.11",
                               "import os\n"
                               "for path in ('/usr/x', '/scripts/x', '/x'):\n"
                               "    try:\n"
                               "        open(path, 'w'); print('wrote', path)\n"
                               "    except OSError:\n"
                               "        print('refused')\n"
                               "print(sorted(os.listdir('/.gvisor')))\n"
                               "try:\n"
                               "    with open('/tmp/big', 'wb') as f:\n"
                               "        f.write(b'x' * (16 << 20))\n"
                               "    print('wrote 16M')\n"
                               "except OSError:\n"
                               "    print('full')\n",
                               options);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "refused\nrefused\nrefused\n[]\nfull\n");
}

TEST_F(Gvisor, ACompiledRuntimeRunsItsSteps) {
  const RunResult result =
      Run("c", "12", "#include <stdio.h>\nint main(void) { puts(\"compiled\"); return 0; }\n");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "compiled\n");
}

TEST(GvisorSetup, AMissingRunscIsRefusedWhenTheSandboxIsCreated) {
  if (!testing::CanSandbox()) GTEST_SKIP() << "the sandbox needs root";
  SandboxOptions options;
  options.slots = 1;
  options.use_spawner = false;
  options.isolation = "gvisor";
  options.gvisor_runsc = "/nonexistent/runsc";
  auto created = CreateLocalExecutor(options);
  ASSERT_FALSE(created.has_value());
  EXPECT_NE(created.error().Describe().find("needs runsc at /nonexistent/runsc"), std::string::npos)
      << created.error().Describe();
  options.isolation = "firecracker";
  created = CreateLocalExecutor(options);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace integr8scode
