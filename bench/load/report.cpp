#include "load/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

namespace integr8scode {
namespace {

namespace json = boost::json;

// To `digits` decimals; dividing by a power of ten (rather than multiplying by 0.001)
// lands on the double nearest the decimal, so the JSON shows 0.69, not 0.6900000000000001.
double Round(double value, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(value * scale) / scale;
}

json::object LatencyJson(const LatencySamples& samples) {
  const LatencySummary summary = samples.Summarize();
  return json::object{{"count", summary.count},          {"mean", Round(summary.mean_ms, 3)},
                      {"p50", Round(summary.p50_ms, 3)}, {"p95", Round(summary.p95_ms, 3)},
                      {"p99", Round(summary.p99_ms, 3)}, {"max", Round(summary.max_ms, 3)}};
}

json::object CountsJson(const std::map<std::string, std::uint64_t>& counts) {
  json::object object;
  for (const auto& [kind, count] : counts) object[kind] = count;
  return object;
}

json::value BaselineJson(const BaselineResult& baseline) {
  json::array argv;
  for (const std::string& arg : baseline.settings.argv) argv.emplace_back(arg);
  return json::object{{"command", std::move(argv)},
                      {"jobs", baseline.settings.jobs},
                      {"duration_s", Round(baseline.elapsed_s, 3)},
                      {"runs", baseline.runs},
                      {"failures", baseline.failures},
                      {"runs_per_second", Round(baseline.RunsPerSecond(), 2)},
                      {"cpu_ms_per_run", Round(baseline.CpuMillisecondsPerRun(), 2)},
                      {"run_latency_ms", LatencyJson(baseline.run_latency)}};
}

// The share of the machine's busy time that went to processes outside the measurement.
double OtherShare(const ProfileStats& profile) {
  return profile.busy_cpu_s > 0 ? std::min(1.0, profile.other_cpu_s / profile.busy_cpu_s) : 0;
}

// CPU milliseconds per completed execution, or null when none completed.
json::value PerExecution(double cpu_s, std::uint64_t executions) {
  if (executions == 0) return nullptr;
  return Round(cpu_s * 1000 / static_cast<double>(executions), 2);
}

json::object ProfileJson(const ProfileStats& profile, std::optional<double> baseline) {
  const std::optional<double> ratio = RatioToBaseline(profile, baseline);
  const ServerMemory& memory = profile.server_memory;
  return json::object{
      {"name", profile.spec.name},
      {"users", profile.spec.users},
      {"mode", FollowModeName(profile.spec.mode)},
      {"window_s", Round(profile.window_s, 3)},
      {"drain_s", Round(profile.drain_s, 3)},
      {"submitted", profile.submitted},
      {"finished", profile.finished},
      {"completed", profile.completed},
      {"finished_in_window", profile.finished_in_window},
      {"completed_in_window", profile.completed_in_window},
      {"completed_per_second", Round(profile.CompletedPerSecond(), 2)},
      {"ratio_to_baseline", ratio ? json::value(Round(*ratio, 3)) : json::value(nullptr)},
      {"result_reads", profile.result_reads},
      {"reads_per_execution", profile.finished > 0
                                  ? Round(static_cast<double>(profile.result_reads) /
                                              static_cast<double>(profile.finished),
                                          2)
                                  : 0.0},
      {"connections", profile.connections},
      {"latency_ms", json::object{{"submit", LatencyJson(profile.submit)},
                                  {"result_read", LatencyJson(profile.result_read)},
                                  {"end_to_end", LatencyJson(profile.end_to_end)},
                                  {"server_end_to_end", LatencyJson(profile.server_end_to_end)},
                                  {"server_queue_wait", LatencyJson(profile.server_queue_wait)},
                                  {"server_run", LatencyJson(profile.server_run)}}},
      {"errors", json::object{{"total", profile.ErrorTotal()},
                              {"http", CountsJson(profile.http_errors)},
                              {"transport", CountsJson(profile.transport_errors)},
                              {"executions", CountsJson(profile.execution_errors)}}},
      {"server", json::object{{"rss_samples", memory.samples},
                              {"rss_start_bytes", memory.rss_start_bytes},
                              {"rss_mean_bytes", static_cast<std::uint64_t>(memory.rss_mean_bytes)},
                              {"rss_max_bytes", memory.rss_max_bytes},
                              {"rss_end_bytes", memory.rss_end_bytes},
                              {"hwm_bytes", memory.hwm_bytes}}},
      {"cpu_s", json::object{{"server", Round(profile.server_cpu_s, 3)},
                             {"server_children", Round(profile.children_cpu_s, 3)},
                             {"sandboxed_programs", Round(profile.sandbox_cpu_s, 3)},
                             {"generator", Round(profile.generator_cpu_s, 3)},
                             {"machine_busy", Round(profile.busy_cpu_s, 3)},
                             {"other_processes", Round(profile.other_cpu_s, 3)}}},
      {"cpu_ms_per_completed",
       json::object{
           {"server", PerExecution(profile.server_cpu_s, profile.completed_in_window)},
           {"server_children", PerExecution(profile.children_cpu_s, profile.completed_in_window)},
           {"sandboxed_programs", PerExecution(profile.sandbox_cpu_s, profile.completed_in_window)},
           {"generator", PerExecution(profile.generator_cpu_s, profile.completed_in_window)},
           {"machine_busy", PerExecution(profile.busy_cpu_s, profile.completed_in_window)},
           {"ours",
            PerExecution(profile.busy_cpu_s - profile.other_cpu_s, profile.completed_in_window)}}},
      {"other_processes_share", Round(OtherShare(profile), 3)},
      {"system_cpu_busy", Round(profile.system_busy, 3)}};
}

// boost::json writes one line; the file is also read by people.
void Pretty(const json::value& value, std::string& out, int indent) {
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  const std::string close_pad(static_cast<std::size_t>(indent), ' ');
  if (value.is_object() && !value.as_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& member : value.as_object()) {
      if (!first) out += ",\n";
      first = false;
      out += pad + json::serialize(json::string(member.key())) + ": ";
      Pretty(member.value(), out, indent + 2);
    }
    out += "\n" + close_pad + "}";
  } else if (value.is_array() && !value.as_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const json::value& item : value.as_array()) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      Pretty(item, out, indent + 2);
    }
    out += "\n" + close_pad + "]";
  } else {
    out += json::serialize(value);
  }
}

