// integr8scode-load: plays the original's load profiles against a server on loopback
// and reports throughput, latencies, errors and the server's memory (docs/load.md).
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "load/baseline.hpp"
#include "load/profile_run.hpp"
#include "load/report.hpp"

namespace integr8scode {
namespace {

struct Flags {
  std::string url = "http://127.0.0.1:8080";
  std::string profiles = "smoke,light,medium,heavy,stress";
  std::string mode = "poll";
  double duration_s = 30;
  double pause_s = 2;
  int server_pid = 0;
  std::string json_path;
  std::string lang = "python";
  std::string lang_version = "3.11";
  int poll_initial_ms = 5;
  int poll_max_ms = 250;
  int follow_timeout_ms = 60000;
  double baseline_s = 0;
  std::size_t baseline_jobs = 0;
  std::string baseline_python = "/usr/bin/python3.11";
};

std::string NowRfc3339() {
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now);
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

// Each profile in both modes back to back: on a shared machine, the two modes of one
// profile then meet about the same background load.
Result<std::vector<ProfileSpec>> PlannedProfiles(const Flags& flags) {
  std::vector<FollowMode> modes;
  if (flags.mode == "poll" || flags.mode == "both") modes.push_back(FollowMode::kPoll);
  if (flags.mode == "wait" || flags.mode == "both") modes.push_back(FollowMode::kWait);
  auto profiles = ParseProfiles(flags.profiles, FollowMode::kPoll);
  if (!profiles) return Fail(profiles.error());
  std::vector<ProfileSpec> planned;
  for (const ProfileSpec& profile : *profiles) {
    for (FollowMode mode : modes) {
      planned.push_back(profile);
      planned.back().mode = mode;
    }
  }
  return planned;
}

std::optional<BaselineResult> MeasureBaseline(const BaselineSettings& baseline,
                                              std::string_view when) {
  fmt::print(stderr, "baseline {}: {} parallel loops of {} -c \"print('hi')\" for {:.0f} s\n", when,
             baseline.jobs, baseline.argv.front(),
             std::chrono::duration<double>(baseline.duration).count());
  auto result = RunBaseline(baseline);
  if (!result) {
    fmt::print(stderr, "integr8scode-load: baseline: {}\n", result.error().message);
    return std::nullopt;
  }
  fmt::print(stderr, "baseline {}: {:.1f} runs/s, {} failed\n", when, result->RunsPerSecond(),
             result->failures);
  return std::move(*result);
}

int Run(const Flags& flags) {
  auto endpoint = ParseLoopbackUrl(flags.url);
  if (!endpoint) {
    fmt::print(stderr, "integr8scode-load: {}\n", endpoint.error().message);
    return 2;
  }
  auto planned = PlannedProfiles(flags);
  if (!planned) {
    fmt::print(stderr, "integr8scode-load: {}\n", planned.error().message);
    return 2;
  }

  LoadReport report;
  report.started_at = NowRfc3339();
  report.url = flags.url;
  report.machine = ReadMachineFacts();
  LoadSettings& settings = report.settings;
  settings.endpoint = *endpoint;
  settings.lang = flags.lang;
  settings.lang_version = flags.lang_version;
  settings.duration = Millis(flags.duration_s);
  settings.poll_initial = std::chrono::milliseconds(flags.poll_initial_ms);
  settings.poll_max = std::chrono::milliseconds(flags.poll_max_ms);
  settings.follow_timeout = std::chrono::milliseconds(flags.follow_timeout_ms);
  settings.server_pid = flags.server_pid;

  BaselineSettings baseline;
  baseline.argv = {flags.baseline_python, "-c", "print('hi')"};
  baseline.expected_stdout = "hi\n";
  baseline.jobs = flags.baseline_jobs > 0 ? flags.baseline_jobs : std::max(1u, report.machine.cpus);
  baseline.duration = Millis(flags.baseline_s);
  if (flags.baseline_s > 0) {
    auto before = MeasureBaseline(baseline, "before");
    if (!before) return 2;
    report.baseline = std::move(*before);
  }

  for (std::size_t i = 0; i < planned->size(); ++i) {
    const ProfileSpec& spec = (*planned)[i];
    if (i > 0 && flags.pause_s > 0) std::this_thread::sleep_for(Millis(flags.pause_s));
    fmt::print(stderr, "profile {} ({} users, {}) for {:.0f} s\n", spec.name, spec.users,
               FollowModeName(spec.mode), flags.duration_s);
    ProfileStats stats = RunProfile(settings, spec);
    fmt::print(stderr, "profile {} ({}): {:.1f} completed/s, {} errors, drained in {:.1f} s\n",
               spec.name, FollowModeName(spec.mode), stats.CompletedPerSecond(), stats.ErrorTotal(),
               stats.drain_s);
    report.profiles.push_back(std::move(stats));
  }

  if (flags.baseline_s > 0) {
    auto after = MeasureBaseline(baseline, "after");
    if (!after) return 2;
    report.baseline_after = std::move(*after);
  }

  fmt::print("{}", ReportTable(report));
  if (!flags.json_path.empty()) {
    std::ofstream file(flags.json_path, std::ios::trunc);
    file << ReportJson(report);
    file.close();
    if (!file) {
      fmt::print(stderr, "integr8scode-load: cannot write {}\n", flags.json_path);
      return 1;
    }
    fmt::print(stderr, "figures written to {}\n", flags.json_path);
  }
  return 0;
}

}  // namespace
}  // namespace integr8scode

int main(int argc, char** argv) {
  using integr8scode::Flags;
  Flags flags;
  CLI::App app{
      "Plays load profiles against an integr8scode server on loopback and reports its figures."};
  app.add_option("--url", flags.url, "Root URL of the server (loopback only)")
      ->capture_default_str();
  app.add_option("--profiles", flags.profiles,
                 "Comma-separated profiles: smoke, light, medium, heavy, stress, or a user count")
      ->capture_default_str();
  app.add_option("--mode", flags.mode,
                 "How users follow results: poll (GET until finished), wait (?wait=true), both")
      ->check(CLI::IsMember({"poll", "wait", "both"}))
      ->capture_default_str();
  app.add_option("--duration", flags.duration_s, "Seconds of load per profile")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--pause", flags.pause_s, "Seconds of rest between profiles")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--server-pid", flags.server_pid, "Server process to sample (RSS, CPU); 0: none")
      ->capture_default_str();
  app.add_option("--json", flags.json_path, "Write every figure to this JSON file");
  app.add_option("--lang", flags.lang, "Language of the submitted programs")->capture_default_str();
  app.add_option("--lang-version", flags.lang_version, "Its version")->capture_default_str();
  app.add_option("--poll-initial-ms", flags.poll_initial_ms, "First wait before reading a result")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  app.add_option("--poll-max-ms", flags.poll_max_ms, "Longest gap between result reads")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  app.add_option("--follow-timeout-ms", flags.follow_timeout_ms,
                 "Give up on an execution after this long")
      ->check(CLI::Range(1000, 3600000))
      ->capture_default_str();
  app.add_option(
         "--baseline", flags.baseline_s,
         "Seconds of bare-interpreter baseline, before and again after the profiles; 0: none")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--baseline-jobs", flags.baseline_jobs,
                 "Parallel loops of the baseline; 0: one per CPU")
      ->capture_default_str();
  app.add_option("--baseline-python", flags.baseline_python,
                 "Interpreter of the baseline (absolute path)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  // A server that drops a connection must show up as a counted error, not kill the tool.
  std::signal(SIGPIPE, SIG_IGN);
  return integr8scode::Run(flags);
}
