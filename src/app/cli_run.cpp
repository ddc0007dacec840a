// `integr8scode run FILE --lang L --version V`: one program, one fresh sandbox, no server.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <optional>
#include <sstream>

#include "api/result_json.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"
#include "app/sandbox_options.hpp"
#include "catalog/catalog_loader.hpp"
#include "catalog/probe.hpp"
#include "common/log.hpp"
#include "common/units.hpp"
#include "domain/executor.hpp"
#include "sandbox/local_executor.hpp"

namespace integr8scode {
namespace {

constexpr std::uint64_t kMaxSourceBytes = 1ull << 20;

struct RunOptions {
  std::string file;
  std::string language;
  std::string version;
  std::string stdin_file;
  std::string memory;
  std::string cpu;
  std::string timeout;
  std::string output;
  bool json = false;
  std::string config_file;
  std::string cgroup_mode;  // empty: from the configuration
  std::string isolation;    // empty: from the configuration
  std::string state_dir;
};

// Prints the program's output as it comes: stdout to stdout, stderr to stderr.
class TerminalSink final : public OutputSink {
 public:
  void OnOutput(OutputStream stream, std::string_view chunk) override {
    std::FILE* to = stream == OutputStream::kStdout ? stdout : stderr;
    std::fwrite(chunk.data(), 1, chunk.size(), to);
    std::fflush(to);
    if (stream == OutputStream::kStdout) ends_with_newline_ = chunk.empty() || chunk.back() == '\n';
  }
  bool EndsWithNewline() const { return ends_with_newline_; }

 private:
  bool ends_with_newline_ = true;
};

// "-" names this command's own standard input.
Result<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    if (std::cin.bad()) {
      const int saved = errno;
      return Fail(ErrorCode::kInvalidArgument, fmt::format("cannot read {} from standard input: {}",
                                                           what, std::strerror(saved)));
    }
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      const int saved = errno;
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("cannot read {} '{}': {}", what, path, std::strerror(saved)));
    }
    text << in.rdbuf();
  }
  if (text.str().size() > kMaxSourceBytes) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} '{}' is larger than {}", what, path,
                                                         FormatByteSize(kMaxSourceBytes)));
  }
  return text.str();
}

Result<LimitOverrides> ParseLimitFlags(const RunOptions& options) {
  LimitOverrides overrides;
  if (!options.memory.empty()) {
    auto value = ParseByteSize(options.memory);
    if (!value) return Fail(std::move(value.error()).WithContext("--memory"));
    overrides.memory_bytes = *value;
  }
  if (!options.cpu.empty()) {
    auto value = ParseCpu(options.cpu);
    if (!value) return Fail(std::move(value.error()).WithContext("--cpu"));
    overrides.cpu_millicores = *value;
  }
  if (!options.timeout.empty()) {
    auto value = ParseDuration(options.timeout);
    if (!value) return Fail(std::move(value.error()).WithContext("--timeout"));
    overrides.timeout = *value;
  }
  if (!options.output.empty()) {
    auto value = ParseByteSize(options.output);
    if (!value) return Fail(std::move(value.error()).WithContext("--output-limit"));
    overrides.output_bytes = *value;
  }
  return overrides;
}

std::string Summary(const RunResult& result, bool color) {
  const bool ok = result.status == ExecutionStatus::kCompleted;
  std::string line = fmt::format("{}{}{}", color ? (ok ? "\033[32m" : "\033[31m") : "",
                                 StatusName(result.status), color ? "\033[0m" : "");
  if (result.exit_code) line += fmt::format(" · exit code {}", *result.exit_code);
  if (result.signal) line += " · " + SignalName(*result.signal);
  if (!result.message.empty()) line += " · " + result.message;
  line += fmt::format(" · wall {} ms · CPU {} ms · peak memory {}", result.usage.wall_time_ms,
                      result.usage.cpu_time_ms, FormatByteSize(result.usage.peak_memory_bytes));
  if (result.stdout_truncated) line += " · stdout truncated";
  if (result.stderr_truncated) line += " · stderr truncated";
  return line;
}

int ExitCodeFor(ExecutionStatus status) {
  if (status == ExecutionStatus::kCompleted) return kExitOk;
  if (status == ExecutionStatus::kError) return kExitPlatform;
  return kExitRunFailed;
}

