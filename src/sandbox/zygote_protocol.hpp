#pragma once

// The control socket between a warm-start zygote (python_zygote.cpp) and whoever started
// it: the zygote sends its ready report, the starter sends the go — one message of one
// byte carrying the run's stdin, stdout and stderr. Header-only: the zygote links no
// project library (it must start as fast as the interpreter it replaces).
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace integr8scode {

// Sent by the zygote once initialised: the CPU time it spent so far (user + system).
struct ZygoteReady {
  std::int64_t cpu_us = 0;
};

// Sends the go. False (errno set) when the zygote is gone or the socket refuses.
inline bool SendZygoteGo(int control, const int (&fds)[3]) {
  char byte = 'g';
  iovec io{&byte, 1};
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
  return n == 1;
}

// Receives the go: exactly three descriptors (close-on-exec). False on a hang-up or on
// anything else, in which case nothing must run.
inline bool ReceiveZygoteGo(int control, int (&fds)[3]) {
  char byte = 0;
  iovec io{&byte, 1};
  alignas(cmsghdr) char space[CMSG_SPACE(sizeof fds)];
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = space;
  message.msg_controllen = sizeof space;
  ssize_t n;
  while ((n = ::recvmsg(control, &message, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (n != 1 || (message.msg_flags & MSG_CTRUNC) != 0) return false;
  const cmsghdr* header = CMSG_FIRSTHDR(&message);
  if (header == nullptr || header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS ||
      header->cmsg_len != CMSG_LEN(sizeof fds)) {
    return false;
  }
  std::memcpy(fds, CMSG_DATA(header), sizeof fds);
  return true;
}

}  // namespace integr8scode
