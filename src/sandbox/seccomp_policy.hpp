#pragma once

#include <linux/filter.h>

#include <vector>

#include "common/error.hpp"

namespace integr8scode {

// The sandbox's seccomp filter, compiled once per process with libseccomp into a plain
// BPF program, so that the child only has to install it (no allocation after clone).
//
// Policy: allow by default, refuse what code runners never need (DESIGN.md §4) with
// EPERM — kernel-administration calls, tracing, namespaces and mounts, keyrings, BPF,
// perf, userfaultfd, io_uring, handle-based opens, clock setting — plus: clone() with any
// namespace flag, clone3() (ENOSYS, so libc falls back to clone whose flags we can
// inspect), socket families other than UNIX/INET/INET6 (EAFNOSUPPORT), the TIOCSTI and
// TIOCLINUX ioctls, personas that weaken the address space, modify_ldt; ENOSYS for
// inotify, io_setup (a host-wide quota) and cachestat; EINVAL for dnotify (F_NOTIFY); EOPNOTSUPP
// for flock and preadv2(RWF_NOWAIT) (locks and page-cache state of the host's shared files); sync
// and syncfs succeed without writing back the host's filesystems. Foreign architectures (i386/x32
// entry points) kill the process.
struct SeccompProgram {
  std::vector<sock_filter> instructions;

  sock_fprog Prog() const {
    return sock_fprog{static_cast<unsigned short>(instructions.size()),
                      const_cast<sock_filter*>(instructions.data())};
  }
};

// Compiles the policy with libseccomp (the build-time generator and the tests use it).
Result<SeccompProgram> BuildSeccompProgram();
// The same program, compiled at build time (seccomp_codegen.cpp) and embedded.
const SeccompProgram& EmbeddedSeccompProgram();

// Installs a program in the calling thread (after PR_SET_NO_NEW_PRIVS). Async-signal-safe.
int InstallSeccompProgram(const sock_fprog& program);

}  // namespace integr8scode
