#pragma once

// The control socket between a warm-start zygote (python_zygote.cpp) and whoever started
// it: the zygote sends its ready report, the starter sends the go — one message, the
// step's limits, carrying the run's stdin, stdout and stderr. Header-only: the zygote links no
// project library (it must start as fast as the interpreter it replaces).
#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace integr8scode {

// Sent by the zygote once initialised: the CPU time it spent so far (user + system), and
// which modules of its preload list (`--preload=a,b`) it could not import and left out:
// bit i for the i-th. A zygote that preloads nothing may send `cpu_us` alone (8 bytes).
struct ZygoteReady {
  std::int64_t cpu_us = 0;
  std::uint64_t preload_missing = 0;
};
constexpr std::size_t kZygoteReadyMinimum = sizeof(std::int64_t);

// The go's payload: the step's resource limits, which the zygote sets on itself before
// the first instruction of the run (the init may lack CAP_SYS_RESOURCE, which setting
// another uid's limits needs; lowering one's own needs nothing).
struct ZygoteGo {
  std::uint64_t apply_limits = 0;  // 0: keep the zygote's (outside a sandbox)
  std::uint64_t file_size_bytes = 0;
  std::uint64_t open_files = 0;
  std::uint64_t processes = 0;
  std::uint64_t cpu_seconds = 0;
};

// The zygote's argument that asks it to import `modules` before its ready report
// ("--preload=json,re"), to pass between the control descriptor and the interpreter's
// argv; empty when there are none (then no argument at all).
inline std::string ZygotePreloadArgument(const std::vector<std::string>& modules) {
  std::string argument;
  for (const std::string& name : modules)
    argument += (argument.empty() ? "--preload=" : ",") + name;
  return argument;
}

// Sends the go. False (errno set) when the zygote is gone or the socket refuses.
inline bool SendZygoteGo(int control, const int (&fds)[3], ZygoteGo go = {}) {
  iovec io{&go, sizeof go};
  alignas(cmsghdr) char space[CMSG_SPACE(sizeof fds)] = {};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = space;
  message.msg_controllen = sizeof space;
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof fds);
  std::memcpy(CMSG_DATA(header), fds, sizeof fds);
  ssize_t n;
  while ((n = ::sendmsg(control, &message, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  return n == static_cast<ssize_t>(sizeof go);
}

// Receives the go: exactly three descriptors (close-on-exec). False on a hang-up or on
// anything else, in which case nothing must run.
inline bool ReceiveZygoteGo(int control, int (&fds)[3], ZygoteGo& go) {
  iovec io{&go, sizeof go};
  alignas(cmsghdr) char space[CMSG_SPACE(sizeof fds)];
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = space;
  message.msg_controllen = sizeof space;
  ssize_t n;
  while ((n = ::recvmsg(control, &message, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof go) || (message.msg_flags & MSG_CTRUNC) != 0) return false;
  const cmsghdr* header = CMSG_FIRSTHDR(&message);
  if (header == nullptr || header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS ||
      header->cmsg_len != CMSG_LEN(sizeof fds)) {
    return false;
  }
  std::memcpy(fds, CMSG_DATA(header), sizeof fds);
  return true;
}

// In the zygote: the step's limits on itself, as rlimits.cpp sets them on a cold step.
// Returns 0 or the failing errno.
inline int ApplyZygoteGoLimits(const ZygoteGo& go) {
  if (go.apply_limits == 0) return 0;
  const struct {
    __rlimit_resource resource;
    rlim_t soft;
    rlim_t hard;
  } limits[] = {
      {RLIMIT_FSIZE, go.file_size_bytes, go.file_size_bytes},
      {RLIMIT_NOFILE, go.open_files, go.open_files},
      {RLIMIT_NPROC, go.processes, go.processes},
      {RLIMIT_CPU, go.cpu_seconds, go.cpu_seconds + 1},  // SIGXCPU, then SIGKILL
      {RLIMIT_CORE, 0, 0},
      {RLIMIT_MSGQUEUE, 0, 0},
  };
  for (const auto& limit : limits) {
    const rlimit value{limit.soft, limit.hard};
    if (::setrlimit(limit.resource, &value) != 0) return errno;
  }
  return 0;
}

}  // namespace integr8scode
