// PyPy's warm starts through the real sandbox (docs/warm-starts.md, "PyPy"): its zygote
// is /usr/bin/pypy3.9 itself, started ahead in the sandbox built ahead with the bootstrap
// (src/sandbox/pypy_bootstrap.hpp). Unlike CPython's, a warm PyPy run is the very
// executable of a cold one (/proc/self/exe is /usr/bin/pypy3.9 in both), so only the
// run's StartKind tells them apart; everything the program sees must match.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/local_executor.hpp"
#include "support/sandbox_harness.hpp"

namespace integr8scode::testing {
namespace {

constexpr const char* kPypy = "/usr/bin/pypy3.9";

bool HavePypy() { return ::access(kPypy, X_OK) == 0; }

std::unique_ptr<Executor> MakePypyWarmExecutor(const char* zygote = INTEGR8SCODE_PYTHON_ZYGOTE) {
  SandboxOptions options;
  options.slots = 1;
  options.use_spawner = true;
  options.prebuild = true;
  options.warm_zygote = zygote;  // sandbox.warm on; PyPy's own zygote is its interpreter
  if (const char* mode = std::getenv("INTEGR8SCODE_TEST_CGROUP_MODE")) options.cgroup_mode = mode;
  auto executor = CreateLocalExecutor(options);
  if (!executor) throw std::runtime_error(executor.error().Describe());
  return std::move(*executor);
}

// Runs until a run is warm; the idle time between runs is the precondition of a sandbox
// built ahead (a run that comes too early is simply cold, and the loop tries again).
RunResult RunPypyUntilWarm(const std::string& program, const RunOptions& options) {
  RunResult result;
  for (int attempt = 0; attempt < 30; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    result = RunCode("pypy", "3.9", program, options);
    if (result.start == StartKind::kWarm) return result;
  }
  ADD_FAILURE() << "no PyPy run was warm: " << result.stdout_text << result.stderr_text;
  return result;
}

constexpr const char* kIdentity =
    "import os, sys\n"
    "print(os.readlink('/proc/self/exe'))\n"
    "print(__name__, sys.argv, __file__, sys.path, os.getcwd(), sys.executable, sys.flags)\n"
    "print(sorted(sys.modules))\n"
    "print(sorted(globals()), __loader__.name, __loader__.path, __spec__, __cached__)\n"
    "print(__builtins__ is __import__('builtins'), __annotations__)\n"
    "print(os.getuid(), sorted(os.listdir('/proc/self/fd')), sys.stdin.read())\n"
    "print(sys.stdout.line_buffering, sys.stdin.isatty(), [os.get_inheritable(fd) for fd in (0, "
    "1, 2)])\n"
    "try:\n"
    "    sys._getframe(1)\n"
    "except ValueError as e:\n"
    "    print('no caller:', e)\n"
    "def fail():\n"
    "    raise ValueError('boom')\n"
    "fail()\n";

TEST(WarmPypy, WarmRunMatchesColdRun) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  if (!HavePypy()) GTEST_SKIP() << "needs /usr/bin/pypy3.9 (apt-get install pypy3)";
  auto executor = MakePypyWarmExecutor();
  RunOptions options;
  options.executor = executor.get();
  options.stdin_data = "from stdin";
  const RunResult cold = RunCode("pypy", "3.9", kIdentity, options);  // the slot's first run
  ASSERT_EQ(cold.start, StartKind::kCold);
  ASSERT_EQ(cold.exit_code, 1) << cold.stderr_text;
  ASSERT_TRUE(cold.stderr_text.find("ValueError: boom") != std::string::npos) << cold.stderr_text;
  const RunResult warm = RunPypyUntilWarm(kIdentity, options);
  EXPECT_EQ(warm.status, cold.status);
  EXPECT_EQ(warm.exit_code, cold.exit_code);
  EXPECT_EQ(warm.stdout_text, cold.stdout_text);
  EXPECT_EQ(warm.stderr_text, cold.stderr_text);
  // The run is charged its own CPU, not the interpreter's start-up before the go.
  EXPECT_LT(warm.usage.cpu_time_ms, cold.usage.cpu_time_ms) << "warm CPU";
}

// PyPy without CPython's zygote binary: its own zygote is its interpreter, so it still
// starts warm (and is not counted as a fallback).
TEST(WarmPypy, StartsWarmWithoutThePythonZygoteBinary) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  if (!HavePypy()) GTEST_SKIP() << "needs /usr/bin/pypy3.9";
  auto executor = MakePypyWarmExecutor("/nonexistent/integr8scode-python-zygote");
  RunOptions options;
  options.executor = executor.get();
  const RunResult warm = RunPypyUntilWarm("print('hi')\n", options);
  EXPECT_EQ(warm.stdout_text, "hi\n");
}