std::string Mebibytes(std::uint64_t bytes) {
  return fmt::format("{:.1f}", static_cast<double>(bytes) / (1 << 20));
}

std::string Quartet(const LatencySamples& samples) {
  if (samples.Count() == 0) return "-";
  const LatencySummary s = samples.Summarize();
  return fmt::format("{:.1f} / {:.1f} / {:.1f} / {:.1f}", s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms);
}

std::string Command(const std::vector<std::string>& argv) {
  std::string text;
  for (const std::string& arg : argv) {
    if (!text.empty()) text += ' ';
    text += arg.find_first_of(" '()") == std::string::npos ? arg : fmt::format("\"{}\"", arg);
  }
  return text;
}

}  // namespace

std::optional<double> BaselineRunsPerSecond(const LoadReport& report) {
  double total = 0;
  int count = 0;
  for (const auto* baseline : {&report.baseline, &report.baseline_after}) {
    if (*baseline && (*baseline)->RunsPerSecond() > 0) {
      total += (*baseline)->RunsPerSecond();
      ++count;
    }
  }
  if (count == 0) return std::nullopt;
  return total / count;
}

std::optional<double> RatioToBaseline(const ProfileStats& profile,
                                      std::optional<double> baseline_runs_per_second) {
  if (!baseline_runs_per_second || *baseline_runs_per_second <= 0) return std::nullopt;
  return profile.CompletedPerSecond() / *baseline_runs_per_second;
}

std::string ReportJson(const LoadReport& report) {
  const LoadSettings& settings = report.settings;
  const std::optional<double> bare = BaselineRunsPerSecond(report);
  json::array profiles;
  for (const ProfileStats& profile : report.profiles)
    profiles.emplace_back(ProfileJson(profile, bare));
  json::value document = json::object{
      {"tool", "integr8scode-load"},
      {"started_at", report.started_at},
      {"url", report.url},
      {"machine", json::object{{"cpus", report.machine.cpus},
                               {"cpu_model", report.machine.cpu_model},
                               {"memory_bytes", report.machine.memory_bytes},
                               {"kernel", report.machine.kernel}}},
      {"settings",
       json::object{{"lang", settings.lang},
                    {"lang_version", settings.lang_version},
                    {"duration_s", static_cast<double>(settings.duration.count()) / 1000.0},
                    {"poll_initial_ms", settings.poll_initial.count()},
                    {"poll_max_ms", settings.poll_max.count()},
                    {"follow_timeout_ms", settings.follow_timeout.count()},
                    {"server_pid", settings.server_pid}}},
      {"baseline",
       json::object{
           {"runs_per_second", bare ? json::value(Round(*bare, 2)) : json::value(nullptr)},
           {"before", report.baseline ? BaselineJson(*report.baseline) : json::value(nullptr)},
           {"after",
            report.baseline_after ? BaselineJson(*report.baseline_after) : json::value(nullptr)}}},
      {"profiles", std::move(profiles)}};
  std::string out;
  Pretty(document, out, 0);
  out += '\n';
  return out;
}

