// Warm starts through the real sandbox (docs/warm-starts.md): an executor
// with SandboxOptions::warm_zygote runs CPython 3.11 programs; once a slot has been idle
// long enough for its next sandbox to be built ahead, the run is handed to a zygote
// started in that sandbox. A warm run shows itself only through /proc/self/exe (the
// zygote's binary, a documented difference); everything else must match a cold run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "warm_executor_support.hpp"

namespace integr8scode::testing {
namespace {

std::unique_ptr<Executor> MakeWarmExecutor(const char* zygote = INTEGR8SCODE_PYTHON_ZYGOTE,
                                           const char* isolation = "native",
                                           std::vector<std::string> preload = {}) {
  SandboxOptions options;
  options.warm_preload = std::move(preload);
  options.warm_zygote = zygote;
  options.isolation = isolation;
  return MakeOneSlotWarmExecutor(std::move(options));
}

// CPython's slots are paced as they always were: twenty tries, 100 ms apart.
constexpr RunUntilPacing kPacing{.attempts = 20, .idle = std::chrono::milliseconds(100)};

constexpr const char* kProgram =
    "import os, sys\n"
    "print(os.readlink('/proc/self/exe'))\n"
    "print(__name__, sys.argv, __file__, sys.path, os.getcwd(), sys.executable)\n"
    "print(sorted(sys.modules))\n"
    "print(os.getuid(), len(os.listdir('/proc/self/fd')), sys.stdin.read())\n"
    "def fail():\n"
    "    raise ValueError('boom')\n"
    "fail()\n";

std::string WithoutFirstLine(const std::string& text) {
  const auto newline = text.find('\n');
  return newline == std::string::npos ? std::string() : text.substr(newline + 1);
}

TEST(WarmSandbox, WarmRunMatchesColdRun) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  auto executor = MakeWarmExecutor();
  RunOptions options;
  options.executor = executor.get();
  options.stdin_data = "from stdin";
  // The slot's first run: nothing was built ahead for CPython 3.11 yet.
  const RunResult cold = RunCode("python", "3.11", kProgram, options);
  ASSERT_EQ(cold.exit_code, 1) << cold.stderr_text;
  ASSERT_TRUE(cold.stdout_text.starts_with("/usr/bin/python3.11\n")) << cold.stdout_text;

  // Runs after an idle slot find their sandbox built ahead, with the zygote in it. The
  // idle time is the feature's precondition, not a wait for a result: a run that comes
  // too early is simply cold, and the loop tries again.
  RunResult warm;
  bool found = false;
  for (int attempt = 0; attempt < 20 && !found; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    warm = RunCode("python", "3.11", kProgram, options);
    found = warm.start == StartKind::kWarm;
  }
  ASSERT_TRUE(found) << "no run was warm: " << warm.stdout_text << warm.stderr_text;
  EXPECT_FALSE(warm.stdout_text.starts_with("/usr/bin/python3.11\n"));  // the one difference
  EXPECT_EQ(warm.status, cold.status);
  EXPECT_EQ(warm.exit_code, cold.exit_code);
  EXPECT_EQ(WithoutFirstLine(warm.stdout_text), WithoutFirstLine(cold.stdout_text));
  EXPECT_EQ(warm.stderr_text, cold.stderr_text);
}

// Runs `program` (whose first output line must be /proc/self/exe) until a run is warm.
RunResult RunUntilWarm(const char* program, const RunOptions& options) {
  return RunUntilStart("python", "3.11", StartKind::kWarm, program, options, kPacing);
}

// The limit cases' programs print /proc/self/exe first.
class WarmLimits : public ::testing::TestWithParam<WarmLimitCase> {};

// Every limit holds for a warm run as for a cold one: the same status, exit code or
// signal, and stderr.
TEST_P(WarmLimits, SameStatusAsCold) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  const WarmLimitCase& limit_case = GetParam();
  auto executor = MakeWarmExecutor();
  RunOptions options;
  options.executor = executor.get();
  options.limits = limit_case.limits;
  const RunResult cold = RunCode("python", "3.11", limit_case.program, options);
  ASSERT_TRUE(cold.stdout_text.starts_with("/usr/bin/python3.11\n")) << cold.stdout_text;
  ExpectLimitHoldsAsCold(limit_case, cold, RunUntilWarm(limit_case.program, options));
}

