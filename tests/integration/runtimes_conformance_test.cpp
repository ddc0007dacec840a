// The conformance set of every runtime of the catalog, run in the real sandbox: hello,
// stdin, exit codes, runtime and compile errors, the time and memory limits, no
// network, and the example's exact output (programs: runtimes_conformance.toml). A
// runtime this host cannot run is skipped with the reason, which names the command
// that installs it.
#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <cctype>
#include <filesystem>
#include <map>
#include <optional>

#include "catalog/catalog_loader.hpp"
#include "catalog/probe.hpp"
#include "support/sandbox_harness.hpp"

namespace integr8scode {
namespace {

namespace fs = std::filesystem;
using testing::RunCode;
using testing::RunOptions;

const toml::table& Programs() {
  static const toml::table table = toml::parse_file(
      (fs::path(INTEGR8SCODE_SOURCE_DIR) / "tests" / "integration" / "runtimes_conformance.toml")
          .string());
  return table;
}

// PyPy runs the Python programs.
std::string ProgramLanguage(const Runtime& runtime) {
  return runtime.language == "pypy" ? "python" : runtime.language;
}

std::optional<std::string> Program(const Runtime& runtime, std::string_view key) {
  return Programs()[ProgramLanguage(runtime)][key].value<std::string>();
}

// Availability is probed once per runtime (a chroot'ed version check each).
const RuntimeAvailability& Availability(const Runtime& runtime) {
  static std::map<std::string, RuntimeAvailability> probed;
  auto [it, inserted] = probed.try_emplace(runtime.Key());
  if (inserted) it->second = ProbeRuntime(runtime);
  return it->second;
}

std::vector<std::string> RuntimeNames() {
  auto catalog = LoadCatalog(fs::path(INTEGR8SCODE_SOURCE_DIR) / "runtimes" / "catalog.toml");
  std::vector<std::string> names;
  if (catalog) {
    for (const Runtime& runtime : catalog->All()) names.push_back(runtime.Slug());
  }
  return names;
}

class Conformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!testing::CanSandbox()) GTEST_SKIP() << "the sandbox needs root";
    for (const Runtime& candidate : testing::Catalog().All()) {
      if (candidate.Slug() == GetParam()) runtime_ = &candidate;
    }
    ASSERT_NE(runtime_, nullptr);
    const RuntimeAvailability& state = Availability(*runtime_);
    if (!state.available) GTEST_SKIP() << runtime_->Slug() << " is not usable: " << state.reason;
    ASSERT_TRUE(Programs().contains(ProgramLanguage(*runtime_)))
        << "no conformance programs for " << runtime_->language;
  }

  RunResult Run(std::string_view key, const RunOptions& options = {}) {
    const std::optional<std::string> program = Program(*runtime_, key);
    if (!program) ADD_FAILURE() << "no '" << key << "' program for " << runtime_->language;
    return RunCode(runtime_->language, runtime_->version, program.value_or(""), options);
  }

  // The message and both streams, for failure output.
  static std::string Describe(const RunResult& result) {
    return std::string(StatusName(result.status)) + ": " + result.message +
           "\nstdout: " + result.stdout_text + "\nstderr: " + result.stderr_text;
  }

  const Runtime* runtime_ = nullptr;
};

TEST_P(Conformance, Hello) {
  const RunResult result = Run("hello");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << Describe(result);
  EXPECT_EQ(result.stdout_text, "hello\n") << Describe(result);
}

TEST_P(Conformance, EchoesStdin) {
  RunOptions options;
  options.stdin_data = "first line\nsecond: ünïcode ✓\n";
  const RunResult result = Run("echo", options);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << Describe(result);
  EXPECT_EQ(result.stdout_text, options.stdin_data) << Describe(result);
}

TEST_P(Conformance, ReportsTheExitCode) {
  const RunResult result = Run("exit");
  EXPECT_EQ(result.status, ExecutionStatus::kFailed) << Describe(result);
  EXPECT_EQ(result.exit_code, 3) << Describe(result);
}

TEST_P(Conformance, RuntimeErrorOnStderr) {
  const RunResult result = Run("error");
  EXPECT_EQ(result.status, ExecutionStatus::kFailed) << Describe(result);
  const auto match = Program(*runtime_, "error_match");
  ASSERT_TRUE(match.has_value());
  EXPECT_NE(result.stderr_text.find(*match), std::string::npos) << Describe(result);
}

