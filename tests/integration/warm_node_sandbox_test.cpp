// Node.js warm starts through the real sandbox (docs/warm-starts.md, "A warm Node.js"):
// the zygote is /usr/bin/node itself, started ahead in the sandbox built ahead with
// `--require` of the boot (src/sandbox/node_zygote/), seen at one fixed read-only path.
// A warm run is the very executable of a cold one, so only the run's StartKind tells
// them apart; everything the program sees must match.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "warm_executor_support.hpp"

namespace integr8scode::testing {
namespace {

constexpr const char* kNode = "/usr/bin/node";

bool HaveNode() { return ::access(kNode, X_OK) == 0; }

std::unique_ptr<Executor> MakeNodeWarmExecutor(
    const char* node_dir = INTEGR8SCODE_NODE_ZYGOTE_DIR) {
  SandboxOptions options;
  options.warm_zygote = INTEGR8SCODE_PYTHON_ZYGOTE;  // sandbox.warm on
  options.node_zygote_dir = node_dir;
  return MakeOneSlotWarmExecutor(std::move(options));
}

RunResult RunNodeUntil(StartKind kind, const std::string& program, const RunOptions& options) {
  return RunUntilStart("node", "20", kind, program, options);
}

RunResult RunNodeUntilWarm(const std::string& program, const RunOptions& options) {
  return RunNodeUntil(StartKind::kWarm, program, options);
}

// What a program can see of how it was started. The descriptor table and the first
// open()'s number: the control socket sits above Node's own descriptors.
constexpr const char* kIdentity =
    "const fs = require('fs');\n"
    "console.log(JSON.stringify({argv: process.argv, argv0: process.argv0,\n"
    "  execArgv: process.execArgv, execPath: process.execPath, main: require.main === module,\n"
    "  filename: __filename, dirname: __dirname, paths: module.paths, cwd: process.cwd(),\n"
    "  uid: process.getuid(), gid: process.getgid(), title: process.title,\n"
    "  cache: Object.keys(require.cache), exe: fs.readlinkSync('/proc/self/exe')}));\n"
    "const fd = fs.openSync('/dev/null', 'r');\n"
    "console.log('first open', fd, fs.readdirSync('/proc/self/fd').length);\n"
    "console.log(fs.readFileSync(0, 'utf8'));\n"
    "function fail() { throw new Error('boom'); }\n"
    "fail();\n";

TEST(WarmNode, WarmRunMatchesColdRun) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  if (!HaveNode()) GTEST_SKIP() << "needs /usr/bin/node";
  ExpectWarmRunMatchesCold("node", "20", kIdentity, "Error: boom", *MakeNodeWarmExecutor());
}

// A worker thread preloads the boot again: it must still be there, at the same path,
// while the run runs.
TEST(WarmNode, WorkerThreadsAndChildProcessesMatchCold) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  if (!HaveNode()) GTEST_SKIP() << "needs /usr/bin/node";
  auto executor = MakeNodeWarmExecutor();
  RunOptions options;
  options.executor = executor.get();
  constexpr const char* kProgram =
      "const { Worker, isMainThread, parentPort } = require('worker_threads');\n"
      "if (isMainThread) {\n"
      "  const w = new Worker(__filename);\n"
      "  w.on('message', (m) => console.log('from worker', m));\n"
      "  w.on('exit', (c) => {\n"
      "    console.log('worker exit', c);\n"
      "    const out = require('child_process').execFileSync(process.execPath,\n"
      "      ['-e', 'console.log(process.execArgv, process.argv.length)']);\n"
      "    process.stdout.write(out);\n"
      "  });\n"
      "} else {\n"
      "  parentPort.postMessage({execArgv: process.execArgv,\n"
      "    cache: Object.keys(require.cache)});\n"
      "}\n";
  const RunResult cold = RunCode("node", "20", kProgram, options);
  ASSERT_EQ(cold.start, StartKind::kCold);
  ASSERT_EQ(cold.exit_code, 0) << cold.stderr_text;
  const RunResult warm = RunNodeUntilWarm(kProgram, options);
  EXPECT_EQ(warm.exit_code, cold.exit_code) << warm.stderr_text;
  EXPECT_EQ(warm.stdout_text, cold.stdout_text);
  EXPECT_EQ(warm.stderr_text, cold.stderr_text);
}

