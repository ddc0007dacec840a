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
  std::optional<BaselineResult> baseline;
  std::vector<ProfileStats> profiles;
};

// Completed executions per second over the bare baseline's runs per second; nullopt
// without a baseline (or one that ran nothing).
std::optional<double> RatioToBaseline(const ProfileStats& profile, const std::optional<BaselineResult>& baseline);

// Every figure as an indented JSON document (the file the tool writes).
std::string ReportJson(const LoadReport& report);

// The same figures as tables for a terminal: throughput and errors, then latencies,
// then each error kind.
std::string ReportTable(const LoadReport& report);

}  // namespace integr8scode
