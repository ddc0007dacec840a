#include "sandbox/host_information.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/unique_fd.hpp"

namespace integr8scode {
namespace {

// Host-wide state in /proc that no program needs, or that a side channel reads: the
// kernel's command line and boot id, host memory, load and uptime, per-device
// interrupt and disk counters, keys of every host user, kernel symbols and timers,
// the page allocator, the page-cache, pressure and file-table statistics. (Docker masks the
// kernel-facing half of this list; the rest is host activity.) /proc/stat and
// /proc/cpuinfo stay: libc counts CPUs from them.
constexpr const char* kMaskedFiles[] = {
    "cmdline",
    "sys/kernel/random/boot_id",
    "meminfo",
    "loadavg",
    "uptime",
    "interrupts",
    "softirqs",
    "diskstats",
    "partitions",
    "key-users",
    "keys",
    "kallsyms",
    "modules",
    "timer_list",
    "sched_debug",
    "schedstat",
    "vmstat",
    "zoneinfo",
    "buddyinfo",
    "pagetypeinfo",
    "slabinfo",
    "vmallocinfo",
    "swaps",
    "kcore",
    "kmsg",
    "sysrq-trigger",
    "latency_stats",
    "mtrr",
    "iomem",
    "ioports",
    "locks",
    // host-wide counters of open files, inodes, dentries and AIO requests
    "sys/fs/file-nr",
    "sys/fs/inode-nr",
    "sys/fs/inode-state",
    "sys/fs/dentry-state",
    "sys/fs/aio-nr",
};

// Whole directories of host devices, drivers and pressure figures.
constexpr const char* kMaskedDirectories[] = {
    "acpi", "asound", "bus", "driver", "fs", "irq", "pressure", "scsi",
};

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status MountOrFail(const char* source, const std::string& target, const char* type,
                   unsigned long flags, const char* data) {
  if (::mount(source, target.c_str(), type, flags, data) != 0) {
    const int saved = errno;
    return Fail(SystemError(saved, fmt::format("mask {}", target)));
  }
  return {};
}

}  // namespace

Status MaskHostProcPaths(const std::string& proc_path, const std::string& dev_null_path) {
  for (const char* file : kMaskedFiles) {
    const std::string target = proc_path + "/" + file;
    if (!Exists(target)) continue;
    if (auto s = MountOrFail(dev_null_path.c_str(), target, nullptr, MS_BIND, nullptr); !s)
      return s;
  }
  for (const char* directory : kMaskedDirectories) {
    const std::string target = proc_path + "/" + directory;
    if (!Exists(target)) continue;
    if (auto s = MountOrFail("masked", target, "tmpfs",
                             MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,nr_inodes=1");
        !s) {
      return s;
    }
  }
  return {};
}

Status EnterFreshTimeNamespace() {
  if (::unshare(CLONE_NEWTIME) != 0) {
    if (errno == EINVAL) return {};  // CONFIG_TIME_NS off
    return Fail(SystemError("unshare time namespace"));
  }
  // Offsets can be written only until the first process enters the namespace
  // (time_namespaces(7)); whole seconds keep them valid (nanoseconds must be >= 0).
  timespec monotonic{};
  timespec boottime{};
  ::clock_gettime(CLOCK_MONOTONIC, &monotonic);
  ::clock_gettime(CLOCK_BOOTTIME, &boottime);
  const std::string offsets =
      fmt::format("monotonic -{} 0\nboottime -{} 0\n", monotonic.tv_sec, boottime.tv_sec);
  {
    UniqueFd file(::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC));
    if (!file) return Fail(SystemError("open timens_offsets"));
    if (::write(file.Get(), offsets.data(), offsets.size()) !=
        static_cast<ssize_t>(offsets.size())) {
      return Fail(SystemError("write timens_offsets"));
    }
  }
  // unshare() moved only our future children. The steps are vfork-style children,
  // which cannot enter another time namespace than ours (clone(2), EINVAL with
  // CLONE_VM): we enter it ourselves.
  UniqueFd ns(::open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC));
  if (!ns) return Fail(SystemError("open time_for_children"));
  if (::setns(ns.Get(), CLONE_NEWTIME) != 0) return Fail(SystemError("enter the time namespace"));
  return {};
}

}  // namespace integr8scode
