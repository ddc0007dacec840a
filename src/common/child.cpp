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

// Blocks until the process of `pidfd` exits and reaps it. The one waitid loop: every
// interrupted wait is resumed here.
int WaitPidfd(int pidfd, siginfo_t& info) noexcept {
  for (;;) {
    if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) == 0)
      return 0;
    if (errno != EINTR) return -1;
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
  return Child(pid, std::move(pidfd), Parent::kThisProcess);
}

Child Child::FromPidfd(pid_t pid, UniqueFd pidfd, Parent parent) noexcept {
  if (!pidfd) return Child();
  return Child(pid > 0 ? pid : 0, std::move(pidfd), parent);
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      parent_(other.parent_) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    KillAndReap();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    parent_ = other.parent_;
  }
  return *this;
}

Child::~Child() { KillAndReap(); }

void Child::KillAndReap() noexcept {
  if (!pidfd_) return;
  // ESRCH (already exited) is fine: the wait below still reaps it.
  PidfdSendSignal(pidfd_.Get(), SIGKILL);
  if (parent_ == Parent::kThisProcess) {
    siginfo_t info{};
    WaitPidfd(pidfd_.Get(), info);
  }
  pid_ = -1;
  pidfd_.Reset();
}

void Child::Kill() noexcept {
  if (pidfd_) PidfdSendSignal(pidfd_.Get(), SIGKILL);
}

Status Child::Signal(int signal) {
  if (!pidfd_) return {};
  if (PidfdSendSignal(pidfd_.Get(), signal) != 0 && errno != ESRCH) {
    return Fail(SystemError("pidfd_send_signal"));
  }
  return {};
}

Result<bool> Child::WaitExit(std::chrono::milliseconds timeout) {
  if (!pidfd_) return true;
  pollfd pfd{pidfd_.Get(), POLLIN, 0};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Rounded up: a wait cut short by truncation would report "still running" early.
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const int ready =
        ::poll(&pfd, 1, static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000)));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return Fail(SystemError("poll pidfd"));
  }
}

Result<int> Child::Wait() {
  if (!pidfd_) return Fail(ErrorCode::kInternal, "no child process to wait for");
  if (parent_ != Parent::kThisProcess) {
    return Fail(ErrorCode::kInternal, "the process is another's child: its parent reaps it");
  }
  siginfo_t info{};
  if (WaitPidfd(pidfd_.Get(), info) != 0) return Fail(SystemError("waitid"));
  pid_ = -1;
  pidfd_.Reset();
  // The same encoding waitpid gives, so callers use WIFEXITED/WEXITSTATUS as usual.
  if (info.si_code == CLD_EXITED) return (info.si_status & 0xff) << 8;
  return info.si_status & 0x7f;
}

}  // namespace integr8scode
