#include "load/report.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace integr8scode {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

LoadReport SampleReport() {
  LoadReport report;
  report.started_at = "2026-01-02T03:04:05.678Z";
  report.url = "http://127.0.0.1:8080";
  report.machine.cpus = 2;
  report.machine.kernel = "6.1.0";
  BaselineResult baseline;
  baseline.settings.argv = {"/usr/bin/python3.11", "-c", "print('hi')"};
  baseline.settings.jobs = 2;
  baseline.elapsed_s = 10;
  baseline.runs = 1000;
  baseline.failures = 0;
  baseline.run_latency.Add(milliseconds(20));
  baseline.cpu_s = 8;  // 8 ms a run
  report.baseline = baseline;
  baseline.runs = 1200;  // after the profiles: 120 runs/s, so the mean is 110
  report.baseline_after = baseline;

  ProfileStats stress;
  stress.spec = ProfileSpec{"stress", 200, FollowMode::kPoll};
  stress.window_s = 30;
  stress.submitted = 2500;
  stress.finished = 2500;
  stress.completed = 2490;
  stress.completed_in_window = 2400;
  stress.result_reads = 5000;
  for (int i = 1; i <= 100; ++i) stress.result_read.Add(std::chrono::microseconds(i * 10));
  stress.end_to_end.Add(milliseconds(1500));
  stress.execution_errors["failed"] = 7;
  stress.http_errors["POST /execute 503"] = 3;
  stress.server_cpu_s = 3;
  stress.sandbox_cpu_s = 24;
  stress.busy_cpu_s = 60;
  stress.server_memory.samples = 4;
  stress.server_memory.rss_max_bytes = 64ull << 20;
  report.profiles.push_back(stress);

  ProfileStats smoke;
  smoke.spec = ProfileSpec{"smoke", 1, FollowMode::kWait};
  smoke.window_s = 30;
  report.profiles.push_back(smoke);
  return report;
}

TEST(Report, BareRunsPerSecondIsTheMeanOfBeforeAndAfter) {
  LoadReport report = SampleReport();
  EXPECT_DOUBLE_EQ(*BaselineRunsPerSecond(report), 110.0);
  report.baseline_after.reset();
  EXPECT_DOUBLE_EQ(*BaselineRunsPerSecond(report), 100.0);
  report.baseline.reset();
  EXPECT_FALSE(BaselineRunsPerSecond(report));
}

TEST(Report, RatioIsCompletedPerSecondOverBareRunsPerSecond) {
  const LoadReport report = SampleReport();
  const auto ratio = RatioToBaseline(report.profiles[0], 100.0);
  ASSERT_TRUE(ratio);
  EXPECT_DOUBLE_EQ(*ratio, (2400.0 / 30) / 100.0);
  EXPECT_FALSE(RatioToBaseline(report.profiles[0], std::nullopt));
}

TEST(Report, JsonCarriesEveryFigure) {
  const json::value document = json::parse(ReportJson(SampleReport()));
  EXPECT_EQ(document.at("machine").at("cpus").to_number<std::uint64_t>(), 2u);
  EXPECT_DOUBLE_EQ(document.at("baseline").at("runs_per_second").to_number<double>(), 110.0);
  EXPECT_DOUBLE_EQ(document.at("baseline").at("before").at("runs_per_second").to_number<double>(),
                   100.0);
  EXPECT_DOUBLE_EQ(document.at("baseline").at("after").at("runs_per_second").to_number<double>(),
                   120.0);
  EXPECT_DOUBLE_EQ(document.at("baseline").at("before").at("cpu_ms_per_run").to_number<double>(),
                   8.0);
  const json::array& profiles = document.at("profiles").as_array();
  ASSERT_EQ(profiles.size(), 2u);
  const json::value& stress = profiles[0];
  EXPECT_EQ(stress.at("name").as_string(), "stress");
  EXPECT_EQ(stress.at("users").to_number<std::uint64_t>(), 200u);
  EXPECT_EQ(stress.at("mode").as_string(), "poll");
  EXPECT_DOUBLE_EQ(stress.at("completed_per_second").to_number<double>(), 80.0);
  EXPECT_DOUBLE_EQ(stress.at("ratio_to_baseline").to_number<double>(), 0.727);  // 80 / 110
  EXPECT_DOUBLE_EQ(stress.at("cpu_s").at("sandboxed_programs").to_number<double>(), 24.0);
  EXPECT_DOUBLE_EQ(stress.at("cpu_ms_per_completed").at("server").to_number<double>(),
                   1.25);  // 3 s / 2400
  EXPECT_DOUBLE_EQ(stress.at("cpu_ms_per_completed").at("machine_busy").to_number<double>(), 25.0);
  EXPECT_TRUE(profiles[1].at("cpu_ms_per_completed").at("server").is_null());
  EXPECT_DOUBLE_EQ(stress.at("latency_ms").at("result_read").at("p99").to_number<double>(), 0.99);
  EXPECT_DOUBLE_EQ(stress.at("latency_ms").at("result_read").at("max").to_number<double>(), 1.0);
  EXPECT_EQ(stress.at("latency_ms").at("end_to_end").at("count").to_number<std::uint64_t>(), 1u);
  EXPECT_EQ(stress.at("errors").at("total").to_number<std::uint64_t>(), 10u);
  EXPECT_EQ(stress.at("errors").at("http").at("POST /execute 503").to_number<std::uint64_t>(), 3u);
  EXPECT_EQ(stress.at("errors").at("executions").at("failed").to_number<std::uint64_t>(), 7u);
  EXPECT_EQ(stress.at("server").at("rss_max_bytes").to_number<std::uint64_t>(), 64ull << 20);
  EXPECT_EQ(profiles[1].at("latency_ms").at("submit").at("count").to_number<std::uint64_t>(), 0u);
}

TEST(Report, TableNamesProfilesAndListsEachErrorKind) {
  const std::string table = ReportTable(SampleReport());
  EXPECT_NE(table.find("100.0 runs/s"), std::string::npos) << table;
  EXPECT_NE(table.find("120.0 runs/s"), std::string::npos) << table;
  EXPECT_NE(table.find("compared with 110.0 bare runs/s"), std::string::npos) << table;
  EXPECT_NE(table.find("stress"), std::string::npos);
  EXPECT_NE(table.find("64.0 MiB"), std::string::npos) << table;
  EXPECT_NE(table.find("POST /execute 503"), std::string::npos) << table;
  EXPECT_NE(table.find("failed"), std::string::npos);
  EXPECT_EQ(table.find("No errors."), std::string::npos);
}

TEST(Report, TableSaysSoWhenThereWereNoErrors) {
  LoadReport report = SampleReport();
  report.profiles.pop_back();
  report.profiles[0].execution_errors.clear();
  report.profiles[0].http_errors.clear();
  EXPECT_NE(ReportTable(report).find("No errors."), std::string::npos);
}

}  // namespace
}  // namespace integr8scode
