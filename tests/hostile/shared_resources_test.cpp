// What a run shares with the host and with other runs: the host's /usr (its inodes, its
// locks, its page cache), host-wide quotas, and what /proc and the clocks tell about
// the host. Each test is an attack that used to get through.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "hostile/hostile_fixture.hpp"

namespace integr8scode {
namespace {

std::string ReadHostFile(const char* path) {
  std::ifstream file(path);
  std::string text;
  std::getline(file, text);
  return text;
}

TEST_F(Hostile, NoWatchOnTheHostsFiles) {
  // inotify on /usr (the host's) showed the host's commands and other runs' imports.
  const RunResult result = C(R"(
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>
#define TRY(name, call) do { errno = 0; long rc = (long)(call); printf("%s %s\n", name, rc < 0 ? strerrorname_np(errno) : "ALLOWED"); } while (0)
int main(void) {
  TRY("inotify_init", syscall(SYS_inotify_init));
  TRY("inotify_init1", inotify_init1(IN_CLOEXEC));
  TRY("inotify_add_watch", inotify_add_watch(0, "/usr/bin", IN_OPEN));
  TRY("fanotify_init", fanotify_init(FAN_CLASS_NOTIF, 0));
  int usr_bin = open("/usr/bin", O_RDONLY | O_DIRECTORY);
  TRY("dnotify", fcntl(usr_bin, F_NOTIFY, DN_ACCESS | DN_MULTISHOT));
  TRY("dnotify_high_bits", syscall(SYS_fcntl, usr_bin, 0x100000000L | F_NOTIFY, DN_ACCESS));
  return 0;
})");
  ASSERT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text,
            "inotify_init ENOSYS\ninotify_init1 ENOSYS\ninotify_add_watch ENOSYS\n"
            "fanotify_init EPERM\ndnotify EINVAL\ndnotify_high_bits EINVAL\n");
}

TEST_F(Hostile, LocksOnTheRunsOwnFilesWork) {
  // Go's build cache and the JVM take flock on their own files, SQLite record locks.
  // (Locks on /usr and runtime trees stay in the run: shared_inodes_test.cpp.)
  const RunResult result = Python(R"py(
import fcntl, sqlite3
with open("/tmp/own", "a") as f:
    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("/tmp/own LOCKED")
db = sqlite3.connect("/tmp/db.sqlite")
db.execute("create table t (x)")
db.execute("insert into t values (42)")
db.commit()
print("sqlite", db.execute("select x from t").fetchone()[0])
)py");
  ASSERT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "/tmp/own LOCKED\nsqlite 42\n");
}

TEST_F(Hostile, HostWideQuotasAndWeakPersonasAreOutOfReach) {
  const std::string aio_before = ReadHostFile("/proc/sys/fs/aio-nr");
  const RunResult result = C(R"(
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#define TRY(name, call) do { errno = 0; long rc = (long)(call); printf("%s %s\n", name, rc < 0 ? strerrorname_np(errno) : "ALLOWED"); } while (0)
int main(void) {
  aio_context_t context = 0;
  TRY("io_setup", syscall(SYS_io_setup, 65536, &context));
  char ldt[16] = {0};
  TRY("modify_ldt", syscall(SYS_modify_ldt, 0, ldt, sizeof ldt));
  TRY("read_implies_exec", personality(READ_IMPLIES_EXEC));
  TRY("mmap_page_zero", personality(MMAP_PAGE_ZERO));
  TRY("compat_layout", personality(ADDR_COMPAT_LAYOUT));
  TRY("query", personality(0xffffffff));
  TRY("linux", personality(PER_LINUX));
  int fd = open("/usr/bin/gcc-12", O_RDONLY);
  struct { unsigned long long off, len; } range = {0, 0};
  struct { unsigned long long counts[5]; } stat;
  TRY("cachestat", syscall(451, fd, &range, &stat, 0));
  char buffer[64];
  struct iovec iov = {buffer, sizeof buffer};
  TRY("preadv2_nowait", preadv2(fd, &iov, 1, 0, RWF_NOWAIT));
  TRY("preadv2", preadv2(fd, &iov, 1, 0, 0));
  return 0;
})");
  ASSERT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text,
            "io_setup ENOSYS\nmodify_ldt EPERM\nread_implies_exec EPERM\nmmap_page_zero EPERM\n"
            "compat_layout EPERM\nquery ALLOWED\nlinux ALLOWED\ncachestat ENOSYS\n"
            "preadv2_nowait EOPNOTSUPP\npreadv2 ALLOWED\n");
  EXPECT_EQ(ReadHostFile("/proc/sys/fs/aio-nr"), aio_before);
}

// Dirty page-cache pages of a host file (cachestat(2), Linux 6.5), or -1.
long long DirtyPages(int fd) {
  struct {
    std::uint64_t offset, length;
  } range{0, 0};
  struct {
    std::uint64_t cache, dirty, writeback, evicted, recently_evicted;
  } stat{};
  constexpr long kCachestat = 451;  // x86_64; glibc has no wrapper yet
  if (::syscall(kCachestat, fd, &range, &stat, 0) != 0) return -1;
  return static_cast<long long>(stat.dirty);
}

