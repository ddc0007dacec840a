// The sandbox as the server uses it: print('hi') through a LocalExecutor (spawner,
// slots prepared once) against the bare interpreter started from this same process,
// sequentially (latency) and with every core busy (throughput). Prints medians and
// ratios; a benchmark, never a test. Needs root.
// Usage: integr8scode-sandbox-bench [runs=200] [seconds=10] [hi|imports|work|pypy|node|warm]
// `imports` runs `import json, re, collections` before the print; `work` also uses them
// a little (a regex, a Counter, json.dumps). With the zygote built,
// warm executors join in: one plain, one with those three modules preloaded
// (sandbox.warm_preload). `pypy`: PyPy 3.9's print('hi') against a bare pypy3.9 (its
// zygote is the bootstrap). `node`: Node.js 20's console.log('hi') against a bare `node
// script.js` (its zygote is node preloading the boot). `warm` times only bare against plain warm
// runs, alternating, and prints the quartile and minimum beside the median (on a loaded machine the
// low end moves least): for a change to the warm path.
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "catalog/catalog_loader.hpp"
#include "sandbox/local_executor.hpp"
#include "sandbox/spawner.hpp"

extern char** environ;

namespace integr8scode {
namespace {

using Clock = std::chrono::steady_clock;

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1))];
}

double Median(std::vector<double> values) { return Quantile(std::move(values), 0.5); }

