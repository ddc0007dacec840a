#include "load/baseline.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <thread>

#include "common/unique_fd.hpp"

extern char** environ;

namespace integr8scode {
namespace {

using Clock = std::chrono::steady_clock;

// posix_spawn's file actions, freed on every path.
class SpawnActions {
 public:
  SpawnActions() { ::posix_spawn_file_actions_init(&actions_); }
  ~SpawnActions() { ::posix_spawn_file_actions_destroy(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* Get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_{};
};

// One run: true when it exited 0 and printed exactly what was expected.
bool RunOnce(const std::vector<char*>& argv, const std::string& expected) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  SpawnActions actions;
  // dup2 onto 1 and 2 clears close-on-exec on the copies only; the pipe's own fds stay
  // close-on-exec, so no other loop's child inherits them.
  ::posix_spawn_file_actions_adddup2(actions.Get(), write_end.Get(), STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(actions.Get(), write_end.Get(), STDERR_FILENO);
  ::posix_spawn_file_actions_addopen(actions.Get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  // posix_spawn returns the error number instead of setting errno.
  if (::posix_spawn(&pid, argv[0], actions.Get(), nullptr, argv.data(), environ) != 0) return false;
  write_end.Reset();
  std::string output;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(read_end.Get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buffer, static_cast<std::size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 && output == expected;
}

double ChildrenCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_CHILDREN, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

Result<BaselineResult> RunBaseline(const BaselineSettings& settings) {
  if (settings.argv.empty())
    return Fail(ErrorCode::kInvalidArgument, "the baseline needs a command");
  if (settings.jobs == 0)
    return Fail(ErrorCode::kInvalidArgument, "the baseline needs at least one job");
  std::vector<std::string> argv_storage = settings.argv;
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);

  BaselineResult result;
  result.settings = settings;
  std::mutex mutex;
  const double cpu_before = ChildrenCpuSeconds();
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + settings.duration;
  {
    std::vector<std::jthread> loops;
    for (std::size_t i = 0; i < settings.jobs; ++i) {
      loops.emplace_back([&] {
        LatencySamples latency;
        std::uint64_t runs = 0;
        std::uint64_t failures = 0;
        do {
          const Clock::time_point begun = Clock::now();
          const bool ok = RunOnce(argv, settings.expected_stdout);
          latency.Add(Clock::now() - begun);
          ++runs;
          if (!ok) ++failures;
        } while (Clock::now() < deadline);
        std::lock_guard lock(mutex);
        result.runs += runs;
        result.failures += failures;
        result.run_latency.Merge(latency);
      });
    }
  }
  result.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  result.cpu_s = ChildrenCpuSeconds() - cpu_before;
  return result;
}

}  // namespace integr8scode
