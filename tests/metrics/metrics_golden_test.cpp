#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>

#include "metrics/metrics.hpp"

namespace integr8scode {
namespace {

// Name → type of every family in the text exposition, from its "# TYPE" lines.
std::map<std::string, std::string> Families(const std::string& text) {
  std::map<std::string, std::string> families;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with("# TYPE ")) continue;
    std::istringstream words(line.substr(7));
    std::string name;
    std::string type;
    words >> name >> type;
    families[name] = type;
  }
  return families;
}

TEST(Metrics, NamesAndTypesMatchTheGoldenFile) {
  Metrics metrics;
  metrics.ObserveRequest("/api/v1/executions/{id}", "GET", 200, std::chrono::microseconds(300));
  metrics.ConnectionOpened();
  metrics.RequestRateLimited("execute");
  metrics.OnQueued("python", "3.11");
  metrics.OnStarted("python", "3.11", std::chrono::milliseconds(4));
  RunResult result;
  result.status = ExecutionStatus::kCompleted;
  result.usage = {31, 24, 9617408};
  result.setup_us = 1500;
  metrics.OnFinished("python", "3.11", result);
  metrics.SetQueueDepth(3);
  metrics.SetRunning(1);
  metrics.SetOldestQueuedAge(std::chrono::milliseconds(1500));
  metrics.OnLeasesRescued(1, 0);
  metrics.SetStoreUp(true);
  metrics.SetProcessInfo("all", "0.1.0");

  const auto rendered = Families(metrics.Render());
  std::ifstream golden(std::string(INTEGR8SCODE_SOURCE_DIR) + "/tests/metrics/metrics_golden.txt");
  ASSERT_TRUE(golden) << "tests/metrics/metrics_golden.txt not found";
  std::map<std::string, std::string> expected;
  std::string name;
  std::string type;
  while (golden >> name >> type) expected[name] = type;
  // A renamed or retyped metric breaks dashboards and alerts: change the golden file
  // (and docs/operations.md) on purpose, never by accident.
  EXPECT_EQ(rendered, expected);
}

TEST(Metrics, RecordsLabelsAndValues) {
  Metrics metrics;
  metrics.ObserveRequest("/api/v1/execute", "POST", 202, std::chrono::milliseconds(2));
  metrics.ObserveRequest("/api/v1/execute", "POST", 202, std::chrono::milliseconds(3));
  RunResult result;
  result.status = ExecutionStatus::kTimedOut;
  result.usage = {5000, 4990, 1 << 20};
  metrics.OnFinished("python", "3.9", result);
  metrics.SetQueueDepth(7);
  const std::string text = metrics.Render();
  EXPECT_NE(
      text.find(
          R"(integr8scode_http_requests_total{code="202",method="POST",route="/api/v1/execute"} 2)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          R"(integr8scode_executions_total{lang="python",status="timed_out",version="3.9"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("integr8scode_execution_queue_depth 7"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(integr8scode_execution_wall_seconds_sum{lang="python",version="3.9"} 5)"),
            std::string::npos)
      << text;
}

TEST(Metrics, CountsPlatformErrorsBeforeTheProgramStartedAsSetupFailures) {
  Metrics metrics;
  RunResult never_started;
  never_started.status = ExecutionStatus::kError;
  metrics.OnFinished("python", "3.11", never_started);
  RunResult ran;  // an error after the program ran is not a set-up failure
  ran.status = ExecutionStatus::kError;
  ran.usage = {40, 30, 1 << 20};
  metrics.OnFinished("python", "3.11", ran);
  RunResult failed;  // the user's program failing is not one either
  failed.status = ExecutionStatus::kFailed;
  metrics.OnFinished("python", "3.11", failed);
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("integr8scode_sandbox_setup_failures_total 1\n"), std::string::npos) << text;
}

// Warm starts: a warm run whose zygote lacked some of sandbox.warm_preload counts as
// warm and as a preload miss; a complete one only as warm.
TEST(Metrics, CountsWarmRunsWithAnIncompletePreload) {
  Metrics metrics;
  RunResult complete;
  complete.status = ExecutionStatus::kCompleted;
  complete.start = StartKind::kWarm;
  metrics.OnFinished("python", "3.11", complete);
  RunResult incomplete = complete;
  incomplete.preload_incomplete = true;
  metrics.OnFinished("python", "3.11", incomplete);
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("integr8scode_warm_starts_total 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("integr8scode_warm_preload_missing_total 1\n"), std::string::npos) << text;
}

TEST(Metrics, ExportsTheProcessMetricsOfThisProcess) {
  const std::string text = Metrics().Render();
  for (const char* name : {"process_resident_memory_bytes ", "process_cpu_seconds_total ",
                           "process_open_fds ", "process_start_time_seconds "}) {
    const auto at = text.find(std::string("\n") + name);
    ASSERT_NE(at, std::string::npos) << name << " missing in\n" << text;
    const double value = std::strtod(text.c_str() + at + 1 + std::strlen(name), nullptr);
    // This process is running: it has memory, descriptors and a start time, now or before.
    if (std::string_view(name) != "process_cpu_seconds_total ") {
      EXPECT_GT(value, 0) << name;
    }
  }
}

TEST(Metrics, MethodsOutsideTheKnownSetShareOneLabel) {
  Metrics metrics;
  metrics.ObserveRequest("unmatched", "GET", 404, std::chrono::microseconds(10));
  const std::size_t one = metrics.Render().size();
  for (int i = 0; i < 200; ++i) {
    metrics.ObserveRequest("unmatched", "JUNK" + std::to_string(i) + std::string(4000, 'X'), 405,
                           std::chrono::microseconds(10));
  }
  const std::string text = metrics.Render();
  EXPECT_EQ(text.find("JUNK"), std::string::npos);
  EXPECT_NE(
      text.find(
          R"(integr8scode_http_requests_total{code="405",method="other",route="unmatched"} 200)"),
      std::string::npos)
      << text;
  // One new series (and its histogram), not two hundred.
  EXPECT_LT(text.size(), 2 * one + 4096);
}

}  // namespace
}  // namespace integr8scode
