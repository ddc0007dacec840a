#include "sandbox/seccomp_policy.hpp"

#include <fmt/format.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>

#include "common/unique_fd.hpp"

namespace integr8scode {
namespace {

// Calls a code runner never needs. EPERM, as for an unprivileged process.
constexpr const char* kDenied[] = {
    // tracing and other processes' memory
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    // mounts, roots, namespaces
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    // kernel administration
    "reboot",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "quotactl_fd",
    "syslog",
    "sethostname",
    "setdomainname",
    "vhangup",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "_sysctl",
    "uselib",
    "ustat",
    "sysfs",
    "lookup_dcookie",
    "nfsservctl",
    "get_kernel_syms",
    "query_module",
    "create_module",
    // attack surface with a history of kernel bugs
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "open_by_handle_at",
    "name_to_handle_at",
    "fanotify_init",
    "memfd_secret",
    "process_madvise",
    "migrate_pages",
    "move_pages",
    "mbind",
    "set_mempolicy",
};

struct ContextDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};

Status Check(int rc, std::string_view what) {
  // libseccomp returns -errno.
  if (rc < 0) return Fail(SystemError(-rc, fmt::format("seccomp: {}", what)));
  return {};
}

}  // namespace

Result<SeccompProgram> BuildSeccompProgram() {
  std::unique_ptr<void, ContextDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return Fail(ErrorCode::kInternal, "seccomp_init failed");
  scmp_filter_ctx c = ctx.get();
  // A binary tree of syscall numbers rather than a linear list: every system call of the
  // program passes through the filter.
  if (auto s = Check(seccomp_attr_set(c, SCMP_FLTATR_CTL_OPTIMIZE, 2), "optimize"); !s) {
    return Fail(s.error());
  }
  // Only the native ABI; i386 int 0x80 and x32 calls hit the bad-arch action.
  if (auto s =
          Check(seccomp_attr_set(c, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS), "badarch");
      !s) {
    return Fail(s.error());
  }
  for (const char* name : kDenied) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not a syscall on this architecture
    if (auto s = Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), nr, 0), name); !s)
      return Fail(s.error());
  }
  // clone3 passes its flags in memory, which a filter cannot read: make libc fall
  // back to clone, whose flags register we can check.
  if (auto s = Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0), "clone3");
      !s) {
    return Fail(s.error());
  }
  // clone() with any namespace flag: one rule per flag (rules are ORed).
  for (const scmp_datum_t flag : {CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
                                  CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP}) {
    if (auto s = Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                        SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)),
                       "clone flags");
        !s) {
      return Fail(s.error());
    }
  }
  // Socket families: UNIX (1), INET (2) and INET6 (10) only. The network namespace
  // has no interfaces anyway; this removes netlink, packet, alg, vsock… attack surface.
  for (int family = 0; family < AF_MAX; ++family) {
    if (family == AF_UNIX || family == AF_INET || family == AF_INET6) continue;
    if (auto s = Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                                        SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family))),
                       "socket");
        !s) {
      return Fail(s.error());
    }
  }
  if (auto s = Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                                      SCMP_A0(SCMP_CMP_GE, static_cast<scmp_datum_t>(AF_MAX))),
                     "socket");
      !s) {
    return Fail(s.error());
  }
  // Injecting input into a terminal.
  for (const unsigned long request :
       {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX)}) {
    if (auto s = Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                        SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, request)),
                       "ioctl");
        !s) {
      return Fail(s.error());
    }
  }
  // Turning off address-space randomisation (personality ADDR_NO_RANDOMIZE) helps
  // exploits and no program needs it; other personas stay allowed.
  if (auto s =
          Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
                                 SCMP_A0(SCMP_CMP_MASKED_EQ, ADDR_NO_RANDOMIZE, ADDR_NO_RANDOMIZE)),
                "personality");
      !s) {
    return Fail(s.error());
  }

  // Export the BPF through a memfd (libseccomp 2.5 exports only to an fd).
  UniqueFd memfd(::memfd_create("seccomp-bpf", MFD_CLOEXEC));
  if (!memfd) return Fail(SystemError("memfd_create"));
  if (auto s = Check(seccomp_export_bpf(c, memfd.Get()), "export"); !s) return Fail(s.error());
  const off_t size = ::lseek(memfd.Get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return Fail(ErrorCode::kInternal, "seccomp: exported program has a bad size");
  }
  SeccompProgram program;
  program.instructions.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
  if (::pread(memfd.Get(), program.instructions.data(), static_cast<std::size_t>(size), 0) !=
      size) {
    return Fail(SystemError("seccomp: read exported program"));
  }
  if (program.instructions.size() > BPF_MAXINSNS) {
    return Fail(ErrorCode::kInternal, "seccomp: program too long");
  }
  return program;
}

int InstallSeccompProgram(const sock_fprog& program) {
  return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program));
}

}  // namespace integr8scode