constexpr const char* kExe = "import os\nprint(os.readlink('/proc/self/exe'), flush=True)\n";

LimitOverrides Timeout() {
  LimitOverrides limits;
  limits.timeout = std::chrono::milliseconds(800);
  return limits;
}
LimitOverrides Memory() {
  LimitOverrides limits;
  limits.memory_bytes = 64ULL << 20;
  return limits;
}
LimitOverrides Output() {
  LimitOverrides limits;
  limits.output_bytes = 64 * 1024;
  return limits;
}
LimitOverrides Pids() {
  LimitOverrides limits;
  limits.pids = 4;
  return limits;
}
LimitOverrides OpenFiles() {
  LimitOverrides limits;
  limits.open_files = 32;
  return limits;
}
LimitOverrides Disk() {
  LimitOverrides limits;
  limits.tmpfs_bytes = 8ULL << 20;
  limits.file_size_bytes = 4ULL << 20;
  return limits;
}

const std::string kTimeoutProgram = std::string(kExe) + "while True:\n    pass\n";
const std::string kMemoryProgram =
    std::string(kExe) + "blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 20))\n";
const std::string kOutputProgram = std::string(kExe) + "while True:\n    print('x' * 1000)\n";
const std::string kPidsProgram =
    std::string(kExe) +
    "import threading, time\nthreads = []\n"
    "try:\n    for i in range(10):\n        t = threading.Thread(target=time.sleep, args=(1,))\n"
    "        t.start()\n        threads.append(t)\nexcept RuntimeError as e:\n"
    "    print('refused after', len(threads), e, file=__import__('sys').stderr)\n";
const std::string kOpenFilesProgram =
    std::string(kExe) +
    "files = []\ntry:\n    while True:\n        files.append(open('/dev/null'))\n"
    "except OSError as e:\n    print(len(files), e.errno, file=__import__('sys').stderr)\n";
const std::string kDiskProgram =
    std::string(kExe) +
    "try:\n    open('big', 'wb').write(b'x' * (6 << 20))\nexcept OSError as e:\n"
    "    print(type(e).__name__, file=__import__('sys').stderr)\n    raise SystemExit(3)\n";

INSTANTIATE_TEST_SUITE_P(
    Limits, WarmLimits,
    ::testing::Values(
        WarmLimitCase{"Timeout", kTimeoutProgram.c_str(), Timeout(), ExecutionStatus::kTimedOut},
        WarmLimitCase{"Memory", kMemoryProgram.c_str(), Memory(), ExecutionStatus::kMemoryExceeded},
        WarmLimitCase{"Output", kOutputProgram.c_str(), Output(), ExecutionStatus::kOutputExceeded},
        WarmLimitCase{"Pids", kPidsProgram.c_str(), Pids(), ExecutionStatus::kCompleted},
        WarmLimitCase{"OpenFiles", kOpenFilesProgram.c_str(), OpenFiles(),
                      ExecutionStatus::kCompleted},
        WarmLimitCase{"Disk", kDiskProgram.c_str(), Disk(), ExecutionStatus::kFailed}),
    LimitCaseName);

// A zygote that cannot serve (here: a binary that exits at once) never fails a run: the
// run starts cold, exactly as without warm starts, and says it fell back.
TEST(WarmSandbox, BrokenZygoteFallsBackToCold) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  auto executor = MakeWarmExecutor("/bin/false");
  RunOptions options;
  options.executor = executor.get();
  options.stdin_data = "from stdin";
  const RunResult first = RunCode("python", "3.11", kProgram, options);
  ASSERT_EQ(first.start, StartKind::kCold);
  const RunResult fallback =
      RunUntilStart("python", "3.11", StartKind::kWarmFallback, kProgram, options, kPacing);
  ASSERT_EQ(fallback.start, StartKind::kWarmFallback);
  ExpectSameOutcome(fallback, first);
}