// Bare: the interpreter the sandbox runs, with the same arguments, on a script file.
// `cpu_ms`: its CPU time (wait4).
// Node takes no -I -u (`node` true): `node script.js`, as the catalog runs it.
bool RunBare(const char* interpreter, const char* script, double* cpu_ms = nullptr,
             bool node = false) {
  char* python_argv[] = {const_cast<char*>(interpreter), const_cast<char*>("-I"),
                         const_cast<char*>("-u"), const_cast<char*>(script), nullptr};
  char* node_argv[] = {const_cast<char*>(interpreter), const_cast<char*>(script), nullptr};
  char** argv = node ? node_argv : python_argv;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  if (cpu_ms != nullptr) {
    *cpu_ms = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
              static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

template <class Function>
double Throughput(std::size_t threads, std::chrono::seconds duration, Function run) {
  std::atomic<std::size_t> done{0};
  const auto end = Clock::now() + duration;
  std::vector<std::thread> pool;
  for (std::size_t i = 0; i < threads; ++i) {
    pool.emplace_back([&] {
      while (Clock::now() < end) {
        if (run()) done.fetch_add(1);
      }
    });
  }
  for (auto& thread : pool) thread.join();
  return static_cast<double>(done.load()) / static_cast<double>(duration.count());
}

// Bare against warm only: median, lower quartile and minimum of each. Three bare runs
// for each warm one: the slots idle meanwhile (as in the full comparison, and as an
// interactive user's slot does), so that a run finds its zygote started.
template <class Bare>
int WarmOnly(int runs, Executor& warm, const RunRequest& request, Bare bare) {
  std::vector<double> bare_ms, warm_ms;
  int warm_started = 0;
  int failures = 0;
  for (int i = 0; i < runs + 10; ++i) {
    for (int b = 0; b < 3; ++b) {
      const auto start = Clock::now();
      failures += bare() ? 0 : 1;
      if (i >= 10) bare_ms.push_back(Millis(Clock::now() - start));
    }
    const auto start = Clock::now();
    const RunResult result = warm.Run(request);
    const auto end = Clock::now();
    failures += result.status == ExecutionStatus::kCompleted ? 0 : 1;
    if (i < 10) continue;  // warming up
    warm_ms.push_back(Millis(end - start));
    warm_started += result.start == StartKind::kWarm ? 1 : 0;
  }
  fmt::print("print('hi'), {} warm runs, 3 bare runs before each\n", runs);
  fmt::print("{:<16} {:>9} {:>9} {:>9}   ratio to bare: median, quartile, min\n", "", "median",
             "quartile", "min");
  fmt::print("{:<16} {:>7.2f}ms {:>7.2f}ms {:>7.2f}ms\n", "bare python3.11", Median(bare_ms),
             Quantile(bare_ms, 0.25), Quantile(bare_ms, 0));
  fmt::print("{:<16} {:>7.2f}ms {:>7.2f}ms {:>7.2f}ms   {:.2f}x {:.2f}x {:.2f}x; {} of {} warm\n",
             "sandbox, warm", Median(warm_ms), Quantile(warm_ms, 0.25), Quantile(warm_ms, 0),
             Median(warm_ms) / Median(bare_ms), Quantile(warm_ms, 0.25) / Quantile(bare_ms, 0.25),
             Quantile(warm_ms, 0) / Quantile(bare_ms, 0), warm_started, runs);
  fmt::print("failures: {}\n", failures);
  return failures == 0 ? 0 : 1;
}

int Main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  const auto seconds = std::chrono::seconds(argc > 2 ? std::atoi(argv[2]) : 10);
  const std::string_view mode = argc > 3 ? argv[3] : "hi";
  const bool imports = mode == "imports" || mode == "work";
  const bool pypy = mode == "pypy";
  const bool node = mode == "node";
  const char* interpreter = pypy   ? "/usr/bin/pypy3.9"
                            : node ? "/usr/bin/node"
                                   : "/usr/bin/python3.11";
  const bool warm_only = mode == "warm";
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  auto catalog = LoadCatalog(DefaultCatalogPath());
  if (!catalog) {
    fmt::print(stderr, "{}\n", catalog.error().Describe());
    return 1;
  }
  const Runtime* runtime = pypy   ? *catalog->Find("pypy", "3.9")
                           : node ? *catalog->Find("node", "20")
                                  : *catalog->Find("python", "3.11");
  SandboxOptions options;
  options.slots = cores;
  auto executor = CreateLocalExecutor(options);
  // Warm starts (docs/warm-starts.md), when the zygote was built: sandboxes built ahead
  // with the interpreter started in them.
  std::unique_ptr<Executor> warm_executor;
  std::unique_ptr<Executor> preload_executor;
#ifdef INTEGR8SCODE_PYTHON_ZYGOTE
  SandboxOptions warm_options = options;
  warm_options.warm_zygote = INTEGR8SCODE_PYTHON_ZYGOTE;
#ifdef INTEGR8SCODE_NODE_ZYGOTE_DIR
  warm_options.node_zygote_dir = INTEGR8SCODE_NODE_ZYGOTE_DIR;
#endif
  if (auto created = CreateLocalExecutor(warm_options)) warm_executor = std::move(*created);
  warm_options.warm_preload = {"json", "re", "collections"};
  // The preload is CPython's (sandbox.warm_preload): nothing to compare for Node.
  if (!node && !pypy) {  // only the embedded CPython reads the preload
    if (auto created = CreateLocalExecutor(warm_options)) preload_executor = std::move(*created);
  }
#endif
  options.prebuild = false;
  auto plain_executor = CreateLocalExecutor(options);  // every sandbox built at its run
  if (!executor || !plain_executor) {
    fmt::print(stderr, "{}\n", (executor ? plain_executor : executor).error().Describe());
    return 1;
  }
  char python_script[] = "/tmp/integr8scode-bench-XXXXXX.py";
  char node_script[] = "/tmp/integr8scode-bench-XXXXXX.js";
  char* script = node ? node_script : python_script;
  const int fd = ::mkstemps(script, 3);
  const std::string source =
      node ? std::string("console.log('hi')\n")
           : std::string(imports ? "import json, re, collections\n" : "") +
                 (mode == "work" ? "words = re.findall(r'\\w+', 'to be or not to be ' * 50)\n"
                                   "text = json.dumps(collections.Counter(words).most_common(3))\n"
                                   "assert json.loads(text)[0] == ['to', 100]\n"
                                 : "") +
                 "print('hi')\n";
  if (fd < 0 || ::write(fd, source.data(), source.size()) != static_cast<ssize_t>(source.size()))
    return 1;
  ::close(fd);

  RunRequest request;
  request.runtime = runtime;
  request.source = source;
  const auto sandboxed_with = [&](Executor& chosen) {
    const RunResult result = chosen.Run(request);
    return result.status == ExecutionStatus::kCompleted && result.stdout_text == "hi\n";
  };
  const auto sandboxed = [&] { return sandboxed_with(**executor); };
  const auto plain = [&] { return sandboxed_with(**plain_executor); };
  const auto bare = [&] { return RunBare(interpreter, script, nullptr, node); };

  if (warm_only) {
    if (!warm_executor) {
      fmt::print(stderr, "no warm executor: the zygote was not built\n");
      return 1;
    }
    return WarmOnly(runs, *warm_executor, request, bare);
  }
  // Warm both paths, then alternate so that drift on a shared machine hits both alike.
  for (int i = 0; i < 10; ++i) {
    sandboxed();
    plain();
    bare();
  }
  std::vector<double> bare_ms, sandbox_ms, setup_ms, plain_ms, plain_setup_ms, warm_ms,
      warm_setup_ms;
  std::vector<double> sandbox_cpu_ms, warm_cpu_ms, bare_cpu_ms, preload_ms, preload_cpu_ms;
  int warm_started = 0;
  int preload_started = 0;
  int failures = 0;
  const auto timed = [&](Executor& chosen, std::vector<double>& total, std::vector<double>& setup) {
    const auto start = Clock::now();
    const RunResult result = chosen.Run(request);
    total.push_back(Millis(Clock::now() - start));
    setup.push_back(static_cast<double>(result.setup_us) / 1000);
    failures += result.status == ExecutionStatus::kCompleted ? 0 : 1;
  };
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    double cpu_ms = 0;
    failures += RunBare(interpreter, script, &cpu_ms, node) ? 0 : 1;
    bare_ms.push_back(Millis(Clock::now() - start));
    bare_cpu_ms.push_back(cpu_ms);
    timed(**executor, sandbox_ms, setup_ms);
    timed(**plain_executor, plain_ms, plain_setup_ms);
    // CPU per execution as the run is charged (the slot's cgroup after the go).
    sandbox_cpu_ms.push_back(static_cast<double>((*executor)->Run(request).usage.cpu_time_ms));
    if (warm_executor) {
      const auto warm_start = Clock::now();
      const RunResult result = warm_executor->Run(request);
      warm_ms.push_back(Millis(Clock::now() - warm_start));
      warm_setup_ms.push_back(static_cast<double>(result.setup_us) / 1000);
      warm_cpu_ms.push_back(static_cast<double>(result.usage.cpu_time_ms));
      warm_started += result.start == StartKind::kWarm ? 1 : 0;
      failures += result.status == ExecutionStatus::kCompleted ? 0 : 1;
    }
    if (preload_executor) {
      const auto preload_start = Clock::now();
      const RunResult result = preload_executor->Run(request);
      preload_ms.push_back(Millis(Clock::now() - preload_start));
      preload_cpu_ms.push_back(static_cast<double>(result.usage.cpu_time_ms));
      preload_started += result.start == StartKind::kWarm && !result.preload_incomplete ? 1 : 0;
      failures += result.status == ExecutionStatus::kCompleted ? 0 : 1;
    }
  }
  const double bare_tp = Throughput(cores, seconds, bare);
  // Both throughputs twice, in both orders, so that neither gains from going first.
  double sandbox_tp = Throughput(cores, seconds, sandboxed);
  double plain_tp = Throughput(cores, seconds, plain);
  plain_tp = (plain_tp + Throughput(cores, seconds, plain)) / 2;
  sandbox_tp = (sandbox_tp + Throughput(cores, seconds, sandboxed)) / 2;
  ::unlink(script);

  fmt::print("{}{}{}, {} runs each, alternating; throughput: {} threads for {} s\n",
             imports ? "import json, re, collections; " : "",
             mode == "work" ? "a regex, a Counter, json.dumps; " : "",
             node ? "console.log('hi')" : "print('hi')", runs, cores, seconds.count());
  fmt::print("{:<22} {:>10} {:>10} {:>10}\n", "", "median", "ratio", "runs/s");
  fmt::print("{:<22} {:>8.2f}ms {:>9.2f}x {:>10.1f}\n",
             pypy   ? "bare pypy3.9"
             : node ? "bare node"
                    : "bare python3.11",
             Median(bare_ms), 1.0, bare_tp);
  fmt::print(
      "{:<22} {:>8.2f}ms {:>9.2f}x {:>10.1f}   set-up {:.2f} ms, throughput {:.2f}x of bare\n",
      "sandbox, built ahead", Median(sandbox_ms), Median(sandbox_ms) / Median(bare_ms), sandbox_tp,
      Median(setup_ms), sandbox_tp / bare_tp);
  fmt::print(
      "{:<22} {:>8.2f}ms {:>9.2f}x {:>10.1f}   set-up {:.2f} ms, throughput {:.2f}x of bare\n",
      "sandbox, built at run", Median(plain_ms), Median(plain_ms) / Median(bare_ms), plain_tp,
      Median(plain_setup_ms), plain_tp / bare_tp);
  if (warm_executor) {
    fmt::print("{:<22} {:>8.2f}ms {:>9.2f}x {:>10}   set-up {:.2f} ms; {} of {} runs warm\n",
               "sandbox, warm", Median(warm_ms), Median(warm_ms) / Median(bare_ms), "-",
               Median(warm_setup_ms), warm_started, runs);
    fmt::print("CPU charged per run (cgroup, ms, median): built ahead {:.0f}, warm {:.0f}\n",
               Median(sandbox_cpu_ms), Median(warm_cpu_ms));
  }
  if (preload_executor) {
    fmt::print("{:<22} {:>8.2f}ms {:>9.2f}x {:>10}   {} of {} runs warm with the preload\n",
               "sandbox, warm+preload", Median(preload_ms), Median(preload_ms) / Median(bare_ms),
               "-", preload_started, runs);
    fmt::print(
        "CPU charged per run (cgroup, ms, median): warm+preload {:.0f}; bare (wait4) {:.1f}\n",
        Median(preload_cpu_ms), Median(bare_cpu_ms));
  }
  fmt::print("failures: {}\n", failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace integr8scode

int main(int argc, char** argv) {
  if (auto code = integr8scode::RunSpawnerIfRequested(argc, argv)) return *code;
  return integr8scode::Main(argc, argv);
}
