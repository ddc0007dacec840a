// Hostile code: each case is an attack, and its assertions say that it was contained
// and reported with the right status, and that the host kept nothing of it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "hostile/hostile_fixture.hpp"

namespace integr8scode {
namespace {

using testing::RunOptions;

TEST_F(Hostile, ForkBombHitsTheProcessLimit) {
  const RunResult result = C(R"(
#include <stdio.h>
#include <unistd.h>
int main(void) {
  int failures = 0;
  for (;;) { if (fork() < 0 && ++failures == 1) { puts("fork refused"); fflush(stdout); } }
})",
                             Timeout(std::chrono::milliseconds(1500)));
  EXPECT_EQ(result.status, ExecutionStatus::kTimedOut) << result.message;
  EXPECT_NE(result.stdout_text.find("fork refused"), std::string::npos);
}

TEST_F(Hostile, ThreadBombHitsTheProcessLimit) {
  const RunResult result = Python(R"(
import threading, time
threads = []
try:
    while True:
        t = threading.Thread(target=time.sleep, args=(30,), daemon=True)
        t.start()
        threads.append(t)
except RuntimeError as e:
    print("stopped at", len(threads), "threads:", e)
)");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_NE(result.stdout_text.find("can't start new thread"), std::string::npos)
      << result.stdout_text;
}

TEST_F(Hostile, MemoryBombIsKilledAtTheLimit) {
  const RunResult result =
      Python("chunks = []\nwhile True:\n    chunks.append(bytearray(8 * 1024 * 1024))\n");
  EXPECT_EQ(result.status, ExecutionStatus::kMemoryExceeded)
      << result.message << result.stderr_text;
  EXPECT_LE(result.usage.peak_memory_bytes, (128ull << 20) + (1ull << 20));
}

TEST_F(Hostile, CpuSpinIsStoppedByTheClock) {
  const RunResult result = Python("while True:\n    pass\n", Timeout(std::chrono::seconds(1)));
  EXPECT_EQ(result.status, ExecutionStatus::kTimedOut);
  EXPECT_LE(result.usage.cpu_time_ms, 1500);
}

TEST_F(Hostile, SleepingForeverIsStopped) {
  const RunResult result =
      Python("import time\ntime.sleep(10**6)\n", Timeout(std::chrono::milliseconds(500)));
  EXPECT_EQ(result.status, ExecutionStatus::kTimedOut);
}

TEST_F(Hostile, OutputFloodOnBothStreamsIsCut) {
  const RunResult result = C(R"(
#include <string.h>
#include <unistd.h>
int main(void) { char b[65536]; memset(b, 'x', sizeof b); for (;;) { write(1, b, sizeof b); write(2, b, sizeof b); } })");
  EXPECT_EQ(result.status, ExecutionStatus::kOutputExceeded);
  EXPECT_TRUE(result.stdout_truncated || result.stderr_truncated);
  EXPECT_LE(result.stdout_text.size(), 1u << 20);
  EXPECT_LE(result.stderr_text.size(), 1u << 20);
}

TEST_F(Hostile, DiskFillStopsAtTheTmpfsSize) {
  const RunResult result = Python(R"(
import errno, os
written = 0
try:
    for i in range(10**6):
        with open(f"/tmp/fill{i}", "wb") as f:
            for _ in range(16):
                f.write(b"\0" * (1 << 20))
                written += 1 << 20
except OSError as e:
    print("full after", written >> 20, "MiB:", errno.errorcode[e.errno])
)");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_NE(result.stdout_text.find("ENOSPC"), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("full after 6"), std::string::npos)
      << result.stdout_text;  // ~64 MiB
}

TEST_F(Hostile, OneHugeFileHitsTheFileSizeLimit) {
  // (Python ignores SIGXFSZ and raises EFBIG instead; C takes the default action.)
  const RunResult result = C(R"(
#include <stdio.h>
#include <string.h>
int main(void) {
  static char block[1 << 20];
  memset(block, 'x', sizeof block);
  FILE* f = fopen("/tmp/big", "wb");
  for (;;) fwrite(block, 1, sizeof block, f);
})");
  EXPECT_EQ(result.status, ExecutionStatus::kFailed);
  EXPECT_EQ(result.signal, SIGXFSZ);
  EXPECT_NE(result.message.find("file size limit"), std::string::npos);
}

TEST_F(Hostile, ADaemonDoesNotOutliveTheRun) {
  const RunResult result = Python(R"(
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.close(1); os.close(2)
        time.sleep(120)
    os._exit(0)
print("parent leaves")
)");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(result.stdout_text, "parent leaves\n");
  // TearDown's snapshot proves the grandchild is gone.
}

TEST_F(Hostile, KillMinusOneReachesOnlyTheSandbox) {
  // Canaries on the host running as every sandbox uid a slot could use.
  std::vector<pid_t> canaries;
  for (uid_t uid = testing::kFirstSandboxUid; uid < testing::kFirstSandboxUid + 8; ++uid) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::setresgid(uid, uid, uid) == 0 && ::setresuid(uid, uid, uid) == 0) {
        ::execl("/usr/bin/sleep", "sleep", "60", nullptr);
      }
      ::_exit(127);
    }
    canaries.push_back(pid);
  }
  // A child of its own gives kill(-1) something to reach inside the sandbox.
  const RunResult result = Python(R"(
import os, signal, time
child = os.fork()
if child == 0:
    time.sleep(30)
    os._exit(0)
os.kill(-1, signal.SIGKILL)
_, status = os.waitpid(child, 0)
print("child killed:", os.WIFSIGNALED(status), "- still here")
)");
  for (const pid_t pid : canaries) {
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, WNOHANG), 0)
        << "canary " << pid << " was killed from the sandbox";
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(result.stdout_text, "child killed: True - still here\n") << result.stderr_text;
}