// sandbox.warm without the zygote's binary (a build without libpython3.11-dev): runs start
// cold and never fail, and each run that would have found its zygote counts as a fallback.
TEST(WarmSandbox, MissingZygoteFallsBackToColdAndIsCounted) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  auto executor = MakeWarmExecutor("/nonexistent/integr8scode-python-zygote");
  RunOptions options;
  options.executor = executor.get();
  options.stdin_data = "from stdin";
  const RunResult first = RunCode("python", "3.11", kProgram, options);
  ASSERT_EQ(first.start, StartKind::kCold);  // no sandbox was built ahead for it
  ASSERT_EQ(first.exit_code, 1) << first.stderr_text;
  const RunResult fallback =
      RunUntilStart("python", "3.11", StartKind::kWarmFallback, kProgram, options, kPacing);
  ASSERT_EQ(fallback.start, StartKind::kWarmFallback);
  ExpectSameOutcome(fallback, first);
}

// A runtime the catalog opts out (`warm = false`) always starts cold, where the same
// runtime opted in is warm after the same idle time.
TEST(WarmSandbox, RuntimeOptedOutInTheCatalogStartsCold) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  auto executor = MakeWarmExecutor();
  Runtime opted_out = RuntimeFor("python", "3.11");
  opted_out.warm = false;
  const auto run = [&](const Runtime& runtime) {
    RunRequest request;
    request.runtime = &runtime;
    request.source = kExe;
    request.limits = Limits{};
    return executor->Run(request);
  };
  for (int i = 0; i < 5; ++i) {
    const RunResult result = run(opted_out);
    ASSERT_EQ(result.exit_code, 0) << result.stderr_text;
    EXPECT_EQ(result.start, StartKind::kCold) << "run " << i;
    EXPECT_EQ(result.stdout_text, "/usr/bin/python3.11\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the slot idles
  }
  // The control: the same executor and idle time start the shipped entry warm.
  RunResult opted_in;
  for (int attempt = 0; attempt < 20 && opted_in.start != StartKind::kWarm; ++attempt) {
    opted_in = run(RuntimeFor("python", "3.11"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(opted_in.start, StartKind::kWarm);
}

// The slot's sandbox built ahead holds a zygote for its last program (CPython 3.11); a run
// of another runtime (one step, or a compile step and a run) takes that sandbox and starts
// cold — an ordinary cold start, not a fallback from a broken zygote.
TEST(WarmSandbox, AnotherRuntimeInAWarmSlotStartsPlainCold) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  auto executor = MakeWarmExecutor();
  RunOptions options;
  options.executor = executor.get();
  for (const auto& [language, version, source] :
       {std::tuple{"bash", "5.2", "echo other"},
        std::tuple{"c", "12", "#include <stdio.h>\nint main(void) { puts(\"other\"); }\n"}}) {
    (void)RunUntilWarm(kExe, options);  // the next sandbox holds a zygote again
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // and is built ahead
    const RunResult other = RunCode(language, version, source, options);
    EXPECT_EQ(other.start, StartKind::kCold) << language;
    EXPECT_EQ(other.exit_code, 0) << language << ": " << other.stderr_text;
    EXPECT_EQ(other.stdout_text, "other\n") << language;
  }
}

// Under gVisor the step is runsc, which runs the interpreter on its own kernel: a zygote
// started natively would bypass it. So no run is ever warm there, idle slot or not.
TEST(WarmSandbox, UnderGvisorEveryRunStaysOnTheSentry) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  constexpr const char* kRunsc = "/usr/bin/runsc";
  if (::access(kRunsc, X_OK) != 0) GTEST_SKIP() << "gVisor's runsc is not installed";
  auto executor = MakeWarmExecutor(INTEGR8SCODE_PYTHON_ZYGOTE, "gvisor");
  RunOptions options;
  options.executor = executor.get();
  std::string host_release;
  if (std::FILE* f = std::fopen("/proc/sys/kernel/osrelease", "r")) {
    char line[256] = {};
    if (std::fgets(line, sizeof line, f) != nullptr) host_release = line;
    std::fclose(f);
  }
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the slot idles
    const RunResult result =
        RunCode("python", "3.11", "print(open('/proc/version').read().split()[2])\n", options);
    ASSERT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
    EXPECT_EQ(result.start, StartKind::kCold) << "run " << i;
    EXPECT_NE(result.stdout_text, host_release) << "run " << i << " ran on the host's kernel";
  }
}

