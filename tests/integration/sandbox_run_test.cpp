// Real programs through the real local sandbox (needs root; skipped otherwise).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/cancel.hpp"
#include "sandbox/local_executor.hpp"
#include "support/sandbox_harness.hpp"

namespace integr8scode {
namespace {

using testing::RecordingSink;
using testing::RunCode;
using testing::RunOptions;

class SandboxRun : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::CanSandbox()) GTEST_SKIP() << "the sandbox needs root";
  }
};

// The original README's sample: the catalog's Python 3.11 example is that script.
const std::string& MatchSample() {
  static const std::string sample = testing::RuntimeFor("python", "3.11").example;
  return sample;
}

TEST_F(SandboxRun, PythonPrintsAndReportsUsage) {
  const RunResult result = RunCode("python", "3.11", "print('hi')\n");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_FALSE(result.signal.has_value());
  EXPECT_EQ(result.stdout_text, "hi\n");
  EXPECT_EQ(result.stderr_text, "");
  EXPECT_GT(result.usage.wall_time_ms, 0);
  EXPECT_GT(result.usage.cpu_time_ms, 0);
  EXPECT_GT(result.usage.peak_memory_bytes, 1u << 20);
  EXPECT_LT(result.usage.peak_memory_bytes, 128u << 20);
  EXPECT_GT(result.setup_us, 0);
}

TEST_F(SandboxRun, TheOriginalsSampleOnPython311) {
  const RunResult result = RunCode("python", "3.11", MatchSample());
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "An integer greater than 10\nA string: hello\nSomething else\n");
}

// PyPy is on the host's /usr; CPython 3.9 has its own root filesystem
// (runtimes_conformance_test.cpp).
TEST_F(SandboxRun, TheOriginalsSampleOnPyPy39IsASyntaxError) {
  const RunResult result = RunCode("pypy", "3.9", MatchSample());
  EXPECT_EQ(result.status, ExecutionStatus::kFailed);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.stderr_text.find("File \"/scripts/script.py\", line 7"), std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("SyntaxError"), std::string::npos) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "");
}

TEST_F(SandboxRun, EveryCatalogExampleRuns) {
  for (const Runtime& runtime : testing::Catalog().All()) {
    SCOPED_TRACE(runtime.Key());
    if (!runtime.root_tree.empty()) continue;  // runtimes_conformance_test.cpp runs those
    const RunResult result = RunCode(runtime.language, runtime.version, runtime.example);
    EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << "\n"
                                                          << result.stderr_text;
    EXPECT_FALSE(result.stdout_text.empty());
  }
}

TEST_F(SandboxRun, NodeRuns) {
  const RunResult result = RunCode(
      "node", "20", "console.log([3,1,2].toSorted().join(','), process.version.split('.')[0])");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "1,2,3 v20\n");
}

TEST_F(SandboxRun, CompileErrorCarriesTheCompilersMessage) {
  const RunResult result = RunCode("c", "12", "int main(void) { return undeclared; }\n");
  EXPECT_EQ(result.status, ExecutionStatus::kCompileError);
  // GCC quotes with ‘’ under the sandbox's UTF-8 locale.
  EXPECT_NE(result.stderr_text.find("error: \xE2\x80\x98undeclared\xE2\x80\x99 undeclared"),
            std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("/scripts/main.c:1"), std::string::npos) << result.stderr_text;
  EXPECT_NE(result.message.find("compilation failed"), std::string::npos);
}

TEST_F(SandboxRun, CompiledProgramRunsWithItsOwnExitCode) {
  const RunResult result =
      RunCode("c", "12", "#include <stdio.h>\nint main(void){puts(\"built\");return 7;}\n");
  EXPECT_EQ(result.status, ExecutionStatus::kFailed);
  EXPECT_EQ(result.exit_code, 7);
  EXPECT_EQ(result.stdout_text, "built\n");
}

TEST_F(SandboxRun, CrashIsReportedWithItsSignal) {
  const RunResult result =
      RunCode("c", "12", "int main(void){ volatile int *p = 0; return *p; }\n");
  EXPECT_EQ(result.status, ExecutionStatus::kFailed);
  EXPECT_EQ(result.signal, SIGSEGV);
  EXPECT_FALSE(result.exit_code.has_value());
}

