// cgroup v1: one directory per controller hierarchy (memory, cpu, cpuacct, pids). Used on
// hosts whose controllers are still bound to v1 (this project's CI: hybrid layout with an
// empty v2 mount). Docs: Documentation/admin-guide/cgroup-v1/{memory,cpuacct,pids}.rst.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "common/try.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/cgroup_files.hpp"

namespace integr8scode {
namespace {

namespace fs = std::filesystem;

constexpr const char* kControllers[] = {"memory", "cpu", "cpuacct", "pids"};

// Creates `path`; `existed` tells whether it was already there.
Status MakeDirectory(const std::string& path, bool* existed = nullptr) {
  const bool made = ::mkdir(path.c_str(), 0755) == 0;
  if (!made && errno != EEXIST) {
    const int saved = errno;
    return Fail(SystemError(saved, "mkdir " + path));
  }
  if (existed != nullptr) *existed = !made;
  return {};
}

void SleepMicros(long micros) {
  timespec ts{0, micros * 1000};
  ::nanosleep(&ts, nullptr);
}

class CgroupV1Slot final : public CgroupSlot {
 public:
  // dirs: controller → slot directory. One directory may serve several controllers
  // (a "cpu,cpuacct" co-mount).
  CgroupV1Slot(std::map<std::string, std::string> dirs, std::uint32_t cpu_period_us,
               std::uint64_t cpu_shares)
      : dirs_(std::move(dirs)), cpu_period_us_(cpu_period_us), cpu_shares_(cpu_shares) {
    std::vector<std::string> unique;
    for (const auto& [controller, dir] : dirs_) {
      if (std::find(unique.begin(), unique.end(), dir) == unique.end()) unique.push_back(dir);
    }
    for (const std::string& dir : unique) {
      procs_files_.push_back(dir + "/cgroup.procs");
      join_files_.push_back(dir + "/tasks");
    }
  }

  ~CgroupV1Slot() override {
    IgnoreResult(KillAll(), "a destructor has no one to tell; the rmdir below then fails");
    for (const std::string& procs : procs_files_) {
      const std::string dir = fs::path(procs).parent_path();
      // EBUSY right after the last process left is possible while the kernel finishes
      // tearing it down; a few retries cover it.
      for (int attempt = 0; attempt < 50 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY;
           ++attempt) {
        SleepMicros(1000);
      }
    }
  }

  Status Open() {
    const std::string& memory = dirs_.at("memory");
    const std::string& cpu = dirs_.at("cpu");
    const std::string& cpuacct = dirs_.at("cpuacct");
    const std::string& pids = dirs_.at("pids");
    struct Spec {
      UniqueFd* fd;
      std::string path;
      int flags;
      bool optional;
    };
    const Spec specs[] = {
        {&memory_limit_, memory + "/memory.limit_in_bytes", O_RDWR, false},
        {&memsw_limit_, memory + "/memory.memsw.limit_in_bytes", O_RDWR, true},
        {&memory_max_usage_, memory + "/memory.max_usage_in_bytes", O_RDWR, false},
        {&oom_control_, memory + "/memory.oom_control", O_RDONLY, false},
        {&cpu_quota_, cpu + "/cpu.cfs_quota_us", O_RDWR, false},
        {&cpu_period_, cpu + "/cpu.cfs_period_us", O_RDWR, false},
        {&cpuacct_usage_, cpuacct + "/cpuacct.usage", O_RDWR, false},
        {&pids_max_, pids + "/pids.max", O_RDWR, false},
        {&pids_events_, pids + "/pids.events", O_RDONLY, true},
    };
    for (const Spec& spec : specs) {
      auto fd = OpenControlFile(spec.path, spec.flags);
      if (!fd) {
        if (spec.optional && fd.error().sys_errno == ENOENT) continue;
        return Fail(fd.error());
      }
      *spec.fd = std::move(*fd);
    }
    // No swap: swappiness 0 plus memsw = limit where swap accounting exists.
    IgnoreResult(WriteControlFile(memory + "/memory.swappiness", "0"),
                 "best effort: memsw.limit_in_bytes, where swap is accounted, is what caps swap");
    if (auto s = WriteControlFile(cpu + "/cpu.shares", std::to_string(cpu_shares_)); !s)
      return Fail(std::move(s.error()).WithContext("cpu.shares"));
    return WriteControlFd(cpu_period_.Get(), std::to_string(cpu_period_us_));
  }