TEST(WarmSandbox, EveryWarmRunHasItsOwnHashSecret) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  auto executor = MakeWarmExecutor();
  RunOptions options;
  options.executor = executor.get();
  const char* program =
      "import os\nprint(os.readlink('/proc/self/exe') != '/usr/bin/python3.11', hash('abc'))\n";
  std::vector<std::string> warm_hashes;
  for (int attempt = 0; attempt < 40 && warm_hashes.size() < 2; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const RunResult result = RunCode("python", "3.11", program, options);
    ASSERT_EQ(result.exit_code, 0) << result.stderr_text;
    if (result.stdout_text.starts_with("True ")) warm_hashes.push_back(result.stdout_text);
  }
  ASSERT_EQ(warm_hashes.size(), 2U);
  EXPECT_NE(warm_hashes[0], warm_hashes[1]);
}

// sandbox.warm_preload: the modules travel in the shape to the zygote in the sandbox,
// which imports them before the go. A cold run has none of them; a warm run has them all
// before its first line, and `random`, preloaded (a cold start may import it too, through
// Debian's site hooks), is still seeded anew in every run.
TEST(WarmSandbox, PreloadedModulesAreThereBeforeTheFirstLine) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  auto executor = MakeWarmExecutor(INTEGR8SCODE_PYTHON_ZYGOTE, "native",
                                   {"json", "xml.etree.ElementTree", "random"});
  RunOptions options;
  options.executor = executor.get();
  const char* program =
      "import os, sys\n"
      "print(os.readlink('/proc/self/exe'))\n"
      "print(sorted(m for m in ('json', 'xml.etree.ElementTree') if m in sys.modules))\n"
      "import random\n"
      "print(random.getrandbits(64))\n";
  const RunResult cold = RunCode("python", "3.11", program, options);
  ASSERT_EQ(cold.exit_code, 0) << cold.stderr_text;
  ASSERT_TRUE(cold.stdout_text.starts_with("/usr/bin/python3.11\n")) << cold.stdout_text;
  EXPECT_NE(cold.stdout_text.find("\n[]\n"), std::string::npos) << cold.stdout_text;
  const RunResult first = RunUntilWarm(program, options);
  const RunResult second = RunUntilWarm(program, options);
  for (const RunResult* warm : {&first, &second}) {
    EXPECT_EQ(warm->exit_code, 0) << warm->stderr_text;
    EXPECT_NE(warm->stdout_text.find("\n['json', 'xml.etree.ElementTree']\n"), std::string::npos)
        << warm->stdout_text;
    EXPECT_FALSE(warm->preload_incomplete);
  }
  EXPECT_NE(WithoutFirstLine(first.stdout_text), WithoutFirstLine(second.stdout_text));
}

// A preloaded module that cannot be imported in the sandbox does not cost the run its
// warm start: the zygote leaves it out, the run starts warm with the others and succeeds,
// and the result says the preload was incomplete (integr8scode_warm_preload_missing_total).
TEST(WarmSandbox, AnUnimportablePreloadedModuleLeavesTheRunWarm) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  auto executor =
      MakeWarmExecutor(INTEGR8SCODE_PYTHON_ZYGOTE, "native", {"no_such_module_i8c", "json"});
  RunOptions options;
  options.executor = executor.get();
  const char* program =
      "import os, sys\n"
      "print(os.readlink('/proc/self/exe'))\n"
      "print('json' in sys.modules, 'no_such_module_i8c' in sys.modules)\n";
  const RunResult cold = RunCode("python", "3.11", program, options);
  ASSERT_EQ(cold.exit_code, 0) << cold.stderr_text;
  EXPECT_EQ(WithoutFirstLine(cold.stdout_text), "False False\n");
  EXPECT_FALSE(cold.preload_incomplete);
  const RunResult warm = RunUntilWarm(program, options);
  EXPECT_EQ(warm.status, ExecutionStatus::kCompleted) << warm.stderr_text;
  EXPECT_EQ(WithoutFirstLine(warm.stdout_text), "True False\n");
  EXPECT_EQ(warm.stderr_text, "");
  EXPECT_TRUE(warm.preload_incomplete);
}

}  // namespace
}  // namespace integr8scode::testing
