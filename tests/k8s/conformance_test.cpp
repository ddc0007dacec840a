// The same cases against both executors — the local sandbox and one pod per execution
// (against the stand-in cluster) — so that parity is a test, not a claim.
#include <gtest/gtest.h>

#include <string>

#include "common/cancel.hpp"
#include "k8s/cluster_harness.hpp"
#include "support/sandbox_harness.hpp"

namespace integr8scode {
namespace {

using testing::RecordingSink;
using testing::RunOptions;

enum class Backend { kLocal, kKubernetes };

class Conformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (!testing::ClusterAvailable()) GTEST_SKIP() << "the sandbox needs root";
    refusals_before_ = testing::Cluster().Refusals().size();
  }

  void TearDown() override {
    if (GetParam() != Backend::kKubernetes || !testing::ClusterAvailable()) return;
    // Whatever the outcome, nothing of the run is left in the cluster.
    EXPECT_EQ(testing::Cluster().Pods(), 0u);
    EXPECT_EQ(testing::Cluster().ConfigMaps(), 0u);
    // Every object the executor sent passed the schema and admission.
    const auto refusals = testing::Cluster().Refusals();
    EXPECT_EQ(refusals.size(), refusals_before_) << refusals.back();
  }

  std::size_t refusals_before_ = 0;

  RunResult Run(std::string_view language, std::string_view version, std::string_view source,
                RunOptions options = {}) {
    options.executor = GetParam() == Backend::kLocal ? &testing::SharedExecutor()
                                                     : &testing::KubernetesExecutorForTests();
    return testing::RunCode(language, version, source, options);
  }
};

const std::string& MatchSample() {
  static const std::string sample = testing::RuntimeFor("python", "3.11").example;
  return sample;
}

TEST_P(Conformance, TheOriginalsSampleOnPython311) {
  const RunResult result = Run("python", "3.11", MatchSample());
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.stdout_text, "An integer greater than 10\nA string: hello\nSomething else\n");
  EXPECT_EQ(result.stderr_text, "");
}

// PyPy implements Python 3.9 from the host's packages, which the stand-in's kubelet runs;
// CPython 3.9 from bullseye has its own conformance set (runtimes_conformance_test.cpp).
TEST_P(Conformance, TheOriginalsSampleOnPython39IsASyntaxError) {
  const RunResult result = Run("pypy", "3.9", MatchSample());
  EXPECT_EQ(result.status, ExecutionStatus::kFailed) << result.message;
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.stderr_text.find("File \"/scripts/script.py\", line 7"), std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("SyntaxError"), std::string::npos);
  EXPECT_EQ(result.stdout_text, "");
}

TEST_P(Conformance, EveryCatalogExampleRuns) {
  for (const Runtime& runtime : testing::Catalog().All()) {
    SCOPED_TRACE(runtime.Key());
    // Runtimes with a root filesystem of their own are checked one by one in
    // runtimes_conformance_test.cpp (when installed); the stand-in's kubelet runs pods on
    // the host's runtimes only, and a pod needs an image.
    if (!runtime.root_tree.empty()) continue;
    if (GetParam() == Backend::kKubernetes && runtime.image.empty()) continue;
    const RunResult result = Run(runtime.language, runtime.version, runtime.example);
    EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << "\n"
                                                          << result.stderr_text;
    EXPECT_FALSE(result.stdout_text.empty());
  }
}

TEST_P(Conformance, StdinReachesTheProgram) {
  RunOptions options;
  options.stdin_data = "first line\nsecond\n\xff binary";
  const RunResult result = Run("python", "3.11",
                               "import sys\ndata = sys.stdin.buffer.read()\n"
                               "print(len(data), data.split(b'\\n')[1].decode())\n",
                               options);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "26 second\n");
}

TEST_P(Conformance, StreamsStayApartAndTheExitCodeIsKept) {
  const RunResult result =
      Run("python", "3.11",
          "import sys\nprint('out 1')\nprint('err 1', file=sys.stderr)\nprint('out 2')\n"
          "sys.exit(3)\n");
  EXPECT_EQ(result.status, ExecutionStatus::kFailed);
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_FALSE(result.signal.has_value());
  EXPECT_EQ(result.stdout_text, "out 1\nout 2\n");
  EXPECT_EQ(result.stderr_text, "err 1\n");
}

TEST_P(Conformance, KilledBySignal) {
  const RunResult result =
      Run("python", "3.11", "import os, signal\nos.kill(os.getpid(), signal.SIGABRT)\n");
  EXPECT_EQ(result.status, ExecutionStatus::kFailed);
  EXPECT_EQ(result.signal, SIGABRT);
  EXPECT_FALSE(result.exit_code.has_value());
  EXPECT_NE(result.message.find("SIGABRT"), std::string::npos) << result.message;
}

TEST_P(Conformance, CompiledProgramRuns) {
  const RunResult result = Run(
      "c", "12", "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 6 * 7); return 0; }\n");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "42\n");
}

TEST_P(Conformance, CompileErrorIsItsOwnStatus) {
  const RunResult result = Run("c", "12", "int main(void) { return undefined_name; }\n");
  EXPECT_EQ(result.status, ExecutionStatus::kCompileError) << result.message;
  EXPECT_NE(result.stderr_text.find("undefined_name"), std::string::npos) << result.stderr_text;
  EXPECT_NE(result.message.find("compilation failed"), std::string::npos) << result.message;
}

