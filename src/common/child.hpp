#pragma once

#include <sys/types.h>

#include <chrono>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace integr8scode {

// A child process of this process, held through a pidfd (pidfd_open(2)), so signals and
// waits name this process and never a later one that reused its pid. Move-only. A Child
// that has not been waited for is killed (SIGKILL) and reaped when destroyed: no path
// leaves a zombie or a stray process behind. Not thread-safe: one owner at a time.
class Child {
 public:
  Child() = default;
  // Takes ownership of `pid`, which must be a child of this process not yet reaped. When
  // the pidfd cannot be opened the child is still owned: it is killed and reaped here,
  // and the error returned.
  static Result<Child> Adopt(pid_t pid);

  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  bool Running() const noexcept { return pid_ > 0; }  // adopted and not yet reaped
  pid_t Pid() const noexcept { return pid_; }
  // Readable (poll POLLIN) once the process has exited.
  int PidFd() const noexcept { return pidfd_.Get(); }

  // Sends `signal` (pidfd_send_signal(2)). A no-op once reaped.
  Status Signal(int signal);
  // Waits up to `timeout` for the process to exit; true when it has (not yet reaped).
  Result<bool> WaitExit(std::chrono::milliseconds timeout);
  // Blocks until the process exits and reaps it; returns its wait status (sys/wait.h
  // WIFEXITED and friends). Afterwards the Child no longer owns a process.
  Result<int> Wait();

 private:
  Child(pid_t pid, UniqueFd pidfd) noexcept : pid_(pid), pidfd_(std::move(pidfd)) {}
  void KillAndReap() noexcept;

  pid_t pid_ = -1;
  UniqueFd pidfd_;
};

}  // namespace integr8scode