std::string ReportTable(const LoadReport& report) {
  std::string out;
  const std::pair<const char*, const std::optional<BaselineResult>*> baselines[] = {
      {"before", &report.baseline}, {"after", &report.baseline_after}};
  for (const auto& [when, baseline] : baselines) {
    if (!*baseline) continue;
    const BaselineResult& bare = **baseline;
    out += fmt::format(
        "Bare baseline {}: {} in {} parallel loops for {:.1f} s: {} runs, {} failed → {:.1f} "
        "runs/s "
        "(one run: p50 {:.1f} ms, {:.1f} ms CPU)\n",
        when, Command(bare.settings.argv), bare.settings.jobs, bare.elapsed_s, bare.runs,
        bare.failures, bare.RunsPerSecond(), bare.run_latency.Summarize().p50_ms,
        bare.CpuMillisecondsPerRun());
  }
  const std::optional<double> bare = BaselineRunsPerSecond(report);
  if (bare) out += fmt::format("Profiles are compared with {:.1f} bare runs/s.\n\n", *bare);
  out += fmt::format("{:<10} {:>5} {:<4} {:>8} {:>7} {:>9} {:>9} {:>6} {:>6} {:>7} {:>12}\n",
                     "profile", "users", "mode", "exec/s", "vs bare", "submitted", "completed",
                     "errors", "busy", "others", "server RSS");
  for (const ProfileStats& profile : report.profiles) {
    const std::optional<double> ratio = RatioToBaseline(profile, bare);
    out += fmt::format(
        "{:<10} {:>5} {:<4} {:>8.1f} {:>7} {:>9} {:>9} {:>6} {:>5.0f}% {:>6.0f}% {:>8} MiB\n",
        profile.spec.name, profile.spec.users, FollowModeName(profile.spec.mode),
        profile.CompletedPerSecond(), ratio ? fmt::format("{:.2f}", *ratio) : "-",
        profile.submitted, profile.completed, profile.ErrorTotal(), 100 * profile.system_busy,
        100 * OtherShare(profile), Mebibytes(profile.server_memory.rss_max_bytes));
  }
  out +=
      "(busy: all CPUs; others: the share of that busy time used by processes outside the "
      "measurement)\n";
  out +=
      "\nCPU ms per completed execution (ours = machine busy less other processes; its rest beyond "
      "the named\n"
      "parts is sandbox set-up and teardown)\n";
  out += fmt::format("{:<10} {:<4} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8}\n", "profile", "mode",
                     "server", "spawner", "program", "generator", "ours", "machine");
  for (const ProfileStats& profile : report.profiles) {
    const double n = static_cast<double>(profile.completed_in_window);
    const auto per = [n](double cpu_s) {
      return n > 0 ? fmt::format("{:.1f}", cpu_s * 1000 / n) : std::string("-");
    };
    out += fmt::format("{:<10} {:<4} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8}\n", profile.spec.name,
                       FollowModeName(profile.spec.mode), per(profile.server_cpu_s),
                       per(profile.children_cpu_s), per(profile.sandbox_cpu_s),
                       per(profile.generator_cpu_s), per(profile.busy_cpu_s - profile.other_cpu_s),
                       per(profile.busy_cpu_s));
  }
  out += "\nLatency in ms, p50 / p95 / p99 / max\n";
  out += fmt::format("{:<10} {:<4} {:<28} {:<28} {:<30} {:<30}\n", "profile", "mode", "submit",
                     "result read", "end-to-end (client)", "created → finished (server)");
  for (const ProfileStats& profile : report.profiles) {
    out += fmt::format("{:<10} {:<4} {:<28} {:<28} {:<30} {:<30}\n", profile.spec.name,
                       FollowModeName(profile.spec.mode), Quartet(profile.submit),
                       Quartet(profile.result_read), Quartet(profile.end_to_end),
                       Quartet(profile.server_end_to_end));
  }
  bool any_error = false;
  for (const ProfileStats& profile : report.profiles) {
    for (const auto* errors :
         {&profile.http_errors, &profile.transport_errors, &profile.execution_errors}) {
      for (const auto& [kind, count] : *errors) {
        if (!any_error) out += "\nErrors\n";
        any_error = true;
        out += fmt::format("{:<10} {:<4} {:>7}  {}\n", profile.spec.name,
                           FollowModeName(profile.spec.mode), count, kind);
      }
    }
  }
  if (!any_error) out += "\nNo errors.\n";
  return out;
}

}  // namespace integr8scode