int Run(const RunOptions& options, const GlobalOptions& global) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const auto since = [t0] {
    return static_cast<std::int64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
  };
  const auto fail = [](const Error& error, int code) {
    fmt::print(stderr, "integr8scode: {}\n", error.Describe());
    return code;
  };
  // The same configuration as the server's (file, INTEGR8SCODE_* variables): its default
  // and maximum limits and its sandbox settings apply here too.
  ConfigSources sources;
  if (!options.config_file.empty()) sources.file = options.config_file;
  sources.env = ProcessEnvironment();
  auto config = LoadConfig(sources);
  if (!config) return fail(config.error(), kExitUsage);
  // Text logs on stderr: warnings and errors, or everything when logging.level is debug
  // (the sandbox's phase timings).
  const LogLevel level = config->logging.level == LogLevel::kDebug
                             ? LogLevel::kDebug
                             : std::max(config->logging.level, LogLevel::kWarn);
  ConfigureLogging(level, LogFormat::kText);
  // The sandbox — the slot's lock and cgroups, and on a thread of its own the network
  // namespace — is created while the catalog and the files are read: on an idle machine
  // both fit side by side on two cores. It is joined before the run, which clones this
  // process (DirectLauncher: single-threaded at that moment). The inputs are still
  // judged first: a typo deserves its own message, before anything about the host.
  SandboxOptions sandbox = SandboxOptionsFrom(*config);
  sandbox.slots = 1;
  // This process is small and single-threaded: it clones directly, and one run leaves no
  // idle time to build a sandbox ahead in.
  sandbox.use_spawner = false;
  sandbox.prebuild = false;
  sandbox.warm_zygote.clear();
  sandbox.node_zygote_dir.clear();
  if (!options.cgroup_mode.empty()) sandbox.cgroup_mode = options.cgroup_mode;
  if (!options.state_dir.empty()) sandbox.state_dir = options.state_dir;
  if (!options.isolation.empty()) sandbox.isolation = options.isolation;
  std::future<Result<std::unique_ptr<Executor>>> creating =
      std::async(std::launch::async, [sandbox] { return CreateLocalExecutor(sandbox); });
  auto catalog = LoadCatalogEntry(CatalogPathFrom(global.catalog, *config), options.language,
                                  options.version, CatalogExamples::kSkip);
  if (!catalog) return fail(catalog.error(), kExitUsage);
  auto runtime = catalog->Find(options.language, options.version);
  if (!runtime) return fail(runtime.error(), kExitUsage);
  auto overrides = ParseLimitFlags(options);
  if (!overrides) return fail(overrides.error(), kExitUsage);
  auto limits = ApplyOverrides(config->limits.defaults, *overrides, config->limits.maximum);
  if (!limits) return fail(limits.error(), kExitUsage);
  auto source = ReadFile(options.file, "file");
  if (!source) return fail(source.error(), kExitUsage);
  std::string stdin_data;
  if (!options.stdin_file.empty()) {
    auto text = ReadFile(options.stdin_file, "stdin file");
    if (!text) return fail(text.error(), kExitUsage);
    stdin_data = std::move(*text);
  }
  if (std::string refusal = IsolationRefusal(**runtime, sandbox.isolation); !refusal.empty()) {
    return fail(MakeError(ErrorCode::kInvalidArgument, std::move(refusal)), kExitUsage);
  }

  const std::int64_t inputs_us = since();
  auto executor = creating.get();
  if (!executor) return fail(executor.error(), kExitPlatform);

  const std::int64_t executor_us = since();
  TerminalSink sink;
  RunRequest request;
  request.runtime = *runtime;
  request.source = *source;
  request.stdin_data = stdin_data;
  request.limits = *limits;
  request.sink = options.json ? nullptr : &sink;
  const RunResult result = (*executor)->Run(request);
  const std::int64_t run_us = since();
  executor->reset();
  if (LogEnabled(LogLevel::kDebug)) {
    Log(LogLevel::kDebug, "cli timings",
        {{"inputs_us", inputs_us},
         {"executor_us", executor_us - inputs_us},
         {"run_us", run_us - executor_us},
         {"cleanup_us", since() - run_us}});
  }

  if (options.json) {
    const auto json = RunResultToJson(result, options.language, options.version, *limits);
    fmt::print("{}\n", boost::json::serialize(json));
  } else {
    if (!sink.EndsWithNewline()) std::fputc('\n', stdout);
    std::fflush(stdout);
    fmt::print(stderr, "── {}\n", Summary(result, ::isatty(STDERR_FILENO) == 1));
  }
  return ExitCodeFor(result.status);
}

}  // namespace

void RegisterRunCommand(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command =
      app.add_subcommand("run", "Run one file in a fresh sandbox and print the result");
  command->add_option("file", options->file, "Program to run")->required();
  command->add_option("--lang", options->language, "Language, e.g. python")->required();
  command->add_option("--version", options->version, "Language version, e.g. 3.11")->required();
  command->add_option("--stdin", options->stdin_file,
                      "File fed to the program's standard input, or - for this command's own "
                      "standard input (read whole before the run starts); without it the program "
                      "reads an empty input");
  command->add_option("--memory", options->memory, "Memory limit, e.g. 128M (default 128M)");
  command->add_option("--cpu", options->cpu,
                      "CPU limit in cores or millicores, e.g. 1 or 100m (default 1)");
  command->add_option("--timeout", options->timeout, "Wall-clock limit, e.g. 5s (default 5s)");
  command->add_option("--output-limit", options->output,
                      "Cap per output stream, e.g. 1M (default 1M)");
  command->add_flag("--json", options->json, "Print one JSON object with the result");
  command->add_option(
      "--config", options->config_file,
      "Configuration file (TOML, as for serve): default and maximum limits, sandbox settings");
  command
      ->add_option("--cgroup", options->cgroup_mode,
                   "cgroup version: auto, v1 or v2 (default: configuration)")
      ->check(CLI::IsMember({"auto", "v1", "v2"}));
  command
      ->add_option("--isolation", options->isolation,
                   "native, or gvisor: run under gVisor's runsc (default: configuration)")
      ->check(CLI::IsMember({"native", "gvisor"}));
  command->add_option("--state-dir", options->state_dir, "Directory for the sandbox mount point");
  command->callback([options, &global, &exit_code] { exit_code = Run(*options, global); });
}

}  // namespace integr8scode
