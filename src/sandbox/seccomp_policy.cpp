#include "sandbox/seccomp_policy.hpp"

#include <fcntl.h>
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
#include <sys/uio.h>
#include <unistd.h>

#include <memory>

#include "common/try.hpp"
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
    "modify_ldt",
    "memfd_secret",
    "process_madvise",
    "migrate_pages",
    "move_pages",
    "mbind",
    "set_mempolicy",
};

// Facilities a kernel may lack: ENOSYS, as from a kernel built without them, so that
// programs take their usual fallback (polling instead of inotify, threads instead of
// kernel AIO).
struct AbsentCall {
  const char* name;
  int x86_64_number;  // for calls newer than this libseccomp (2.5.4 lacks cachestat)
};
constexpr AbsentCall kAbsent[] = {
    // Watches on /usr, which is the host's: the host's commands and other runs'
    // imports would show as events.
    {"inotify_init", 253},
    {"inotify_init1", 294},
    {"inotify_add_watch", 254},
    // Reserves the host-wide aio-max-nr (65,536 requests by default) for as long as
    // the context lives: a run could leave the host without AIO.
    {"io_setup", 206},
    // Page-cache residency of any readable file: which host files, which other run's
    // libraries were just read (a page-cache side channel; mincore(2) is already
    // restricted to writable files by the kernel).
    {"cachestat", 451},
};

int ResolveAbsent(const AbsentCall& call) {
  const int nr = seccomp_syscall_resolve_name(call.name);
  if (nr != __NR_SCMP_ERROR) return nr;
#if defined(__x86_64__)
  return call.x86_64_number;
#else
  return __NR_SCMP_ERROR;
#endif
}

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
  I8C_TRY(Check(seccomp_attr_set(c, SCMP_FLTATR_CTL_OPTIMIZE, 2), "optimize"));
  // Only the native ABI; i386 int 0x80 and x32 calls hit the bad-arch action.
  I8C_TRY(Check(seccomp_attr_set(c, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS), "badarch"));
  for (const char* name : kDenied) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not a syscall on this architecture
    I8C_TRY(Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), nr, 0), name));
  }
  for (const AbsentCall& call : kAbsent) {
    const int nr = ResolveAbsent(call);
    if (nr == __NR_SCMP_ERROR) continue;
    I8C_TRY(Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(ENOSYS), nr, 0), call.name));
  }
  // dnotify, inotify's ancestor: F_NOTIFY on a directory of /usr signals every access
  // to its files, the host's included. EINVAL is a kernel without CONFIG_DNOTIFY. The
  // mask: fcntl takes an unsigned int command, so the upper half must not evade the rule.
  I8C_TRY(Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EINVAL), SCMP_SYS(fcntl), 1,
                                 SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, F_NOTIFY)),
                "fcntl F_NOTIFY"));
  // flock(2) stays: Go's build cache and the JVM's perf data need it on the run's own
  // files, and seccomp cannot tell those from /usr's. A lock on a shared inode is a
  // one-bit channel between concurrent runs until runs get inodes of their own
  // (docs/sandbox.md, "left open").
  // sync(2) writes back every filesystem of the host, syncfs(2) on /usr the host's root
  // filesystem: host-wide I/O a run could repeat in a loop. The sandbox has nothing to
  // write back (its files are on tmpfs), so both succeed without doing anything.
  for (const int nr : {SCMP_SYS(sync), SCMP_SYS(syncfs)}) {
    I8C_TRY(Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(0), nr, 0), "sync"));
  }
  // preadv2(RWF_NOWAIT) tells a cached page from one that is not: the same page-cache
  // channel as cachestat. EOPNOTSUPP is what a file without non-blocking reads answers.
  I8C_TRY(Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EOPNOTSUPP), SCMP_SYS(preadv2), 1,
                                 SCMP_A5(SCMP_CMP_MASKED_EQ, RWF_NOWAIT, RWF_NOWAIT)),
                "preadv2"));
  // clone3 passes its flags in memory, which a filter cannot read: make libc fall
  // back to clone, whose flags register we can check.
  I8C_TRY(Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0), "clone3"));
  // clone() with any namespace flag: one rule per flag (rules are ORed).
  for (const scmp_datum_t flag : {CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
                                  CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP}) {
    I8C_TRY(Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                   SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)),
                  "clone flags"));
  }
  // Socket families: UNIX (1), INET (2) and INET6 (10) only. The network namespace
  // has no interfaces anyway; this removes netlink, packet, alg, vsock… attack surface.
  for (int family = 0; family < AF_MAX; ++family) {
    if (family == AF_UNIX || family == AF_INET || family == AF_INET6) continue;
    I8C_TRY(Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                                   SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family))),
                  "socket"));
  }
  I8C_TRY(Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                                 SCMP_A0(SCMP_CMP_GE, static_cast<scmp_datum_t>(AF_MAX))),
                "socket"));
  // Injecting input into a terminal.
  for (const unsigned long request :
       {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX)}) {
    I8C_TRY(Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                   SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, request)),
                  "ioctl"));
  }
  // Personas that weaken the address space: no randomisation (ADDR_NO_RANDOMIZE), every
  // readable mapping executable (READ_IMPLIES_EXEC), page zero mapped (MMAP_PAGE_ZERO),
  // the legacy layout (ADDR_COMPAT_LAYOUT). Other personas stay allowed, and so does
  // the query personality(0xffffffff): bit 31, never a persona flag, tells it apart.
  for (const scmp_datum_t flag :
       {ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, MMAP_PAGE_ZERO, ADDR_COMPAT_LAYOUT}) {
    constexpr scmp_datum_t kQueryBit = 0x80000000u;
    I8C_TRY(Check(seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
                                   SCMP_A0(SCMP_CMP_MASKED_EQ, flag | kQueryBit, flag)),
                  "personality"));
  }

  // Export the BPF through a memfd (libseccomp 2.5 exports only to an fd).
  UniqueFd memfd(::memfd_create("seccomp-bpf", MFD_CLOEXEC));
  if (!memfd) return Fail(SystemError("memfd_create"));
  I8C_TRY(Check(seccomp_export_bpf(c, memfd.Get()), "export"));
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
