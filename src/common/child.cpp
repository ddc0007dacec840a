#include "common/child.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <utility>

namespace integr8scode {
namespace {

// Debian 12's <sys/pidfd.h> declares these without C linkage, so C++ cannot link them:
// the raw system calls instead.
int PidfdOpen(pid_t pid) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U)); }
int PidfdSendSignal(int pidfd, int signal) noexcept {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0U));
}

// Reaps `pid` with waitpid, for the one case without a pidfd.
void ReapPid(pid_t pid) noexcept {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<Child> Child::Adopt(pid_t pid) {
  if (pid <= 0) return Fail(ErrorCode::kInvalidArgument, "no process to adopt");
  UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd) {
    const int saved = errno;
    // We are its parent, so the pid cannot have been reused yet: kill(2) by pid is safe.
    ::kill(pid, SIGKILL);
    ReapPid(pid);
    return Fail(SystemError(saved, "pidfd_open"));
  }
  return Child(pid, std::move(pidfd));
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    KillAndReap();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
  }
  return *this;
}

Child::~Child() { KillAndReap(); }

void Child::KillAndReap() noexcept {
  if (pid_ <= 0) return;
  // ESRCH (already exited) is fine: the wait below still reaps it.
  PidfdSendSignal(pidfd_.Get(), SIGKILL);
  siginfo_t info{};
  while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.Get()), &info, WEXITED) <
             0 &&
         errno == EINTR) {
  }
  pid_ = -1;
  pidfd_.Reset();
}

Status Child::Signal(int signal) {
  if (pid_ <= 0) return {};
  if (PidfdSendSignal(pidfd_.Get(), signal) != 0 && errno != ESRCH) {
    return Fail(SystemError("pidfd_send_signal"));
  }
  return {};
}

Result<bool> Child::WaitExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return true;
  pollfd pfd{pidfd_.Get(), POLLIN, 0};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return Fail(SystemError("poll pidfd"));
  }
}

Result<int> Child::Wait() {
  if (pid_ <= 0) return Fail(ErrorCode::kInternal, "no child process to wait for");
  siginfo_t info{};
  while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.Get()), &info, WEXITED) <
         0) {
    if (errno != EINTR) return Fail(SystemError("waitid"));
  }
  pid_ = -1;
  pidfd_.Reset();
  // The same encoding waitpid gives, so callers use WIFEXITED/WEXITSTATUS as usual.
  if (info.si_code == CLD_EXITED) return (info.si_status & 0xff) << 8;
  return info.si_status & 0x7f;
}

}  // namespace integr8scode