TEST_F(Hostile, NoNetworkAtAll) {
  // A listener on the host's loopback that the sandbox must not reach.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  socklen_t length = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);

  const RunResult result = Python(fmt::format(R"(
import socket
def attempt(name, action):
    try:
        action()
        print(name, "REACHED")
    except OSError as e:
        print(name, "blocked")
def tcp(host, port):
    s = socket.socket(); s.settimeout(2); s.connect((host, port))
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"x", ("8.8.8.8", 53))
attempt("tcp-external", lambda: tcp("1.1.1.1", 443))
attempt("tcp-host-loopback", lambda: tcp("127.0.0.1", {}))
attempt("tcp6-loopback", lambda: socket.create_connection(("::1", {}), timeout=2))
attempt("udp-external", udp)
attempt("dns", lambda: socket.getaddrinfo("example.com", 80))
def own_loopback():
    server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen()
    tcp("127.0.0.1", server.getsockname()[1])
attempt("own-loopback", own_loopback)
)",
                                              port, port));
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.stderr_text;
  EXPECT_EQ(result.stdout_text.find("REACHED"), std::string::npos) << result.stdout_text;
  for (const char* name : {"tcp-external", "tcp-host-loopback", "tcp6-loopback", "udp-external",
                           "dns", "own-loopback"}) {
    EXPECT_NE(result.stdout_text.find(std::string(name) + " blocked"), std::string::npos) << name;
  }
  EXPECT_LT(::accept(listener, nullptr, nullptr), 0) << "a connection reached the host";
  EXPECT_EQ(errno, EAGAIN);
  ::close(listener);
}

