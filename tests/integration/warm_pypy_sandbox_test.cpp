// PyPy's warm starts through the real sandbox (docs/warm-starts.md, "PyPy"): its zygote
// is /usr/bin/pypy3.9 itself, started ahead in the sandbox built ahead with the bootstrap
// (src/sandbox/pypy_bootstrap.hpp). Unlike CPython's, a warm PyPy run is the very
// executable of a cold one (/proc/self/exe is /usr/bin/pypy3.9 in both), so only the
// run's StartKind tells them apart; everything the program sees must match.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "warm_executor_support.hpp"

namespace integr8scode::testing {
namespace {

constexpr const char* kPypy = "/usr/bin/pypy3.9";

bool HavePypy() { return ::access(kPypy, X_OK) == 0; }

std::unique_ptr<Executor> MakePypyWarmExecutor(const char* zygote = INTEGR8SCODE_PYTHON_ZYGOTE) {
  SandboxOptions options;
  options.warm_zygote = zygote;  // sandbox.warm on; PyPy's own zygote is its interpreter
  return MakeOneSlotWarmExecutor(std::move(options));
}

RunResult RunPypyUntilWarm(const std::string& program, const RunOptions& options) {
  return RunUntilStart("pypy", "3.9", StartKind::kWarm, program, options);
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
  ExpectWarmRunMatchesCold("pypy", "3.9", kIdentity, "ValueError: boom", *MakePypyWarmExecutor());
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
  ExpectTwoWarmRunsDrawAnew("pypy", "3.9", "print(hash('abc'))\n", *MakePypyWarmExecutor());
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
  ExpectSameOutcome(fallback, first);
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

class WarmPypyLimits : public ::testing::TestWithParam<WarmLimitCase> {};

// Every limit holds for a warm PyPy run as for a cold one (the bootstrap sets the rlimits
// on itself at the go): the same status, exit code or signal, and stderr.
TEST_P(WarmPypyLimits, SameStatusAsCold) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  if (!HavePypy()) GTEST_SKIP() << "needs /usr/bin/pypy3.9";
  ExpectLimitHoldsWarmAsCold("pypy", "3.9", GetParam(), *MakePypyWarmExecutor());
}

// (Memory: a PyPy start is ~50 MiB resident, so its cap is above CPython's.)
INSTANTIATE_TEST_SUITE_P(
    Limits, WarmPypyLimits,
    ::testing::Values(
        WarmLimitCase{"Timeout", "while True:\n    pass\n", Limited([](LimitOverrides& l) {
                        l.timeout = std::chrono::milliseconds(800);
                      }),
                      ExecutionStatus::kTimedOut},
        WarmLimitCase{"Memory", "blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 20))\n",
                      Limited([](LimitOverrides& l) { l.memory_bytes = 160ULL << 20; }),
                      ExecutionStatus::kMemoryExceeded},
        WarmLimitCase{"Output", "while True:\n    print('x' * 1000)\n",
                      Limited([](LimitOverrides& l) { l.output_bytes = 64 * 1024; }),
                      ExecutionStatus::kOutputExceeded},
        WarmLimitCase{"Pids",
                      "import threading, time, sys\nthreads = []\n"
                      "try:\n    for i in range(10):\n"
                      "        t = threading.Thread(target=time.sleep, args=(1,))\n"
                      "        t.start()\n        threads.append(t)\n"
                      "except RuntimeError as e:\n"
                      "    print('refused after', len(threads), e, file=sys.stderr)\n",
                      Limited([](LimitOverrides& l) { l.pids = 4; }), ExecutionStatus::kCompleted},
        WarmLimitCase{"OpenFiles",
                      "import sys\nfiles = []\ntry:\n    while True:\n"
                      "        files.append(open('/dev/null'))\n"
                      "except OSError as e:\n    print(len(files), e.errno, file=sys.stderr)\n",
                      Limited([](LimitOverrides& l) { l.open_files = 32; }),
                      ExecutionStatus::kCompleted},
        WarmLimitCase{"Disk",
                      "import sys\ntry:\n    open('big', 'wb').write(b'x' * (6 << 20))\n"
                      "except OSError as e:\n    print(type(e).__name__, file=sys.stderr)\n"
                      "    raise SystemExit(3)\n",
                      Limited([](LimitOverrides& l) {
                        l.tmpfs_bytes = 8ULL << 20;
                        l.file_size_bytes = 4ULL << 20;
                      }),
                      ExecutionStatus::kFailed}),
    LimitCaseName);

}  // namespace
}  // namespace integr8scode::testing