  Status Apply(const Limits& limits) override {
    if (auto s = ApplyMemory(limits.memory_bytes); !s) {
      // The only values we write are valid: EBUSY is the kernel failing to reclaim down
      // to the new limit, EINVAL the memsw ordering refused after that (the tmpfs cannot
      // be reclaimed without swap). Either way the slot holds more than the limit.
      if (s.error().sys_errno == EBUSY || s.error().sys_errno == EINVAL)
        s.error().reason = std::string(kMemoryLimitBelowUsage);
      return s;
    }
    const auto quota = CpuQuotaMicros(limits.cpu_millicores, cpu_period_us_);
    if (auto s = WriteControlFd(cpu_quota_.Get(), std::to_string(quota)); !s) {
      return Fail(std::move(s.error()).WithContext("cpu.cfs_quota_us"));
    }
    if (auto s = WriteControlFd(pids_max_.Get(), std::to_string(SlotPidsMax(limits.pids))); !s) {
      return Fail(std::move(s.error()).WithContext("pids.max"));
    }
    return {};
  }

  Status BeginAccounting() override {
    // Writing 0 resets the peak to the current usage and the CPU counter to zero.
    I8C_TRY(WriteControlFd(memory_max_usage_.Get(), "0"));
    I8C_TRY(WriteControlFd(cpuacct_usage_.Get(), "0"));
    auto oom = I8C_TRY_VALUE(ReadControlFd(oom_control_.Get()));
    oom_kills_before_ = ParseKeyedValue(oom, "oom_kill").value_or(0);
    pids_events_before_ = ReadPidsEvents();
    return {};
  }

  Result<CgroupUsage> Read() override {
    CgroupUsage usage;
    auto cpu = I8C_TRY_VALUE(ReadControlFd(cpuacct_usage_.Get()));
    usage.cpu_time_us = static_cast<std::int64_t>(ParseSingleValue(cpu).value_or(0) / 1000);
    auto peak = I8C_TRY_VALUE(ReadControlFd(memory_max_usage_.Get()));
    usage.peak_memory_bytes = ParseSingleValue(peak).value_or(0);
    auto oom = I8C_TRY_VALUE(ReadControlFd(oom_control_.Get()));
    usage.oom_kills = ParseKeyedValue(oom, "oom_kill").value_or(0) - oom_kills_before_;
    usage.pids_limit_hits = ReadPidsEvents() - pids_events_before_;
    return usage;
  }

  const std::vector<std::string>& JoinFiles() const override { return join_files_; }
  int CloneIntoFd() const override { return -1; }

  bool Empty() override {
    for (const std::string& procs : procs_files_) {
      auto text = ReadControlFile(procs);
      if (text && !ParsePidList(*text).empty()) return false;
    }
    return true;
  }

  bool Intact() override {
    struct stat st {};
    for (const std::string& procs : procs_files_) {
      if (::stat(procs.c_str(), &st) != 0) return false;
    }
    return true;
  }

  Status KillAll() override {
    // v1 has no cgroup.kill: signal every listed process until none is left. Processes
    // of a sandbox normally die with its PID namespace; this is the backstop.
    for (int attempt = 0; attempt < 1000; ++attempt) {
      bool any = false;
      for (const std::string& procs : procs_files_) {
        auto text = ReadControlFile(procs);
        if (!text) continue;
        for (const int pid : ParsePidList(*text)) {
          any = true;
          ::kill(pid, SIGKILL);
        }
      }
      if (!any) return {};
      SleepMicros(attempt < 10 ? 200 : 2000);
    }
    return Fail(ErrorCode::kInternal, "processes survived SIGKILL in the sandbox cgroup");
  }

