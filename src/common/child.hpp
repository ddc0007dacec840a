#pragma once

#include <sys/types.h>

#include <chrono>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace integr8scode {

// A process this process started, held through a pidfd (pidfd_open(2)), so signals and
// waits name this process and never a later one that reused its pid. Move-only. A Child
// that has not been waited for is killed (SIGKILL) and reaped when destroyed: no path
// leaves a zombie or a stray process behind. Not thread-safe: one owner at a time.
//
// Usually this process is its parent. A process started on our behalf by a helper (a
// sandbox init cloned by the sandbox spawner) is its parent's to reap: such a Child is
// killed when destroyed but not reaped, and Wait() is refused (WaitExit still works).
class Child {
 public:
  enum class Parent { kThisProcess, kAnother };

  Child() = default;
  // Takes ownership of `pid`, which must be a child of this process not yet reaped. When
  // the pidfd cannot be opened the child is still owned: it is killed and reaped here,
  // and the error returned.
  static Result<Child> Adopt(pid_t pid);
  // Takes ownership of a process already held by `pidfd` (clone3 with CLONE_PIDFD, or a
  // pidfd received from the process that started it). `pid` is for logs and messages.
  static Child FromPidfd(pid_t pid, UniqueFd pidfd, Parent parent) noexcept;

  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  bool Running() const noexcept { return pidfd_.Get() >= 0; }  // owned and not yet reaped
  pid_t Pid() const noexcept { return pid_; }
  // Readable (poll POLLIN) once the process has exited.
  int PidFd() const noexcept { return pidfd_.Get(); }

  // Sends `signal` (pidfd_send_signal(2)). A no-op once reaped; ESRCH (exited, not yet
  // reaped) is not an error.
  Status Signal(int signal);
  // SIGKILL; a no-op once reaped. For paths that end the process whatever happens.
  void Kill() noexcept;
  // Waits up to `timeout` for the process to exit; true when it has (not yet reaped).
  // Interrupted waits (EINTR) are resumed with the time left.
  Result<bool> WaitExit(std::chrono::milliseconds timeout);
  // Blocks until the process exits and reaps it; returns its wait status (sys/wait.h
  // WIFEXITED and friends). Afterwards the Child no longer owns a process. kInternal for
  // a process whose parent is another.
  Result<int> Wait();

 private:
  Child(pid_t pid, UniqueFd pidfd, Parent parent) noexcept
      : pid_(pid), pidfd_(std::move(pidfd)), parent_(parent) {}
  void KillAndReap() noexcept;

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  Parent parent_ = Parent::kThisProcess;
};

}  // namespace integr8scode