TEST_F(Hostile, HostAbstractUnixSocketsAreUnreachable) {
  // Abstract unix sockets belong to the network namespace: a service listening on one on
  // the host (as X11 or a debugger may) must be out of reach.
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string name = "integr8scode-hostile-" + std::to_string(::getpid());
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  const RunResult result = Python(fmt::format(R"(
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect("\0{}")
    print("REACHED")
except OSError as e:
    print("blocked", e.errno)
)",
                                              name));
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.stderr_text;
  EXPECT_NE(result.stdout_text.find("blocked"), std::string::npos) << result.stdout_text;
  EXPECT_LT(::accept(listener, nullptr, nullptr), 0) << "a connection reached the host";
  ::close(listener);
}

TEST_F(Hostile, ForeignSystemCallAbisAreKilled) {
  // The x32 ABI (syscall number | 0x40000000) and int 0x80 (i386) would reach the kernel
  // with other numbers than the filter checks: both end the process.
  const RunResult x32 = C(R"(
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) { puts("before"); fflush(stdout); syscall(0x40000000 | SYS_getpid); puts("ALIVE"); return 0; })");
  EXPECT_EQ(x32.status, ExecutionStatus::kFailed);
  EXPECT_EQ(x32.signal, SIGSYS) << x32.message;
  EXPECT_EQ(x32.stdout_text, "before\n");
  const RunResult i386 = C(R"(
#include <stdio.h>
int main(void) {
  puts("before"); fflush(stdout);
  long result;
  __asm__ volatile("int $0x80" : "=a"(result) : "a"(20L) : "memory");  /* i386 getpid */
  puts("ALIVE");
  return 0;
})");
  EXPECT_EQ(i386.status, ExecutionStatus::kFailed);
  // SIGSYS from the filter; a kernel built without IA-32 emulation refuses the
  // instruction itself (SIGSEGV). Either way the call never ran.
  ASSERT_TRUE(i386.signal.has_value());
  EXPECT_TRUE(*i386.signal == SIGSYS || *i386.signal == SIGSEGV) << i386.message;
  EXPECT_EQ(i386.stdout_text, "before\n");
}

TEST_F(Hostile, HostFilesAndProcessesAreInvisible) {
  const std::string secret = "/tmp/integr8scode-hostile-secret";
  std::ofstream(secret) << "top secret";
  const RunResult result = Python(fmt::format(R"(
import os
for path in ["/etc/shadow", "/root", "/sys", "/run", "/var", "/boot", "/home/runner", "{}", "/proc/{}/environ"]:
    print(path, "exists" if os.path.exists(path) else "absent")
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print("pids", pids == [os.getpid()], pids)
print("uid", os.getuid(), os.geteuid(), os.getgid())
)",
                                              secret, ::getpid()));
  std::filesystem::remove(secret);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.stderr_text;
  EXPECT_EQ(result.stdout_text.find("exists"), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("pids True"), std::string::npos) << result.stdout_text;
  EXPECT_EQ(result.stdout_text.find("uid 0"), std::string::npos);
}

TEST_F(Hostile, NothingOutsideTheScratchAreaIsWritable) {
  const RunResult result = Python(R"(
import os
for path in ["/usr/bin/evil", "/etc/passwd", "/scripts/script.py", "/scripts/new", "/evil", "/dev/evil",
             "/proc/sys/kernel/hostname", "/etc/hosts"]:
    try:
        with open(path, "a") as f:
            f.write("x")
        print(path, "WRITABLE")
    except OSError as e:
        print(path, "refused", e.errno)
with open("/tmp/ok", "w") as f: f.write("fine")
with open("/home/sandbox/ok", "w") as f: f.write("fine")
mounts = open("/proc/self/mountinfo").read().splitlines()
usr = [m for m in mounts if " /usr " in m][0]
print("usr", "ro" in usr.split()[5].split(","), "nosuid" in usr.split()[5].split(","), "nodev" in usr.split()[5].split(","))
)");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.stderr_text;
  EXPECT_EQ(result.stdout_text.find("WRITABLE"), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("usr True True True"), std::string::npos) << result.stdout_text;
  EXPECT_FALSE(std::filesystem::exists("/usr/bin/evil"));
  EXPECT_FALSE(std::filesystem::exists("/evil"));
}