 private:
  Status ApplyMemory(std::uint64_t bytes) {
    const std::string memory = std::to_string(bytes);
    // memory.limit_in_bytes may not exceed memsw.limit_in_bytes: order the two writes
    // so that the invariant holds in between.
    if (memsw_limit_) {
      if (!WriteControlFd(memory_limit_.Get(), memory)) {
        if (auto s = WriteControlFd(memsw_limit_.Get(), memory); !s)
          return Fail(std::move(s.error()).WithContext("memory.memsw.limit_in_bytes"));
        if (auto s = WriteControlFd(memory_limit_.Get(), memory); !s)
          return Fail(std::move(s.error()).WithContext("memory.limit_in_bytes"));
      } else if (auto s = WriteControlFd(memsw_limit_.Get(), memory); !s) {
        return Fail(std::move(s.error()).WithContext("memory.memsw.limit_in_bytes"));
      }
    } else if (auto s = WriteControlFd(memory_limit_.Get(), memory); !s) {
      return Fail(std::move(s.error()).WithContext("memory.limit_in_bytes"));
    }
    return {};
  }

  std::uint64_t ReadPidsEvents() {
    if (!pids_events_) return 0;
    auto text = ReadControlFd(pids_events_.Get());
    return text ? ParseKeyedValue(*text, "max").value_or(0) : 0;
  }

  std::map<std::string, std::string> dirs_;
  std::uint32_t cpu_period_us_;
  std::uint64_t cpu_shares_;
  std::vector<std::string> procs_files_;
  std::vector<std::string> join_files_;
  UniqueFd memory_limit_, memsw_limit_, memory_max_usage_, oom_control_;
  UniqueFd cpu_quota_, cpu_period_, cpuacct_usage_, pids_max_, pids_events_;
  std::uint64_t oom_kills_before_ = 0;
  std::uint64_t pids_events_before_ = 0;
};

class CgroupV1Manager final : public CgroupManager {
 public:
  CgroupV1Manager(std::map<std::string, std::string> parents, std::uint32_t cpu_period_us,
                  std::uint64_t cpu_shares)
      : parents_(std::move(parents)), cpu_period_us_(cpu_period_us), cpu_shares_(cpu_shares) {}

  // Removes the shared parent directories when no slot of anyone is left in them
  // (rmdir fails harmlessly while other processes still have slots there).
  ~CgroupV1Manager() override {
    for (const auto& [controller, parent] : parents_) ::rmdir(parent.c_str());
  }

  CgroupVersion Version() const override { return CgroupVersion::kV1; }

  std::string Describe() const override {
    std::string text = "cgroup v1:";
    for (const auto& [controller, dir] : parents_) text += fmt::format(" {}={}", controller, dir);
    return text;
  }

