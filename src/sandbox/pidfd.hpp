#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace integr8scode {

// pidfd calls through syscall(2): glibc 2.36's <sys/pidfd.h> lacks C linkage in C++.
inline int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
inline int PidfdSendSignal(int pidfd, int signal) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

}  // namespace integr8scode