TEST_P(Conformance, TimeLimit) {
  RunOptions options;
  options.limits.timeout = std::chrono::milliseconds(1000);
  const RunResult result =
      Run("python", "3.11", "print('started', flush=True)\nwhile True: pass\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kTimedOut) << result.message;
  EXPECT_EQ(result.stdout_text, "started\n");
  EXPECT_NE(result.message.find("time limit"), std::string::npos) << result.message;
}

TEST_P(Conformance, MemoryLimit) {
  RunOptions options;
  options.limits.memory_bytes = 64ull << 20;
  const RunResult result = Run(
      "python", "3.11", "blocks = []\nwhile True: blocks.append(bytearray(8 << 20))\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kMemoryExceeded)
      << result.message << result.stderr_text;
  EXPECT_NE(result.message.find("memory limit"), std::string::npos) << result.message;
}

TEST_P(Conformance, StdoutCap) {
  RunOptions options;
  options.limits.output_bytes = 1000;
  const RunResult result = Run("python", "3.11", "while True: print('x' * 99)\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kOutputExceeded) << result.message;
  EXPECT_TRUE(result.stdout_truncated);
  EXPECT_FALSE(result.stderr_truncated);
  EXPECT_EQ(result.stdout_text.size(), 1000u);
  EXPECT_NE(result.message.find("stdout"), std::string::npos) << result.message;
}

TEST_P(Conformance, StderrCap) {
  RunOptions options;
  options.limits.output_bytes = 500;
  const RunResult result =
      Run("python", "3.11", "import sys\nprint('fine')\nwhile True: sys.stderr.write('e' * 50)\n",
          options);
  EXPECT_EQ(result.status, ExecutionStatus::kOutputExceeded) << result.message;
  EXPECT_TRUE(result.stderr_truncated);
  EXPECT_EQ(result.stdout_text, "fine\n");
  EXPECT_EQ(result.stderr_text.size(), 500u);
}

TEST_P(Conformance, UsageIsMeasured) {
  const RunResult result =
      Run("python", "3.11",
          "x = bytearray(40 << 20)\ns = 0\nfor i in range(3_000_000): s += i\nprint(s > 0)\n");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_GT(result.usage.cpu_time_ms, 0);
  EXPECT_GT(result.usage.wall_time_ms, 0);
  EXPECT_GT(result.usage.peak_memory_bytes, 40ull << 20);
  EXPECT_LT(result.usage.peak_memory_bytes, 128ull << 20);
}

TEST_P(Conformance, OutputStreamsLive) {
  RecordingSink sink;
  RunOptions options;
  options.sink = &sink;
  const RunResult result =
      Run("python", "3.11", "import sys\nprint('one', flush=True)\nprint('two', file=sys.stderr)\n",
          options);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message;
  EXPECT_EQ(sink.Stdout(), "one\n");
  EXPECT_EQ(sink.Stderr(), "two\n");
}

TEST_P(Conformance, CancelStopsTheRun) {
  CancelToken cancel;
  struct CancelOnOutput final : OutputSink {
    CancelToken* token;
    void OnOutput(OutputStream, std::string_view) override { token->Cancel(); }
  } sink;
  sink.token = &cancel;
  RunOptions options;
  options.sink = &sink;
  options.cancel = &cancel;
  const RunResult result =
      Run("python", "3.11", "import time\nprint('up', flush=True)\ntime.sleep(60)\n", options);
  EXPECT_EQ(result.status, ExecutionStatus::kCancelled) << result.message;
}

// Hostile basics: the same walls in both.
TEST_P(Conformance, NoNetwork) {
  const RunResult result = Run("python", "3.11",
                               "import socket\ntry:\n"
                               "    socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
                               "    print('connected')\n"
                               "except OSError as e:\n    print('refused')\n");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message;
  EXPECT_EQ(result.stdout_text, "refused\n");
}

TEST_P(Conformance, NotRootAndTheProgramIsReadOnly) {
  const RunResult result =
      Run("python", "3.11",
          "import os\nprint(os.getuid() != 0)\ntry:\n"
          "    open('/scripts/script.py', 'a').write('x')\n    print('wrote')\n"
          "except OSError:\n    print('read-only')\n"
          "open(os.path.expanduser('~/f'), 'w').write('ok')\nprint('home writable')\n");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "True\nread-only\nhome writable\n");
}

TEST_P(Conformance, ForkBombIsContained) {
  RunOptions options;
  options.limits.timeout = std::chrono::milliseconds(3000);
  const RunResult result =
      Run("python", "3.11",
          "import os\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
          "            import time; time.sleep(30)\n        n += 1\nexcept OSError:\n"
          "    print('limited', flush=True)\n    os._exit(0)\n",
          options);
  EXPECT_NE(result.status, ExecutionStatus::kError) << result.message;
  EXPECT_NE(result.stdout_text.find("limited"), std::string::npos) << result.message;
}

INSTANTIATE_TEST_SUITE_P(Executors, Conformance,
                         ::testing::Values(Backend::kLocal, Backend::kKubernetes),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param == Backend::kLocal ? "LocalSandbox"
                                                                      : "PodPerExecution";
                         });

}  // namespace
}  // namespace integr8scode