  Result<std::unique_ptr<CgroupSlot>> CreateSlot(std::string_view name) override {
    std::lock_guard lock(mutex_);
    std::map<std::string, std::string> dirs;
    bool adopted = false;
    for (const auto& [controller, parent] : parents_) {
      // The shared parent may have been removed by another process's cleanup between
      // runs: (re)create it before the slot.
      I8C_TRY(MakeDirectory(parent));
      // The parent is what competes with the service's threads for the CPUs (the
      // slots only share its part among themselves); written at every slot because a
      // re-created parent starts at the default.
      if (controller == "cpu") {
        if (auto s = WriteControlFile(parent + "/cpu.shares", std::to_string(cpu_shares_)); !s)
          return Fail(std::move(s.error()).WithContext("cpu.shares of the slots' parent"));
      }
      const std::string dir = parent + "/" + std::string(name);
      bool existed = false;
      I8C_TRY(MakeDirectory(dir, &existed));
      adopted = adopted || existed;
      dirs[controller] = dir;
    }
    auto slot = std::make_unique<CgroupV1Slot>(std::move(dirs), cpu_period_us_, cpu_shares_);
    if (auto s = slot->Open(); !s) return Fail(std::move(s.error()).WithContext("cgroup v1 slot"));
    // A slot adopted after a crash may still hold processes.
    if (adopted) {
      I8C_TRY(slot->KillAll());
    }
    return std::unique_ptr<CgroupSlot>(std::move(slot));
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> parents_;  // controller → parent directory
  std::uint32_t cpu_period_us_;
  std::uint64_t cpu_shares_;
};

}  // namespace

Result<std::unique_ptr<CgroupManager>> OpenCgroupV1(const CgroupOptions& options) {
  auto host = I8C_TRY_VALUE(CgroupHostView::Read(options.proc_self));
  return OpenCgroupV1(options, host);
}

Result<std::unique_ptr<CgroupManager>> OpenCgroupV1(const CgroupOptions& options,
                                                    const CgroupHostView& host) {
  I8C_TRY(CheckCpuWeight(options.cpu_weight));
  const auto mounts = ParseCgroupMounts(host.mountinfo);
  const auto memberships = ParseProcCgroup(host.own);

  std::map<std::string, std::string> parents;
  for (const char* controller : kControllers) {
    const CgroupMount* mount = nullptr;
    for (const CgroupMount& candidate : mounts) {
      if (!candidate.v2 && std::find(candidate.controllers.begin(), candidate.controllers.end(),
                                     controller) != candidate.controllers.end()) {
        mount = &candidate;
        break;
      }
    }
    if (mount == nullptr) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("cgroup v1 controller '{}' is not mounted", controller));
    }
    std::string base;
    if (!options.parent.empty()) {
      base = (fs::path(mount->mount_point) / options.parent.relative_path()).string();
    } else {
      std::string own_path = "/";
      for (const CgroupMembership& membership : memberships) {
        if (std::find(membership.controllers.begin(), membership.controllers.end(), controller) !=
            membership.controllers.end()) {
          own_path = membership.path;
        }
      }
      // The mount may show a sub-tree ("root" field): strip it from our own path.
      if (mount->root != "/" && own_path.starts_with(mount->root)) {
        own_path = own_path.substr(mount->root.size());
      }
      base = (fs::path(mount->mount_point) / fs::path(own_path).relative_path() / "integr8scode")
                 .lexically_normal()
                 .string();
    }
    if (!base.empty() && base.back() == '/') base.pop_back();
    parents[controller] = base;
  }
  return std::unique_ptr<CgroupManager>(std::make_unique<CgroupV1Manager>(
      std::move(parents), options.cpu_period_us, CpuSharesForWeight(options.cpu_weight)));
}

Result<CgroupHostView> CgroupHostView::Read(const std::filesystem::path& proc_self) {
  CgroupHostView view;
  auto mountinfo = I8C_TRY_VALUE(ReadControlFile((proc_self / "mountinfo").string()));
  auto own = I8C_TRY_VALUE(ReadControlFile((proc_self / "cgroup").string()));
  view.mountinfo = std::move(mountinfo);
  view.own = std::move(own);
  return view;
}

Status CheckCpuWeight(std::uint32_t weight) {
  if (weight >= kMinCpuWeight && weight <= kMaxCpuWeight) return {};
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("sandbox.cpu_weight {} must be between {} and {}", weight, kMinCpuWeight,
                          kMaxCpuWeight));
}

std::uint64_t CpuSharesForWeight(std::uint32_t weight) {
  // The inverse of the kernel's v2 conversion (sched_weight_from_cgroup: weight × 1024
  // / 100), so that the same setting means the same on either version.
  const std::uint64_t shares = (static_cast<std::uint64_t>(weight) * 1024 + 50) / 100;
  return std::clamp<std::uint64_t>(shares, 2, 262144);
}

std::uint32_t SlotPidsMax(std::uint32_t program_pids) { return program_pids + 1; }

std::uint64_t CpuQuotaMicros(std::uint32_t millicores, std::uint32_t period_us) {
  const std::uint64_t quota = static_cast<std::uint64_t>(millicores) * period_us / 1000;
  return quota < 1000 ? 1000 : quota;
}

}  // namespace integr8scode
