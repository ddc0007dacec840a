#pragma once

#include <optional>
#include <string>
#include <vector>

#include "load/baseline.hpp"
#include "load/load_settings.hpp"
#include "load/machine_facts.hpp"
#include "load/profile_stats.hpp"

namespace integr8scode {

// All figures of one run of the generator.
struct LoadReport {
  std::string started_at;  // RFC 3339 UTC
  std::string url;
  MachineFacts machine;
  LoadSettings settings;
  // The bare baseline measured before and after the profiles: on a shared machine the
  // two differ when something else ran meanwhile, and the report shows it.
  std::optional<BaselineResult> baseline;
  std::optional<BaselineResult> baseline_after;
  std::vector<ProfileStats> profiles;
};

// The bare runs per second the profiles are compared with: the mean of the baselines
// that ran (and ran something); nullopt without one.
std::optional<double> BaselineRunsPerSecond(const LoadReport& report);

// Completed executions per second over the bare runs per second; nullopt without a
// baseline.
std::optional<double> RatioToBaseline(const ProfileStats& profile,
                                      std::optional<double> baseline_runs_per_second);

// Every figure as an indented JSON document (the file the tool writes).
std::string ReportJson(const LoadReport& report);

// The same figures as tables for a terminal: throughput and errors, then latencies,
// then each error kind.
std::string ReportTable(const LoadReport& report);

}  // namespace integr8scode
