#include "common/subprocess.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "common/child.hpp"
#include "common/try.hpp"
#include "common/unique_fd.hpp"

extern char** environ;

namespace integr8scode {

Result<CommandOutput> RunHostCommand(const std::vector<std::string>& argv,
                                     std::chrono::milliseconds timeout) {
  if (argv.empty()) return Fail(ErrorCode::kInvalidArgument, "empty command");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Fail(SystemError("pipe2"));
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.Get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, write_end.Get(), STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  // posix_spawn returns the error number instead of setting errno.
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.Reset();
  if (rc != 0) return Fail(SystemError(rc, fmt::format("cannot start {}", argv[0])));
  Child child = I8C_TRY_VALUE(Child::Adopt(pid));  // killed and reaped on every early return

  CommandOutput result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool killed = false;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      killed = true;
      break;
    }
    pollfd pfd{read_end.Get(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t n = ::read(read_end.Get(), buffer, sizeof buffer);
    if (n <= 0) break;
    if (result.output.size() < 65536) result.output.append(buffer, static_cast<std::size_t>(n));
  }
  // Its output closed is not its exit (a daemon closes stdout and lives on): the deadline
  // still holds for the process itself.
  if (!killed) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto exited = I8C_TRY_VALUE(child.WaitExit(std::max(left, std::chrono::milliseconds(0))));
    killed = !exited;
  }
  if (killed) {
    // ~Child kills (SIGKILL) and reaps it.
    return Fail(ErrorCode::kUnavailable,
                fmt::format("{} did not finish within {} ms", argv[0], timeout.count()));
  }
  auto status = I8C_TRY_VALUE(child.Wait());
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace integr8scode