TEST_F(SandboxRun, StdinIsTheProgramsInput) {
  RunOptions options;
  options.stdin_data = "3\n4\n";
  const RunResult result =
      RunCode("python", "3.11", "import sys\nprint(sum(int(x) for x in sys.stdin))\n", options);
  EXPECT_EQ(result.stdout_text, "7\n") << result.stderr_text;
}

TEST_F(SandboxRun, WithoutStdinTheProgramReadsEndOfFile) {
  const RunResult result = RunCode("python", "3.11", "import sys\nprint(repr(sys.stdin.read()))\n");
  EXPECT_EQ(result.stdout_text, "''\n") << result.stderr_text;
}

TEST_F(SandboxRun, StdinCannotBeWritten) {
  RunOptions options;
  options.stdin_data = "secret";
  const RunResult result =
      RunCode("python", "3.11",
              "import os\ntry:\n    os.write(0, b'x')\nexcept OSError as e:\n    print(e.errno)\n",
              options);
  EXPECT_EQ(result.stdout_text, "9\n") << result.stderr_text;  // EBADF
}

TEST_F(SandboxRun, ExitCodeIsPassedThrough) {
  const RunResult result = RunCode("python", "3.11", "import sys\nprint('bye')\nsys.exit(3)\n");
  EXPECT_EQ(result.status, ExecutionStatus::kFailed);
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.stdout_text, "bye\n");
}

TEST_F(SandboxRun, InvalidUtf8OutputIsReplaced) {
  const RunResult result =
      RunCode("python", "3.11", "import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe end\\n')\n");
  EXPECT_EQ(result.stdout_text, "ok \xEF\xBF\xBD\xEF\xBF\xBD end\n");
}

TEST_F(SandboxRun, OutputStreamsWhileTheProgramRuns) {
  RecordingSink sink;
  RunOptions options;
  options.sink = &sink;
  const RunResult result = RunCode(
      "python", "3.11", "import time\nprint('first')\ntime.sleep(1.5)\nprint('second')\n", options);
  const long long done = testing::SteadyMillis();
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted);
  const long long first = sink.MillisUntilStdoutContains("first");
  ASSERT_GE(first, 0);
  // 'first' reached us before the program's 1.5 s sleep was over, not at the end.
  EXPECT_GE(done - first, 1000) << "the first line arrived only " << done - first
                                << " ms before the end";
  EXPECT_EQ(sink.Stdout(), "first\nsecond\n");
}

TEST_F(SandboxRun, EnvironmentIsCleanAndComplete) {
  ::setenv("INTEGR8SCODE_TEST_SECRET", "must-not-leak", 1);
  const RunResult result =
      RunCode("python", "3.11",
              "import os\nprint(sorted(os.environ))\nprint(os.getcwd(), os.environ['HOME'])\n");
  ::unsetenv("INTEGR8SCODE_TEST_SECRET");
  EXPECT_EQ(result.stdout_text,
            "['HOME', 'LANG', 'LOGNAME', 'PATH', 'TMPDIR', 'USER']\n/home/sandbox /home/sandbox\n")
      << result.stderr_text;
}

TEST_F(SandboxRun, NothingPersistsBetweenRuns) {
  const RunResult first = RunCode("python", "3.11",
                                  "open('/tmp/mark','w').write('x')\nopen('/home/sandbox/"
                                  "mark','w').write('y')\nprint('written')\n");
  EXPECT_EQ(first.stdout_text, "written\n") << first.stderr_text;
  const RunResult second = RunCode(
      "python", "3.11",
      "import os\nprint(os.path.exists('/tmp/mark'), os.path.exists('/home/sandbox/mark'))\n");
  EXPECT_EQ(second.stdout_text, "False False\n");
}

