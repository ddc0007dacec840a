// Each runtime's hello world through the sandbox (a LocalExecutor, sandboxes built ahead,
// as the server runs them) against the same interpreter run bare: the same command lines
// (compile step included) from a plain fork + chroot into the runtime's tree (with /proc
// and /dev) or the host's /, without the sandbox's namespaces, cgroups or limits.
// Alternating; medians of wall time (compile included) and of the run step's CPU time.
// A benchmark, never a test. Needs root.
// Usage: integr8scode-runtimes-bench [runs=20] [NAME…]   (names as `integr8scode runtimes`)
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <vector>

#include "catalog/catalog_loader.hpp"
#include "catalog/probe.hpp"
#include "sandbox/local_executor.hpp"
#include "sandbox/spawner.hpp"

namespace integr8scode {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

constexpr std::string_view kBenchDir = "/tmp/integr8scode-bench";

std::string Expand(std::string arg, const Runtime& runtime) {
  const auto replace = [&arg](std::string_view from, const std::string& to) {
    for (auto pos = arg.find(from); pos != std::string::npos; pos = arg.find(from, pos + to.size()))
      arg.replace(pos, from.size(), to);
  };
  replace("{source}", std::string(kBenchDir) + "/" + runtime.source_file);
  replace("{workdir}", std::string(kBenchDir) + "/work");
  return arg;
}

// CPU time of the bare runs' processes (wait4), in milliseconds, added up.
double bare_cpu_ms = 0;

// One step, bare: fork, chroot, exec, wait. True when it exits 0.
bool RunStepBare(const Runtime& runtime, const std::vector<std::string>& argv) {
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8",
                                  "TMPDIR=" + std::string(kBenchDir) + "/work",
                                  "HOME=" + std::string(kBenchDir) + "/work"};
  for (const auto& [key, value] : runtime.env) {
    if (key == "HOME") continue;
    // Scratch directories are fresh for each bare run, as in the sandbox.
    env.push_back(
        key + "=" +
        (value.starts_with("/tmp/") ? std::string(kBenchDir) + "/work" + value.substr(4) : value));
  }
  std::vector<std::string> args;
  for (const std::string& arg : argv) args.push_back(Expand(arg, runtime));
  std::vector<char*> c_args, c_env;
  for (auto& arg : args) c_args.push_back(arg.data());
  c_args.push_back(nullptr);
  for (auto& entry : env) c_env.push_back(entry.data());
  c_env.push_back(nullptr);
  const std::string root = runtime.root_tree.empty() ? "/" : runtime.root_tree;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_WRONLY);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    // A tree gets what the JVM and Go expect of any Linux: /proc and /dev (in a mount
    // namespace of this child, gone with it).
    if (root != "/") {
      if (::unshare(CLONE_NEWNS) != 0 ||
          ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          ::mount("proc", (root + "/proc").c_str(), "proc", 0, nullptr) != 0 ||
          ::mount("/dev", (root + "/dev").c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        ::_exit(125);
      }
    }
    if (::chroot(root.c_str()) != 0 || ::chdir(kBenchDir.data()) != 0) ::_exit(126);
    ::execve(c_args[0], c_args.data(), c_env.data());
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  const auto ms = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1000 + static_cast<double>(t.tv_usec) / 1000;
  };
  bare_cpu_ms += ms(usage.ru_utime) + ms(usage.ru_stime);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool RunBare(const Runtime& runtime, const std::string& source) {
  const fs::path dir = fs::path(runtime.root_tree.empty() ? "/" : runtime.root_tree) /
                       fs::path(kBenchDir).relative_path();
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir / "work");
  std::ofstream(dir / runtime.source_file) << source;
  bool ok = !runtime.has_compile || RunStepBare(runtime, runtime.compile.argv);
  bare_cpu_ms = 0;  // the run step's, as the sandbox reports it
  ok = ok && RunStepBare(runtime, runtime.run.argv);
  fs::remove_all(dir, ec);
  return ok;
}

int Main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 20;
  std::vector<std::string> names(argv + std::min(argc, 2), argv + argc);
  auto catalog = LoadCatalog(DefaultCatalogPath());
  if (!catalog) {
    fmt::print(stderr, "{}\n", catalog.error().Describe());
    return 1;
  }
  const fs::path programs = DefaultCatalogPath().parent_path().parent_path() / "tests" /
                            "integration" / "runtimes_conformance.toml";
  const toml::table table = toml::parse_file(programs.string());
  SandboxOptions options;
  options.slots = 1;
  auto executor = CreateLocalExecutor(options);
  if (!executor) {
    fmt::print(stderr, "{}\n", executor.error().Describe());
    return 1;
  }
  fmt::print("hello world, {} runs each, alternating; medians\n\n", runs);
  fmt::print(
      "| runtime | from | wall bare | wall sandbox | ratio | CPU bare | CPU sandbox | set-up |\n"
      "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
  int failures = 0;
  for (const Runtime& runtime : catalog->All()) {
    if (!names.empty() && std::find(names.begin(), names.end(), runtime.Slug()) == names.end())
      continue;
    if (!ProbeRuntime(runtime).available) continue;
    const std::string language = runtime.language == "pypy" ? "python" : runtime.language;
    const auto hello = table[language]["hello"].value<std::string>();
    if (!hello) continue;
    RunRequest request;
    request.runtime = &runtime;
    request.source = *hello;
    request.limits = Limits{};
    const auto sandboxed = [&](double* setup_ms, double* cpu_ms) {
      const RunResult result = (*executor)->Run(request);
      if (setup_ms != nullptr) *setup_ms = static_cast<double>(result.setup_us) / 1000;
      if (cpu_ms != nullptr) *cpu_ms = static_cast<double>(result.usage.cpu_time_ms);
      return result.status == ExecutionStatus::kCompleted && result.stdout_text == "hello\n";
    };
    for (int i = 0; i < 2; ++i) {  // warm the page cache and the slot
      sandboxed(nullptr, nullptr);
      RunBare(runtime, *hello);
    }
    std::vector<double> bare_ms, sandbox_ms, setup_ms, bare_cpu, sandbox_cpu;
    for (int i = 0; i < runs; ++i) {
      auto start = Clock::now();
      bare_cpu_ms = 0;
      failures += RunBare(runtime, *hello) ? 0 : 1;
      bare_ms.push_back(Millis(Clock::now() - start));
      bare_cpu.push_back(bare_cpu_ms);
      double setup = 0, cpu = 0;
      start = Clock::now();
      failures += sandboxed(&setup, &cpu) ? 0 : 1;
      sandbox_ms.push_back(Millis(Clock::now() - start));
      setup_ms.push_back(setup);
      sandbox_cpu.push_back(cpu);
    }
    fmt::print(
        "| {} | {} | {:.1f} ms | {:.1f} ms | {:.2f}x | {:.0f} ms | {:.0f} ms | {:.2f} ms |\n",
        runtime.display_name, runtime.rootfs.Empty() ? "host" : runtime.rootfs.suite,
        Median(bare_ms), Median(sandbox_ms), Median(sandbox_ms) / Median(bare_ms), Median(bare_cpu),
        Median(sandbox_cpu), Median(setup_ms));
    std::fflush(stdout);
  }
  fmt::print("\nfailures: {}\n", failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace integr8scode

int main(int argc, char** argv) {
  if (auto code = integr8scode::RunSpawnerIfRequested(argc, argv)) return *code;
  return integr8scode::Main(argc, argv);
}