TEST(WarmNode, EveryWarmRunHasItsOwnRandomState) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  if (!HaveNode()) GTEST_SKIP() << "needs /usr/bin/node";
  constexpr const char* kRandom =
      "console.log(Math.random(), require('crypto').randomBytes(8).toString('hex'))\n";
  ExpectTwoWarmRunsDrawAnew("node", "20", kRandom, *MakeNodeWarmExecutor());
}

// Without the boot's directory no Node run starts warm: those that would have are counted
// as fallbacks, with the results of a cold run.
TEST(WarmNode, AMissingBootFallsBackToColdCounted) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  if (!HaveNode()) GTEST_SKIP() << "needs /usr/bin/node";
  auto executor = MakeNodeWarmExecutor("/nonexistent/integr8scode-node-zygote");
  RunOptions options;
  options.executor = executor.get();
  constexpr const char* kProgram = "console.log(process.argv.length, process.execArgv)\n";
  const RunResult first = RunCode("node", "20", kProgram, options);
  ASSERT_EQ(first.start, StartKind::kCold);
  const RunResult fallback = RunNodeUntil(StartKind::kWarmFallback, kProgram, options);
  ExpectSameOutcome(fallback, first);
}

// A slot whose sandbox built ahead holds a Node zygote, taken by a CPython run: another
// shape (Node's boot directory is mounted in Node's sandboxes only), so the run builds
// its own and starts plain cold — not a fallback — and the slot's next sandbox holds a
// CPython zygote; then a Node run in that slot starts cold, and the next one warm again.
TEST(WarmNode, PythonInANodeWarmSlotStartsPlainCold) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  if (!HaveNode()) GTEST_SKIP() << "needs /usr/bin/node";
  auto executor = MakeNodeWarmExecutor();
  RunOptions options;
  options.executor = executor.get();
  constexpr const char* kExe = "console.log(require('fs').readlinkSync('/proc/self/exe'))\n";
  EXPECT_EQ(RunNodeUntilWarm(kExe, options).stdout_text, "/usr/bin/node\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // built ahead, Node waiting
  const RunResult cpython =
      RunCode("python", "3.11", "import os\nprint(os.path.exists('/opt'))\n", options);
  EXPECT_EQ(cpython.start, StartKind::kCold);
  EXPECT_EQ(cpython.stdout_text, "False\n") << cpython.stderr_text;
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // built ahead, CPython waiting
  const RunResult node_cold = RunCode("node", "20", kExe, options);
  EXPECT_EQ(node_cold.start, StartKind::kCold);
  EXPECT_EQ(node_cold.stdout_text, "/usr/bin/node\n") << node_cold.stderr_text;
  EXPECT_EQ(RunNodeUntilWarm(kExe, options).stdout_text, "/usr/bin/node\n");
}

// V8 sizes its heap from the memory it can see when Node starts; a zygote starts before
// its run's limits are set on the slot. In the sandbox Node sees no cgroup file system
// (process.constrainedMemory() is 0), so the heap is sized from the machine's memory
// alone, the same cold and warm whatever the run's memory limit — here a warm run whose
// zygote started after a run with another limit.
TEST(WarmNode, TheHeapLimitDoesNotDependOnTheZygotesMemoryLimit) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  if (!HaveNode()) GTEST_SKIP() << "needs /usr/bin/node";
  auto executor = MakeNodeWarmExecutor();
  constexpr const char* kHeap =
      "console.log(require('v8').getHeapStatistics().heap_size_limit, "
      "process.constrainedMemory())\n";
  RunOptions small;
  small.executor = executor.get();
  small.limits.memory_bytes = 96ULL << 20;
  RunOptions large = small;
  large.limits.memory_bytes = 384ULL << 20;
  const RunResult cold_large = RunCode("node", "20", kHeap, large);
  ASSERT_EQ(cold_large.start, StartKind::kCold);
  ASSERT_EQ(cold_large.exit_code, 0) << cold_large.stderr_text;
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  const RunResult after_large = RunCode("node", "20", kHeap, small);  // zygote under 384 MiB
  EXPECT_EQ(after_large.stdout_text, cold_large.stdout_text);
  const RunResult warm_small = RunNodeUntilWarm(kHeap, small);
  EXPECT_EQ(warm_small.stdout_text, cold_large.stdout_text);
  EXPECT_EQ(warm_small.stdout_text.substr(warm_small.stdout_text.find(' ')), " 0\n");
}