TEST(WarmPypy, EveryWarmRunHasItsOwnHashSecret) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  if (!HavePypy()) GTEST_SKIP() << "needs /usr/bin/pypy3.9";
  auto executor = MakePypyWarmExecutor();
  RunOptions options;
  options.executor = executor.get();
  std::vector<std::string> hashes;
  for (int i = 0; i < 2; ++i)
    hashes.push_back(RunPypyUntilWarm("print(hash('abc'))\n", options).stdout_text);
  ASSERT_FALSE(hashes[0].empty());
  EXPECT_NE(hashes[0], hashes[1]);
}

// A bootstrap zygote that dies before it is ready (here: the bootstrap given to CPython,
// which has no __pypy__) never fails a run: the run starts cold with the results of a
// cold run, and is counted as a fallback.
TEST(WarmPypy, ABootstrapZygoteThatDiesFallsBackToCold) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  auto executor = MakePypyWarmExecutor();
  Runtime broken = RuntimeFor("python", "3.11");
  broken.zygote = ZygoteKind::kBootstrap;
  const auto run = [&] {
    RunRequest request;
    request.runtime = &broken;
    request.source = "import sys\nprint(sys.argv)\nraise SystemExit(4)\n";
    request.limits = Limits{};
    return executor->Run(request);
  };
  const RunResult first = run();
  ASSERT_EQ(first.start, StartKind::kCold);
  ASSERT_EQ(first.exit_code, 4) << first.stderr_text;
  RunResult fallback;
  for (int attempt = 0; attempt < 30 && fallback.start != StartKind::kWarmFallback; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    fallback = run();
  }
  ASSERT_EQ(fallback.start, StartKind::kWarmFallback);
  EXPECT_EQ(fallback.status, first.status);
  EXPECT_EQ(fallback.exit_code, first.exit_code);
  EXPECT_EQ(fallback.stdout_text, first.stdout_text);
  EXPECT_EQ(fallback.stderr_text, first.stderr_text);
}

// A slot whose sandbox built ahead holds a PyPy zygote, taken by a CPython run: the init
// sees another program, stops the zygote and starts the run cold — plain cold, not a
// fallback — and the slot's next sandbox holds a CPython zygote.
TEST(WarmPypy, CpythonInAPypyWarmSlotStartsPlainCold) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  if (!HavePypy()) GTEST_SKIP() << "needs /usr/bin/pypy3.9";
  auto executor = MakePypyWarmExecutor();
  RunOptions options;
  options.executor = executor.get();
  constexpr const char* kExe = "import os\nprint(os.readlink('/proc/self/exe'))\n";
  EXPECT_EQ(RunPypyUntilWarm(kExe, options).stdout_text, "/usr/bin/pypy3.9\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // built ahead, PyPy waiting
  const RunResult cpython = RunCode("python", "3.11", kExe, options);
  EXPECT_EQ(cpython.start, StartKind::kCold);
  EXPECT_EQ(cpython.stdout_text, "/usr/bin/python3.11\n") << cpython.stderr_text;
  RunResult warm;
  for (int attempt = 0; attempt < 30 && warm.start != StartKind::kWarm; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    warm = RunCode("python", "3.11", kExe, options);
  }
  EXPECT_EQ(warm.start, StartKind::kWarm);
  EXPECT_NE(warm.stdout_text, "/usr/bin/python3.11\n");  // CPython's zygote binary
}