TEST_P(Conformance, CompileErrorWithTheCompilersMessage) {
  if (!runtime_->has_compile) GTEST_SKIP() << runtime_->Slug() << " has no compile step";
  const RunResult result = Run("compile_error");
  EXPECT_EQ(result.status, ExecutionStatus::kCompileError) << Describe(result);
  const auto match = Program(*runtime_, "compile_match");
  ASSERT_TRUE(match.has_value());
  EXPECT_NE((result.stderr_text + result.stdout_text).find(*match), std::string::npos)
      << Describe(result);
}

TEST_P(Conformance, StopsAtTheTimeout) {
  RunOptions options;
  options.limits.timeout = std::chrono::milliseconds(1500);
  const RunResult result = Run("loop", options);
  EXPECT_EQ(result.status, ExecutionStatus::kTimedOut) << Describe(result);
}

TEST_P(Conformance, StopsAtTheMemoryLimit) {
  const RunResult result = Run("memory");
  if (const auto match = Program(*runtime_, "memory_match")) {
    // A heap capped below the sandbox's limit: the runtime's own error.
    EXPECT_EQ(result.status, ExecutionStatus::kFailed) << Describe(result);
    EXPECT_NE(result.stderr_text.find(*match), std::string::npos) << Describe(result);
  } else {
    EXPECT_EQ(result.status, ExecutionStatus::kMemoryExceeded) << Describe(result);
  }
  EXPECT_EQ(result.stdout_text.find("536870912"), std::string::npos) << Describe(result);
}

TEST_P(Conformance, HasNoNetwork) {
  if (!Program(*runtime_, "network")) {
    GTEST_SKIP() << runtime_->language << " has no socket API to try";
  }
  const RunResult result = Run("network");
  EXPECT_EQ(result.status, ExecutionStatus::kFailed) << Describe(result);
  EXPECT_EQ(result.stdout_text.find("connected"), std::string::npos) << Describe(result);
}

TEST_P(Conformance, ExamplePrintsWhatItShows) {
  ASSERT_FALSE(runtime_->example.empty()) << runtime_->Slug() << " has no example";
  const RunResult result =
      RunCode(runtime_->language, runtime_->version, runtime_->example, RunOptions{});
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << Describe(result);
  const auto expected = Programs()["example"][runtime_->Slug()].value<std::string>();
  ASSERT_TRUE(expected.has_value()) << "no expected output for " << runtime_->Slug();
  EXPECT_EQ(result.stdout_text, *expected) << Describe(result);
}

INSTANTIATE_TEST_SUITE_P(Catalog, Conformance, ::testing::ValuesIn(RuntimeNames()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name;
                           for (const char c : param_info.param)
                             name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

// The original README's sample on every CPython: ≥ 3.10 completes with three lines,
// 3.9 stops at `match data:` with a SyntaxError.
TEST(OriginalSample, OnEveryCPython) {
  if (!testing::CanSandbox()) GTEST_SKIP() << "the sandbox needs root";
  const std::string& sample = testing::RuntimeFor("python", "3.11").example;
  std::size_t ran = 0;
  for (const Runtime& runtime : testing::Catalog().All()) {
    if (runtime.language != "python" || runtime.implementation != "CPython") continue;
    SCOPED_TRACE(runtime.Slug());
    if (!Availability(runtime).available) continue;
    ++ran;
    const RunResult result = RunCode(runtime.language, runtime.version, sample);
    if (runtime.version == "3.9") {
      EXPECT_EQ(result.status, ExecutionStatus::kFailed);
      EXPECT_NE(result.stderr_text.find("line 7"), std::string::npos) << result.stderr_text;
      EXPECT_NE(result.stderr_text.find("match data:"), std::string::npos) << result.stderr_text;
      EXPECT_NE(result.stderr_text.find("SyntaxError"), std::string::npos) << result.stderr_text;
    } else {
      EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.stderr_text;
      EXPECT_EQ(result.stdout_text,
                "An integer greater than 10\nA string: hello\nSomething else\n");
    }
  }
  if (ran < 2) GTEST_SKIP() << "fewer than two CPython versions installed (ran " << ran << ")";
}

}  // namespace
}  // namespace integr8scode
