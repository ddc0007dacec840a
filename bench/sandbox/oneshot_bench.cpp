// A one-shot `integr8scode run` against the bare interpreter and bubblewrap, and against
// another build of the command (--before, e.g. the shape before the static front): every
// command once per round, the order rotating each round, so that a loaded, shared
// machine's drift hits all of them alike. Prints, per command, the median wall time and
// the median CPU time of the whole process tree (wait4: the command and every descendant
// it reaped, the sandboxed python included), and their ratios to bare. A benchmark, never
// a test: it fails only when a command does. Needs root (the sandbox).
// Usage: integr8scode-oneshot-bench [--runs N] [--before PATH] [--bwrap PATH]
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace integr8scode {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kPython = "/usr/bin/python3.11";

struct Command {
  std::string name;
  std::vector<std::string> argv;
  std::vector<double> wall_ms;
  std::vector<double> cpu_ms;
  // Whether wait4 sees the whole tree's CPU: bubblewrap's own pid-1 process reaps the
  // program, and the outer bwrap does not wait for it, so its figure misses the program.
  bool whole_tree_cpu = true;
};

struct Sample {
  bool ok = false;
  double wall_ms = 0;
  double cpu_ms = 0;
};

double Millis(const timeval& t) {
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3;
}

// posix_spawn (vfork-style: this process is small) with stdout and stderr to /dev/null.
Sample RunOnce(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  Sample sample;
  const auto start = Clock::now();
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return sample;
  int status = 0;
  rusage usage{};
  if (::wait4(pid, &status, 0, &usage) != pid) return sample;
  sample.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  sample.cpu_ms = Millis(usage.ru_utime) + Millis(usage.ru_stime);
  sample.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return sample;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Rounds of every command, rotating which goes first; `warmup` rounds are not kept.
bool Interleave(std::vector<Command>& commands, int runs, int warmup) {
  for (int round = 0; round < warmup + runs; ++round) {
    for (std::size_t k = 0; k < commands.size(); ++k) {
      Command& command = commands[(k + static_cast<std::size_t>(round)) % commands.size()];
      const Sample sample = RunOnce(command.argv);
      if (!sample.ok) {
        fmt::print(stderr, "{} failed: {}\n", command.name, fmt::join(command.argv, " "));
        return false;
      }
      if (round < warmup) continue;
      command.wall_ms.push_back(sample.wall_ms);
      command.cpu_ms.push_back(sample.cpu_ms);
    }
  }
  return true;
}

void Report(const std::vector<Command>& commands, const std::string& base_name) {
  const auto base = std::find_if(commands.begin(), commands.end(),
                                 [&](const Command& c) { return c.name == base_name; });
  const double base_wall = Median(base->wall_ms);
  const double base_cpu = Median(base->cpu_ms);
  fmt::print("{:<34} {:>12} {:>9} {:>8} {:>11} {:>9}\n", "", "wall median", "min", "ratio",
             "CPU median", "ratio");
  for (const Command& command : commands) {
    const double wall = Median(command.wall_ms);
    const double cpu = Median(command.cpu_ms);
    const std::string cpu_columns = command.whole_tree_cpu
                                        ? fmt::format("{:>8.2f} ms {:>8.2f}x", cpu, cpu / base_cpu)
                                        : fmt::format("{:>11} {:>9}", "—", "—");
    fmt::print("{:<34} {:>9.2f} ms {:>6.2f} ms {:>7.2f}x {}\n", command.name, wall,
               *std::min_element(command.wall_ms.begin(), command.wall_ms.end()), wall / base_wall,
               cpu_columns);
  }
}

double LoadAverage() {
  double load[1] = {0};
  return ::getloadavg(load, 1) == 1 ? load[0] : -1;
}

int Main(int argc, char** argv) {
  int runs = 100;
  std::string before;
  std::string bwrap = "/usr/bin/bwrap";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    if (flag == "--before") before = argv[i + 1];
    if (flag == "--bwrap") bwrap = argv[i + 1];
  }
  const std::string after = INTEGR8SCODE_BINARY;
  const fs::path dir = fs::temp_directory_path() / fmt::format("oneshot-bench-{}", ::getpid());
  fs::create_directories(dir);
  const std::string script = (dir / "hi.py").string();
  std::ofstream(script) << "print('hi')\n";

  std::vector<Command> start;
  start.push_back({"/bin/true (libc only)", {"/bin/true"}, {}, {}});
  start.push_back({"integr8scode --version", {after, "--version"}, {}, {}});
  if (!before.empty()) start.push_back({"before: --version", {before, "--version"}, {}, {}});

  std::vector<Command> runs_of;
  runs_of.push_back({"bare python3.11 -I -u", {kPython, "-I", "-u", script}, {}, {}});
  if (::access(bwrap.c_str(), X_OK) == 0) {
    // As close to our isolation as its flags allow (bench/sandbox/startup.sh).
    runs_of.push_back({"bwrap --unshare-all …",
                       {bwrap,
                        "--unshare-all",
                        "--die-with-parent",
                        "--new-session",
                        "--cap-drop",
                        "ALL",
                        "--tmpfs",
                        "/",
                        "--ro-bind",
                        "/usr",
                        "/usr",
                        "--symlink",
                        "usr/bin",
                        "/bin",
                        "--symlink",
                        "usr/lib",
                        "/lib",
                        "--symlink",
                        "usr/lib64",
                        "/lib64",
                        "--proc",
                        "/proc",
                        "--dev",
                        "/dev",
                        "--tmpfs",
                        "/tmp",
                        "--ro-bind",
                        script,
                        "/scripts/script.py",
                        "--chdir",
                        "/tmp",
                        kPython,
                        "-I",
                        "-u",
                        "/scripts/script.py"},
                       {},
                       {},
                       false});
  } else {
    fmt::print("bubblewrap not found at {} (apt-get install bubblewrap): left out\n", bwrap);
  }
  const std::vector<std::string> run_args = {"run",    script,      "--lang",
                                             "python", "--version", "3.11"};
  std::vector<std::string> ours = {after};
  ours.insert(ours.end(), run_args.begin(), run_args.end());
  runs_of.push_back({"integr8scode run", ours, {}, {}});
  if (!before.empty()) {
    std::vector<std::string> theirs = {before};
    theirs.insert(theirs.end(), run_args.begin(), run_args.end());
    runs_of.push_back({"before: integr8scode run", theirs, {}, {}});
  }

  const double load_before = LoadAverage();
  fmt::print("== the command's own start: {} rounds, interleaved\n", runs);
  const bool started = Interleave(start, runs, 5);
  if (started) Report(start, "/bin/true (libc only)");
  fmt::print("\n== print('hi'): {} rounds, interleaved\n", runs);
  const bool ran = started && Interleave(runs_of, runs, 5);
  if (ran) Report(runs_of, "bare python3.11 -I -u");
  fmt::print("\nload average (1 min): {:.1f} before, {:.1f} after; {} cores\n", load_before,
             LoadAverage(), ::sysconf(_SC_NPROCESSORS_ONLN));
  std::error_code ec;
  fs::remove_all(dir, ec);
  return ran ? 0 : 1;
}

}  // namespace
}  // namespace integr8scode

int main(int argc, char** argv) { return integr8scode::Main(argc, argv); }