struct PypyLimitCase {
  const char* name;
  const char* program;
  LimitOverrides limits;
  ExecutionStatus status;
};

void PrintTo(const PypyLimitCase& limit_case, std::ostream* os) { *os << limit_case.name; }

class WarmPypyLimits : public ::testing::TestWithParam<PypyLimitCase> {};

// Every limit holds for a warm PyPy run as for a cold one (the bootstrap sets the rlimits
// on itself at the go): the same status, exit code or signal, and stderr.
TEST_P(WarmPypyLimits, SameStatusAsCold) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  if (!HavePypy()) GTEST_SKIP() << "needs /usr/bin/pypy3.9";
  const PypyLimitCase& limit_case = GetParam();
  auto executor = MakePypyWarmExecutor();
  RunOptions options;
  options.executor = executor.get();
  options.limits = limit_case.limits;
  const RunResult cold = RunCode("pypy", "3.9", limit_case.program, options);
  ASSERT_EQ(cold.start, StartKind::kCold);
  EXPECT_EQ(cold.status, limit_case.status) << cold.stderr_text;
  const RunResult warm = RunPypyUntilWarm(limit_case.program, options);
  EXPECT_EQ(warm.status, limit_case.status) << warm.stderr_text;
  EXPECT_EQ(warm.exit_code, cold.exit_code);
  EXPECT_EQ(warm.signal, cold.signal);
  EXPECT_EQ(warm.stderr_text, cold.stderr_text);
}

// The limits of one case: the defaults with `set` applied. (Memory: a PyPy start is ~50
// MiB resident, so its cap is above CPython's.)
template <class Set>
LimitOverrides Limited(Set set) {
  LimitOverrides limits;
  set(limits);
  return limits;
}

INSTANTIATE_TEST_SUITE_P(
    Limits, WarmPypyLimits,
    ::testing::Values(
        PypyLimitCase{"Timeout", "while True:\n    pass\n", Limited([](LimitOverrides& l) {
                        l.timeout = std::chrono::milliseconds(800);
                      }),
                      ExecutionStatus::kTimedOut},
        PypyLimitCase{"Memory", "blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 20))\n",
                      Limited([](LimitOverrides& l) { l.memory_bytes = 160ULL << 20; }),
                      ExecutionStatus::kMemoryExceeded},
        PypyLimitCase{"Output", "while True:\n    print('x' * 1000)\n",
                      Limited([](LimitOverrides& l) { l.output_bytes = 64 * 1024; }),
                      ExecutionStatus::kOutputExceeded},
        PypyLimitCase{"Pids",
                      "import threading, time, sys\nthreads = []\n"
                      "try:\n    for i in range(10):\n"
                      "        t = threading.Thread(target=time.sleep, args=(1,))\n"
                      "        t.start()\n        threads.append(t)\n"
                      "except RuntimeError as e:\n"
                      "    print('refused after', len(threads), e, file=sys.stderr)\n",
                      Limited([](LimitOverrides& l) { l.pids = 4; }), ExecutionStatus::kCompleted},
        PypyLimitCase{"OpenFiles",
                      "import sys\nfiles = []\ntry:\n    while True:\n"
                      "        files.append(open('/dev/null'))\n"
                      "except OSError as e:\n    print(len(files), e.errno, file=sys.stderr)\n",
                      Limited([](LimitOverrides& l) { l.open_files = 32; }),
                      ExecutionStatus::kCompleted},
        PypyLimitCase{"Disk",
                      "import sys\ntry:\n    open('big', 'wb').write(b'x' * (6 << 20))\n"
                      "except OSError as e:\n    print(type(e).__name__, file=sys.stderr)\n"
                      "    raise SystemExit(3)\n",
                      Limited([](LimitOverrides& l) {
                        l.tmpfs_bytes = 8ULL << 20;
                        l.file_size_bytes = 4ULL << 20;
                      }),
                      ExecutionStatus::kFailed}),
    [](const auto& limit_case) { return std::string(limit_case.param.name); });

}  // namespace
}  // namespace integr8scode::testing
