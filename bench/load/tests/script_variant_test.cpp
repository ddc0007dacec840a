#include "load/script_variant.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <set>

#include "load/baseline.hpp"

namespace integr8scode {
namespace {

constexpr const char* kPython = "/usr/bin/python3.11";

TEST(ScriptVariant, EveryUserAndSequenceGetsItsOwnProgram) {
  std::set<std::string> scripts;
  std::set<std::string> outputs;
  for (std::uint64_t user = 0; user < 20; ++user) {
    for (std::uint64_t sequence = 0; sequence < 20; ++sequence) {
      const ScriptVariant variant = MakeScriptVariant(user, sequence);
      scripts.insert(variant.script);
      outputs.insert(variant.expected_stdout);
      EXPECT_LT(variant.script.size(), 40u) << "a print('hi')-sized program";
    }
  }
  EXPECT_EQ(scripts.size(), 400u);
  EXPECT_EQ(outputs.size(), 400u);
}

TEST(ScriptVariant, PythonPrintsExactlyTheExpectedOutput) {
  if (::access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is not installed";
  const ScriptVariant variant = MakeScriptVariant(12, 345);
  // The baseline's runner checks the output of real runs: one run of the variant.
  BaselineSettings settings;
  settings.argv = {kPython, "-I", "-c", variant.script};
  settings.expected_stdout = variant.expected_stdout;
  settings.jobs = 1;
  settings.duration = std::chrono::milliseconds(1);
  auto result = RunBaseline(settings);
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(result->runs, 1u);
  EXPECT_EQ(result->failures, 0u);
}

}  // namespace
}  // namespace integr8scode