TEST_F(SandboxRun, MemoryLimitStopsTheProgram) {
  RunOptions options;
  options.limits.memory_bytes = 64ull << 20;
  const RunResult result =
      RunCode("python", "3.11", "x = bytearray(200 * 1024 * 1024)\nprint('allocated')\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kMemoryExceeded)
      << result.message << result.stderr_text;
  EXPECT_EQ(result.message, "stopped: the program needed more than its 64 MiB memory limit");
  EXPECT_EQ(result.stdout_text, "");
}

TEST_F(SandboxRun, TimeoutKeepsWhatWasPrinted) {
  RunOptions options;
  options.limits.timeout = std::chrono::milliseconds(800);
  const RunResult result =
      RunCode("python", "3.11", "import time\nprint('before the hang')\ntime.sleep(60)\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kTimedOut);
  EXPECT_EQ(result.stdout_text, "before the hang\n");
  EXPECT_EQ(result.message, "stopped after the 800 ms time limit");
  EXPECT_GE(result.usage.wall_time_ms, 800);
  EXPECT_EQ(result.signal, SIGKILL);
}

TEST_F(SandboxRun, TinyCpuQuotaStillRunsButSlowly) {
  RunOptions options;
  options.limits.cpu_millicores = 100;
  options.limits.timeout = std::chrono::seconds(20);
  const RunResult result = RunCode(
      "python", "3.11", "n = 0\nfor i in range(3_000_000):\n    n += i\nprint(n > 0)\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message;
  EXPECT_EQ(result.stdout_text, "True\n");
  // A tenth of a core: wall time is several times the CPU time.
  EXPECT_GE(result.usage.wall_time_ms, 4 * result.usage.cpu_time_ms)
      << "wall " << result.usage.wall_time_ms << " ms, cpu " << result.usage.cpu_time_ms << " ms";
}

TEST_F(SandboxRun, OutputFloodIsCutAtTheCap) {
  RunOptions options;
  options.limits.output_bytes = 64 * 1024;
  const RunResult result = RunCode("python", "3.11", "while True:\n    print('y' * 99)\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kOutputExceeded);
  EXPECT_TRUE(result.stdout_truncated);
  EXPECT_EQ(result.stdout_text.size(), 64u * 1024);
  EXPECT_EQ(result.message, "stopped: stdout exceeded the 64 KiB output limit");
}

TEST_F(SandboxRun, CancelStopsARunningProgram) {
  CancelToken cancel;
  RecordingSink sink;
  RunOptions options;
  options.cancel = &cancel;
  options.sink = &sink;
  std::thread canceller([&] {
    while (sink.MillisUntilStdoutContains("waiting\n") < 0) std::this_thread::yield();
    cancel.Cancel();
  });
  const RunResult result =
      RunCode("python", "3.11", "import time\nprint('waiting')\ntime.sleep(30)\n", options);
  canceller.join();
  EXPECT_EQ(result.status, ExecutionStatus::kCancelled);
  EXPECT_EQ(result.stdout_text, "waiting\n");
  EXPECT_LT(result.usage.wall_time_ms, 30000);
}

TEST_F(SandboxRun, DirectLaunchWorksLikeTheSpawner) {
  auto executor = testing::MakeExecutor(1, /*use_spawner=*/false);
  RunOptions options;
  options.executor = executor.get();
  const RunResult result = RunCode("python", "3.11", "print(6 * 7)\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(result.stdout_text, "42\n");
}

// On a hybrid host (controllers on v1, an empty v2 mount) the v2 backend still runs
// for real: sandboxes are cloned into a v2 slot (CLONE_INTO_CGROUP), CPU time comes from
// its cpu.stat and leftovers are killed through cgroup.kill. Memory, CPU and pids limits
// need the v2 controllers and are covered by the main suite on a v2 host.
TEST_F(SandboxRun, CgroupV2BackendOnTheUnifiedHierarchy) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  std::string unified;
  while (std::getline(mountinfo, line)) {
    if (line.find(" - cgroup2 ") != std::string::npos) unified = line.substr(0, line.find(" - "));
  }
  if (unified.empty()) GTEST_SKIP() << "no cgroup v2 hierarchy on this host";
  SandboxOptions options;
  options.slots = 1;
  options.cgroup_mode = "v2";
  options.allow_missing_cgroup_controllers = true;
  auto executor = CreateLocalExecutor(options);
  ASSERT_TRUE(executor.has_value()) << executor.error().Describe();
  RunOptions run;
  run.executor = executor->get();
  const RunResult hello = RunCode("python", "3.11", "n = sum(range(2_000_000))\nprint(n)\n", run);
  EXPECT_EQ(hello.status, ExecutionStatus::kCompleted) << hello.message;
  EXPECT_EQ(hello.stdout_text, "1999999000000\n");
  EXPECT_GT(hello.usage.cpu_time_ms, 10);              // from the v2 slot's cpu.stat
  EXPECT_GT(hello.usage.peak_memory_bytes, 1u << 20);  // wait4's maxrss: no memory.peak here
  run.limits.timeout = std::chrono::milliseconds(500);
  const RunResult stuck =
      RunCode("python", "3.11", "import os, time\nos.fork()\ntime.sleep(30)\n", run);
  EXPECT_EQ(stuck.status, ExecutionStatus::kTimedOut);
  const auto before = testing::TakeHostSnapshot();
  executor->reset();
  EXPECT_EQ(testing::DescribeLeaks(before, testing::TakeHostSnapshot()), "");
}

TEST_F(SandboxRun, ASlotWhoseCgroupVanishedIsRebuilt) {
  testing::SharedExecutor();
  const auto without = testing::TakeHostSnapshot().cgroup_entries;
  // Without sandboxes built ahead: those keep the slot's cgroup busy, so no one can
  // remove it between runs.
  auto executor = testing::MakeExecutor(1, /*use_spawner=*/true, /*prebuild=*/false);
  RunOptions options;
  options.executor = executor.get();
  ASSERT_EQ(RunCode("python", "3.11", "print(1)\n", options).status, ExecutionStatus::kCompleted);
  // An operator's cleanup script removes the idle slot's cgroup directories.
  int removed = 0;
  for (const std::string& dir : testing::TakeHostSnapshot().cgroup_entries) {
    if (std::find(without.begin(), without.end(), dir) == without.end())
      removed += ::rmdir(dir.c_str()) == 0;
  }
  ASSERT_GT(removed, 0);
  const RunResult again = RunCode("python", "3.11", "print(2)\n", options);
  EXPECT_EQ(again.status, ExecutionStatus::kCompleted) << again.message;
  EXPECT_EQ(again.stdout_text, "2\n");
}

// Waits (bounded) for the condition an asynchronous build ahead should reach.
template <class Condition>
bool Eventually(Condition condition) {
  for (int attempt = 0; attempt < 500; ++attempt) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

// A sandbox init built ahead that has not been handed a run: its /scripts is empty (a
// run's program is placed there before anything else happens).
bool WaitsForARun(pid_t init) {
  std::error_code ec;
  const std::filesystem::path scripts = fmt::format("/proc/{}/root/scripts", init);
  return std::filesystem::is_directory(scripts, ec) && std::filesystem::is_empty(scripts, ec) &&
         !ec;
}

TEST_F(SandboxRun, EachSandboxBuiltAheadServesOneRun) {
  testing::SharedExecutor();
  const auto others = testing::TakeHostSnapshot().cgroup_entries;
  auto executor = testing::MakeExecutor(1, /*use_spawner=*/true);
  std::string slot_dir;  // one hierarchy's directory of the new executor's slot
  for (const std::string& dir : testing::TakeHostSnapshot().cgroup_entries) {
    if (std::find(others.begin(), others.end(), dir) == others.end()) slot_dir = dir;
  }
  ASSERT_FALSE(slot_dir.empty());
  RunOptions options;
  options.executor = executor.get();
  std::vector<pid_t> waiting;
  ASSERT_TRUE(Eventually([&] { return (waiting = testing::ProcessesIn(slot_dir)).size() == 1; }))
      << "no sandbox was built ahead for the idle slot";
  const pid_t first = waiting[0];
  const RunResult result =
      RunCode("python", "3.11", "print('in a sandbox built ahead')\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message;
  EXPECT_EQ(result.stdout_text, "in a sandbox built ahead\n");
  // The one used is gone; a new one waits for the next run.
  ASSERT_TRUE(Eventually([&] {
    waiting = testing::ProcessesIn(slot_dir);
    return waiting.size() == 1 && waiting[0] != first;
  }));
  EXPECT_NE(::kill(first, 0), 0);
  // A compiled runtime (another file name, two steps) takes the next one as well.
  const RunResult c = RunCode(
      "c", "12", "#include <stdio.h>\nint main(void){puts(\"c too\");return 0;}\n", options);
  EXPECT_EQ(c.stdout_text, "c too\n") << c.message << c.stderr_text;
  // The disk limit of the run applies, not the size the sandbox was built with.
  RunOptions small = options;
  small.limits.tmpfs_bytes = 8ull << 20;
  const RunResult disk = RunCode("python", "3.11", R"(
import os
st = os.statvfs("/tmp")
home = os.statvfs("/home/sandbox")
print(st.f_blocks * st.f_frsize // (1 << 20), home.f_blocks * home.f_frsize // (1 << 20))
)",
                                 small);
  EXPECT_EQ(disk.stdout_text, "8 8\n") << disk.message << disk.stderr_text;
  // One that died while waiting is replaced by a sandbox built on the spot. The last
  // run's init may still be tearing its namespaces down beside it (its result came
  // first): the one waiting is the init whose /scripts is still empty.
  ASSERT_TRUE(Eventually([&] {
    waiting = testing::ProcessesIn(slot_dir);
    return waiting.size() == 1 && WaitsForARun(waiting[0]);
  }));
  ASSERT_EQ(::kill(waiting[0], SIGKILL), 0);
  ASSERT_TRUE(Eventually([&] { return testing::ProcessesIn(slot_dir).empty(); }));
  const RunResult after = RunCode("python", "3.11", "print('still fine')\n", options);
  EXPECT_EQ(after.status, ExecutionStatus::kCompleted) << after.message;
  EXPECT_EQ(after.stdout_text, "still fine\n");
}

// The mount point of the hierarchy that holds the cpu controller, and whether it is v2
// (empty when neither has it).
std::pair<std::string, bool> CpuControllerMount() {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  std::pair<std::string, bool> v2;
  while (std::getline(mountinfo, line)) {
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, device, root, point;
    head >> id >> parent >> device >> root >> point;
    std::istringstream tail(line.substr(dash + 3));
    std::string type, source, options;
    tail >> type >> source >> options;
    if (type == "cgroup" && ("," + options + ",").find(",cpu,") != std::string::npos)
      return {point, false};
    if (type == "cgroup2") {
      std::ifstream controllers(point + "/cgroup.controllers");
      std::string word;
      while (controllers >> word)
        if (word == "cpu") v2 = {point, true};
    }
  }
  return v2;
}

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

// The programs' weight reaches the kernel: the slots' parent (what competes with the
// service's threads) and the slot a sandbox lives in carry it, in shares on v1.
TEST_F(SandboxRun, SlotsCarryTheConfiguredCpuWeight) {
  const auto [mount, v2] = CpuControllerMount();
  if (mount.empty()) GTEST_SKIP() << "no hierarchy with the cpu controller";
  SandboxOptions options;
  options.slots = 1;
  options.cpu_weight = 37;  // 379 shares on v1
  // A parent of this test's own, so that other servers' slots on the host keep theirs.
  options.cgroup_parent = "integr8scode-weight-test-" + std::to_string(::getpid());
  auto executor = CreateLocalExecutor(options);
  ASSERT_TRUE(executor.has_value()) << executor.error().Describe();
  const std::string parent = mount + "/" + options.cgroup_parent.string();
  const std::string file = v2 ? "/cpu.weight" : "/cpu.shares";
  const std::string expected = v2 ? "37" : "379";
  EXPECT_EQ(ReadTrimmed(parent + file), expected);
  // The slot's number is the first free one on the host (other servers hold theirs).
  std::string slot;
  for (const auto& entry : std::filesystem::directory_iterator(parent))
    if (entry.is_directory() && entry.path().filename().string().starts_with("slot-"))
      slot = entry.path().string();
  ASSERT_FALSE(slot.empty());
  EXPECT_EQ(ReadTrimmed(slot + file), expected);
  RunOptions run;
  run.executor = executor->get();
  const RunResult result = RunCode("python", "3.11", "print(sum(range(10)))\n", run);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message;
  EXPECT_EQ(result.stdout_text, "45\n");
  // The sandbox built ahead for the next run waits in that same weighted cgroup.
  EXPECT_TRUE(Eventually([&] { return !testing::ProcessesIn(slot).empty(); }));
  EXPECT_EQ(ReadTrimmed(slot + file), expected);
  executor->reset();
  EXPECT_FALSE(std::filesystem::exists(parent));
}

TEST_F(SandboxRun, LeavesNothingBehind) {
  testing::SharedExecutor();  // its slots belong in the "before" picture
  const auto before = testing::TakeHostSnapshot();
  for (int i = 0; i < 5; ++i)
    RunCode(
        "python", "3.11",
        "import os\nif os.fork() == 0:\n    import time; time.sleep(30)\nprint('parent done')\n");
  const auto after = testing::TakeHostSnapshot();
  EXPECT_EQ(testing::DescribeLeaks(before, after,
                                   testing::PrebuiltFdSlack(testing::kSharedExecutorSlots)),
            "");
}

}  // namespace
}  // namespace integr8scode