TEST_F(Hostile, PrivilegedCallsAreRefused) {
  const RunResult result = C(R"(
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/if_ether.h>

static char stack[65536];
static int child(void* arg) { (void)arg; return 0; }
#define TRY(name, call) do { errno = 0; long rc = (long)(call); printf("%s %s\n", name, rc < 0 ? strerrorname_np(errno) : "ALLOWED"); } while (0)

int main(void) {
  TRY("ptrace_attach", ptrace(PTRACE_ATTACH, 1, 0, 0));
  TRY("ptrace_traceme", ptrace(PTRACE_TRACEME, 0, 0, 0));
  TRY("mount", mount("none", "/tmp", "tmpfs", 0, 0));
  TRY("umount", umount2("/proc", MNT_DETACH));
  TRY("unshare_user", unshare(CLONE_NEWUSER));
  TRY("unshare_net", unshare(CLONE_NEWNET));
  TRY("clone_newns", clone(child, stack + sizeof stack, CLONE_NEWNS | SIGCHLD, 0));
  TRY("setns", setns(0, 0));
  TRY("setuid0", setuid(0));
  TRY("chroot", chroot("/tmp"));
  TRY("mknod", mknod("/tmp/null", S_IFCHR | 0666, makedev(1, 3)));
  TRY("sethostname", sethostname("evil", 4));
  TRY("bpf", syscall(SYS_bpf, BPF_PROG_LOAD, 0, 0));
  TRY("perf_event_open", syscall(SYS_perf_event_open, 0, 0, -1, -1, 0));
  TRY("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
  TRY("io_uring_setup", syscall(SYS_io_uring_setup, 1, 0));
  TRY("userfaultfd", syscall(SYS_userfaultfd, 0));
  TRY("kexec_load", syscall(SYS_kexec_load, 0, 0, 0, 0));
  TRY("reboot", syscall(SYS_reboot, 0, 0, 0, 0));
  TRY("open_by_handle_at", syscall(SYS_open_by_handle_at, 0, 0, 0));
  TRY("netlink_socket", socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
  TRY("packet_socket", socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
  TRY("raw_socket", socket(AF_INET, SOCK_RAW, 1));
  TRY("personality_no_aslr", personality(ADDR_NO_RANDOMIZE));
  char c = 'x';
  TRY("tiocsti", ioctl(0, TIOCSTI, &c));
  struct rlimit limit;
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_max += 1;
  TRY("raise_nofile", setrlimit(RLIMIT_NOFILE, &limit));
  TRY("clone3", syscall(SYS_clone3, 0, 0));
  return 0;
})");
  ASSERT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  const std::string& out = result.stdout_text;
  EXPECT_EQ(out.find("ALLOWED"), std::string::npos) << out;
  for (const char* expected : {"ptrace_attach EPERM",
                               "ptrace_traceme EPERM",
                               "mount EPERM",
                               "umount EPERM",
                               "unshare_user EPERM",
                               "unshare_net EPERM",
                               "clone_newns EPERM",
                               "setns EPERM",
                               "setuid0 EPERM",
                               "chroot EPERM",
                               "mknod EPERM",
                               "sethostname EPERM",
                               "bpf EPERM",
                               "perf_event_open EPERM",
                               "keyctl EPERM",
                               "io_uring_setup EPERM",
                               "userfaultfd EPERM",
                               "kexec_load EPERM",
                               "reboot EPERM",
                               "open_by_handle_at EPERM",
                               "netlink_socket EAFNOSUPPORT",
                               "packet_socket EAFNOSUPPORT",
                               "raw_socket EPERM",
                               "personality_no_aslr EPERM",
                               "tiocsti EPERM",
                               "raise_nofile EPERM",
                               "clone3 ENOSYS"}) {
    EXPECT_NE(out.find(std::string(expected) + "\n"), std::string::npos) << expected << "\n" << out;
  }
}

TEST_F(Hostile, NoCapabilitiesAndNoNewPrivileges) {
  const RunResult result = Python(R"(
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
for key in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"]:
    print(key, status[key].strip())
)");
  EXPECT_EQ(result.stdout_text,
            "CapInh 0000000000000000\nCapPrm 0000000000000000\nCapEff 0000000000000000\n"
            "CapBnd 0000000000000000\nCapAmb 0000000000000000\nNoNewPrivs 1\nSeccomp 2\n");
}

TEST_F(Hostile, NoDescriptorOfThePlatformReachesTheProgram) {
  // Only stdin, stdout and stderr: no control socket, no cgroup or store descriptor, no
  // other run's pipe.
  RunOptions options;
  options.stdin_data = "data";
  const RunResult result = Python(R"(
import os
open_fds = []
for fd in range(1024):
    try:
        os.fstat(fd)
        open_fds.append(fd)
    except OSError:
        pass
print(open_fds)
)",
                                  options);
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "[0, 1, 2]\n") << result.stdout_text;
}

TEST_F(Hostile, PlantedSymlinksLeadNowhere) {
  const RunResult first = Python(R"(
import os
os.symlink("/etc/shadow", "/home/sandbox/shadow")
os.symlink("/", "/tmp/root")
os.symlink("/proc/1/root", "/home/sandbox/init-root")
for link in ["/home/sandbox/shadow", "/tmp/root/etc/shadow", "/home/sandbox/init-root/etc"]:
    try:
        print(link, os.listdir(link) if os.path.isdir(link) else open(link).read()[:20])
    except OSError as e:
        print(link, "refused", e.errno)
)");
  EXPECT_EQ(first.status, ExecutionStatus::kCompleted) << first.stderr_text;
  EXPECT_EQ(first.stdout_text.find("root:"), std::string::npos) << first.stdout_text;
  // The next sandbox is built from scratch: none of the links is there.
  const RunResult second =
      Python("import os\nprint(os.listdir('/home/sandbox'), os.listdir('/tmp'))\n");
  EXPECT_EQ(second.stdout_text, "[] []\n");
}

TEST_F(Hostile, HugeArgvAndEnvironmentAreRefusedByTheKernel) {
  const RunResult result = Python(R"(
import os
for what, call in [("argv", lambda: os.execv("/usr/bin/true", ["true"] + ["A" * 100000] * 100)),
                   ("env", lambda: os.execve("/usr/bin/true", ["true"], {"X" + str(i): "B" * 100000 for i in range(100)}))]:
    try:
        call()
    except OSError as e:
        print(what, os.strerror(e.errno))
)");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "argv Argument list too long\nenv Argument list too long\n");
}

TEST_F(Hostile, ClosingStdoutDoesNotConfuseTheSupervisor) {
  const RunResult result = Python(
      "import os, time\nprint('bye', flush=True)\nos.close(1)\nos.close(2)\ntime.sleep(0.3)\n");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(result.stdout_text, "bye\n");
}

TEST_F(Hostile, CgroupAndHostnameAreVirtualised) {
  const RunResult result = Python(R"(
import os, socket
print(open("/proc/self/cgroup").read().count(":/\n") >= 1, socket.gethostname(), os.path.exists("/sys/fs/cgroup"))
)");
  EXPECT_EQ(result.stdout_text, "True sandbox False\n") << result.stderr_text;
}

TEST_F(Hostile, ANormalRunStillWorksAfterAllOfIt) {
  const RunResult result = Python("print(sum(range(10)))\n");
  EXPECT_EQ(result.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(result.stdout_text, "45\n");
  ASSERT_NE(suite_before_, nullptr);
  EXPECT_EQ(testing::DescribeLeaks(*suite_before_, testing::TakeHostSnapshot(), kSlack), "");
}

}  // namespace
}  // namespace integr8scode