class WarmNodeLimits : public ::testing::TestWithParam<WarmLimitCase> {};

// Every limit holds for a warm Node run as for a cold one (the addon sets the rlimits on
// the zygote at the go; the cgroup's at the step): the same status, exit code or signal,
// and stderr.
TEST_P(WarmNodeLimits, SameStatusAsCold) {
  if (!CanSandbox()) GTEST_SKIP() << "needs root";
  if (!HaveNode()) GTEST_SKIP() << "needs /usr/bin/node";
  ExpectLimitHoldsWarmAsCold("node", "20", GetParam(), *MakeNodeWarmExecutor());
}

INSTANTIATE_TEST_SUITE_P(
    Limits, WarmNodeLimits,
    ::testing::Values(
        WarmLimitCase{"Timeout", "for (;;) {}\n", Limited([](LimitOverrides& l) {
                        l.timeout = std::chrono::milliseconds(800);
                      }),
                      ExecutionStatus::kTimedOut},
        // Past the cgroup's limit, not V8's heap limit: buffers live outside the heap.
        WarmLimitCase{"Memory",
                      "const blocks = [];\n"
                      "for (;;) blocks.push(Buffer.alloc(1 << 20, 1));\n",
                      Limited([](LimitOverrides& l) { l.memory_bytes = 96ULL << 20; }),
                      ExecutionStatus::kMemoryExceeded},
        // Blocking writes: console.log on a full pipe queues in memory (libuv), so under
        // load a flood could reach the memory limit before the reader sees the cap — in
        // either mode; the case is about the output cap, so it writes as fast as the pipe takes.
        WarmLimitCase{"Output",
                      "const fs = require('fs');\nconst line = 'x'.repeat(1000) + '\\n';\n"
                      "for (;;) fs.writeSync(1, line);\n",
                      Limited([](LimitOverrides& l) { l.output_bytes = 64 * 1024; }),
                      ExecutionStatus::kOutputExceeded},
        // Node's own threads count too: the children that fit are what is left.
        WarmLimitCase{"Pids",
                      "const { spawn } = require('child_process');\n"
                      "let started = 0, refused = 0, code = '';\n"
                      "for (let i = 0; i < 20; ++i) {\n"
                      "  const child = spawn('/usr/bin/sleep', ['0.3']);\n"
                      "  child.on('spawn', () => ++started);\n"
                      "  child.on('error', (e) => { ++refused; code = e.code; });\n"
                      "}\n"
                      "setTimeout(() => console.error(started, refused, code), 100);\n",
                      Limited([](LimitOverrides& l) { l.pids = 16; }), ExecutionStatus::kCompleted},
        WarmLimitCase{"OpenFiles",
                      "const fs = require('fs');\nlet n = 0;\n"
                      "try { for (;;) { fs.openSync('/dev/null', 'r'); ++n; } }\n"
                      "catch (e) { console.error(n, e.code); }\n",
                      Limited([](LimitOverrides& l) { l.open_files = 64; }),
                      ExecutionStatus::kCompleted},
        WarmLimitCase{"Disk",
                      "try { require('fs').writeFileSync('big', Buffer.alloc(6 << 20, 120)); }\n"
                      "catch (e) { console.error(e.code); process.exit(3); }\n",
                      Limited([](LimitOverrides& l) {
                        l.tmpfs_bytes = 8ULL << 20;
                        l.file_size_bytes = 4ULL << 20;
                      }),
                      ExecutionStatus::kFailed}),
    LimitCaseName);

}  // namespace
}  // namespace integr8scode::testing