TEST_F(Hostile, SyncDoesNotWriteBackTheHostsFilesystems) {
  // A host file with dirty pages: sync() or syncfs() on /usr from a run would write
  // them back (host-wide I/O, in a loop if the program likes). The kernel's own
  // write-back waits 30 s (vm.dirty_expire_centisecs) before it touches them.
  // Beside the test binary: a disk-backed build directory (tmpfs pages are never
  // written back, so a file there could not tell).
  const std::string path = std::filesystem::read_symlink("/proc/self/exe").parent_path() /
                           ("integr8scode-dirty-" + std::to_string(::getpid()));
  struct statfs fs {};
  if (::statfs(std::filesystem::path(path).parent_path().c_str(), &fs) == 0 &&
      fs.f_type == TMPFS_MAGIC) {
    GTEST_SKIP() << "the build directory is on tmpfs";
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  const std::string block(256 * 1024, 'x');
  ASSERT_EQ(::write(fd, block.data(), block.size()), static_cast<ssize_t>(block.size()));
  const long long dirty_before = DirtyPages(fd);
  if (dirty_before < 0) {
    ::close(fd);
    ::unlink(path.c_str());
    GTEST_SKIP() << "no cachestat(2) on this kernel";
  }
  const RunResult result = C(R"(
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
  sync();
  int usr = open("/usr", O_RDONLY | O_DIRECTORY);
  printf("%d %d\n", syncfs(usr), syncfs(1) == 0);
  return 0;
})");
  const long long dirty_after = DirtyPages(fd);
  ::close(fd);
  ::unlink(path.c_str());
  ASSERT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "0 1\n");
  EXPECT_EQ(dirty_before, 64);
  EXPECT_EQ(dirty_after, dirty_before) << "the run wrote back the host's dirty pages";
}

TEST_F(Hostile, ProcTellsNothingAboutTheHost) {
  const RunResult result = Python(R"(
import os
files = ["cmdline", "sys/kernel/random/boot_id", "meminfo", "loadavg", "uptime", "interrupts",
         "softirqs", "diskstats", "partitions", "key-users", "keys", "kallsyms", "timer_list",
         "vmstat", "zoneinfo", "buddyinfo", "pagetypeinfo", "swaps", "locks", "iomem",
         "sys/fs/file-nr", "sys/fs/inode-nr", "sys/fs/dentry-state", "sys/fs/aio-nr"]
for name in files:
    path = "/proc/" + name
    if not os.path.exists(path):
        continue
    try:
        with open(path, "rb") as f:
            data = f.read()
        print(name, "empty" if not data else "SHOWS %d bytes" % len(data))
    except OSError as e:
        print(name, "refused", e.errno)
for name in ["acpi", "bus", "driver", "fs", "irq", "pressure"]:
    path = "/proc/" + name
    if os.path.isdir(path):
        print(name, "empty" if not os.listdir(path) else "LISTS", os.listdir(path)[:3])
print("cpuinfo", "processor" in open("/proc/cpuinfo").read())
print("cpus", os.cpu_count() >= 1)
)");
  ASSERT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  EXPECT_EQ(result.stdout_text.find("SHOWS"), std::string::npos) << result.stdout_text;
  EXPECT_EQ(result.stdout_text.find("LISTS"), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("cmdline empty\n"), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("boot_id empty\n"), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("meminfo empty\n"), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("sys/fs/file-nr empty\n"), std::string::npos)
      << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("cpuinfo True\ncpus True\n"), std::string::npos)
      << result.stdout_text;
}

// Seconds since this process started, on the host's boot clock.
double SecondsSinceThisProcessStarted() {
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 22; ++i) fields >> field;  // field 22: start time in clock ticks
  const double started = std::stod(field) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  timespec now{};
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  return static_cast<double>(now.tv_sec) + now.tv_nsec / 1e9 - started;
}

TEST_F(Hostile, TheClocksDoNotTellTheHostsUptime) {
  // A time namespace: the sandbox's monotonic and boot clocks start when it is built
  // (within the second: the offsets are whole seconds), which is after this test binary
  // started; the host's count from its boot.
  const RunResult result = Python(R"(
import time
print(time.clock_gettime(time.CLOCK_BOOTTIME), time.clock_gettime(time.CLOCK_MONOTONIC))
)");
  const double bound = SecondsSinceThisProcessStarted() + 1;
  ASSERT_EQ(result.status, ExecutionStatus::kCompleted) << result.message << result.stderr_text;
  std::istringstream clocks(result.stdout_text);
  double boottime = -1;
  double monotonic = -1;
  clocks >> boottime >> monotonic;
  EXPECT_GE(boottime, 0);
  EXPECT_GE(monotonic, 0);
  EXPECT_LE(boottime, bound) << result.stdout_text;
  EXPECT_LE(monotonic, bound) << result.stdout_text;
  timespec host{};
  ::clock_gettime(CLOCK_BOOTTIME, &host);
  EXPECT_LT(bound, static_cast<double>(host.tv_sec)) << "the host booted with this test";
}

}  // namespace
}  // namespace integr8scode
