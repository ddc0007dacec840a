// cgroup v2: one directory per slot in the unified hierarchy, with the memory, cpu and
// pids controllers enabled by the parent. Docs: Documentation/admin-guide/cgroup-v2.rst.
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mutex>

#include "common/try.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/cgroup_files.hpp"

namespace integr8scode {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRequired[] = {"memory", "cpu", "pids"};

bool HasController(std::string_view list, std::string_view controller) {
  std::size_t pos = 0;
  while (pos < list.size()) {
    std::size_t end = list.find_first_of(" \n", pos);
    if (end == std::string_view::npos) end = list.size();
    if (list.substr(pos, end - pos) == controller) return true;
    pos = end + 1;
  }
  return false;
}

// Files of the memory controller the slot can do without: older test trees lack them.
bool IsOptionalMemoryFile(std::string_view file) {
  return file == "memory.high" || file == "memory.current";
}

// cpu.weight exists only where the parent enables the cpu controller: a missing file is
// an error unless missing controllers are allowed (tests on hybrid hosts).
Status WriteCpuWeight(const std::string& dir, std::uint32_t weight, bool allow_missing) {
  auto s = WriteControlFile(dir + "/cpu.weight", std::to_string(weight));
  if (!s && allow_missing && s.error().sys_errno == ENOENT) return {};
  if (!s) return Fail(std::move(s.error()).WithContext("cpu.weight"));
  return {};
}

class CgroupV2Slot final : public CgroupSlot {
 public:
  CgroupV2Slot(std::string dir, std::uint32_t cpu_period_us, std::uint32_t cpu_weight,
               bool allow_missing)
      : dir_(std::move(dir)),
        cpu_period_us_(cpu_period_us),
        cpu_weight_(cpu_weight),
        allow_missing_(allow_missing) {}

  ~CgroupV2Slot() override {
    IgnoreResult(KillAll(), "a destructor has no one to tell; the rmdir below then fails");
    ::rmdir(dir_.c_str());
  }

  Status Open() {
    dir_fd_ = I8C_TRY_VALUE(OpenControlFile(dir_, O_RDONLY | O_DIRECTORY));
    struct Spec {
      UniqueFd* fd;
      const char* file;
      int flags;
    };
    const Spec specs[] = {
        {&memory_max_, "memory.max", O_RDWR},
        {&swap_max_, "memory.swap.max", O_RDWR},
        {&cpu_max_, "cpu.max", O_RDWR},
        {&cpu_stat_, "cpu.stat", O_RDONLY},
        {&pids_max_, "pids.max", O_RDWR},
        {&pids_events_, "pids.events", O_RDONLY},
        {&memory_events_, "memory.events", O_RDONLY},
        {&memory_high_, "memory.high", O_RDWR},
        {&memory_current_, "memory.current", O_RDONLY},
    };
    for (const Spec& spec : specs) {
      auto fd = OpenControlFile(dir_ + "/" + spec.file, spec.flags);
      if (!fd && IsOptionalMemoryFile(spec.file) && fd.error().sys_errno == ENOENT) continue;
      // memory.swap.max is absent when the kernel has no swap support; the others
      // only when their controller is missing (allowed in tests only).
      const bool optional = std::string_view(spec.file) == "memory.swap.max" ||
                            (allow_missing_ && std::string_view(spec.file) != "cpu.stat");
      if (!fd && optional && fd.error().sys_errno == ENOENT) continue;
      if (!fd) return Fail(fd.error());
      *spec.fd = std::move(*fd);
    }
    return WriteCpuWeight(dir_, cpu_weight_, allow_missing_);
  }

  Status Apply(const Limits& limits) override {
    if (memory_max_) {
      I8C_TRY(CheckMemoryFits(limits.memory_bytes));
      if (auto s = WriteControlFd(memory_max_.Get(), std::to_string(limits.memory_bytes)); !s) {
        return Fail(std::move(s.error()).WithContext("memory.max"));
      }
    }
    if (swap_max_) {
      IgnoreResult(WriteControlFd(swap_max_.Get(), "0"),
                   "no swap is a preference: a host without swap has nothing to limit");
    }
    const auto quota = CpuQuotaMicros(limits.cpu_millicores, cpu_period_us_);
    if (cpu_max_) {
      if (auto s = WriteControlFd(cpu_max_.Get(), fmt::format("{} {}", quota, cpu_period_us_));
          !s) {
        return Fail(std::move(s.error()).WithContext("cpu.max"));
      }
    }
    if (pids_max_) {
      if (auto s = WriteControlFd(pids_max_.Get(), std::to_string(SlotPidsMax(limits.pids))); !s) {
        return Fail(std::move(s.error()).WithContext("pids.max"));
      }
    }
    return {};
  }

  // memory.max below what the slot holds (files an earlier step left on the tmpfs) runs
  // the OOM killer inside the write, with nothing of the program's to kill yet.
  // memory.high reclaims as far as it can and never kills: what is left above the
  // limit afterwards cannot be reclaimed (tmpfs without swap), and the step cannot run.
  Status CheckMemoryFits(std::uint64_t bytes) {
    if (!memory_high_ || !memory_current_) return {};
    if (auto s = WriteControlFd(memory_high_.Get(), std::to_string(bytes)); !s)
      return Fail(std::move(s.error()).WithContext("memory.high"));
    auto current = ReadControlFd(memory_current_.Get());
    if (auto s = WriteControlFd(memory_high_.Get(), "max"); !s)
      return Fail(std::move(s.error()).WithContext("memory.high"));
    if (!current) return Fail(std::move(current.error()).WithContext("memory.current"));
    if (ParseSingleValue(*current).value_or(0) <= bytes) return {};
    return Fail(MakeError(ErrorCode::kInternal, std::string(kMemoryLimitBelowUsage),
                          "memory.current stays above the new memory.max"));
  }

  Status BeginAccounting() override {
    // memory.peak is reset per open file by writing to it (Linux 6.12+); on older
    // kernels the write fails and the peak covers the slot's whole life.
    auto peak = OpenControlFile(dir_ + "/memory.peak", O_RDWR);
    if (peak) {
      peak_ = std::move(*peak);
      peak_resettable_ = static_cast<bool>(WriteControlFd(peak_.Get(), "reset"));
    } else if (!allow_missing_) {
      return Fail(peak.error());
    }
    auto cpu = I8C_TRY_VALUE(ReadControlFd(cpu_stat_.Get()));
    cpu_before_us_ = ParseKeyedValue(cpu, "usage_usec").value_or(0);
    auto events = ReadControlFd(memory_events_.Get());
    if (!events && memory_events_) return Fail(events.error());
    oom_before_ = events ? ParseKeyedValue(*events, "oom_kill").value_or(0) : 0;
    auto pids = ReadControlFd(pids_events_.Get());
    pids_before_ = pids ? ParseKeyedValue(*pids, "max").value_or(0) : 0;
    return {};
  }

  Result<CgroupUsage> Read() override {
    CgroupUsage usage;
    auto cpu = I8C_TRY_VALUE(ReadControlFd(cpu_stat_.Get()));
    usage.cpu_time_us =
        static_cast<std::int64_t>(ParseKeyedValue(cpu, "usage_usec").value_or(0) - cpu_before_us_);
    if (peak_) {
      auto peak = ReadControlFd(peak_.Get());
      if (peak) usage.peak_memory_bytes = ParseSingleValue(*peak).value_or(0);
    }
    auto events = ReadControlFd(memory_events_.Get());
    if (events) usage.oom_kills = ParseKeyedValue(*events, "oom_kill").value_or(0) - oom_before_;
    auto pids = ReadControlFd(pids_events_.Get());
    if (pids) usage.pids_limit_hits = ParseKeyedValue(*pids, "max").value_or(0) - pids_before_;
    return usage;
  }

  const std::vector<std::string>& JoinFiles() const override { return join_files_; }
  int CloneIntoFd() const override { return dir_fd_.Get(); }

  bool Empty() override {
    auto events = ReadControlFile(dir_ + "/cgroup.events");
    return events && ParseKeyedValue(*events, "populated").value_or(1) == 0;
  }

  bool Intact() override {
    struct stat st {};
    return ::stat((dir_ + "/cgroup.procs").c_str(), &st) == 0;
  }

  Status KillAll() override {
    if (Empty()) return {};
    // cgroup.kill (Linux 5.14+) SIGKILLs every process in the subtree at once; then
    // wait for "populated 0", which cgroup.events signals with POLLPRI.
    I8C_TRY(WriteControlFile(dir_ + "/cgroup.kill", "1"));
    auto events = I8C_TRY_VALUE(OpenControlFile(dir_ + "/cgroup.events", O_RDONLY));
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto text = ReadControlFd(events.Get());
      if (text && ParseKeyedValue(*text, "populated").value_or(1) == 0) return {};
      pollfd pfd{events.Get(), POLLPRI, 0};
      ::poll(&pfd, 1, 100);
    }
    return Fail(ErrorCode::kInternal, "processes survived cgroup.kill in " + dir_);
  }

 private:
  std::string dir_;
  std::uint32_t cpu_period_us_;
  std::uint32_t cpu_weight_;
  bool allow_missing_;
  std::vector<std::string> join_files_;  // none: sandboxes are cloned into the slot
  UniqueFd dir_fd_;
  UniqueFd memory_max_, swap_max_, cpu_max_, cpu_stat_, pids_max_, pids_events_, memory_events_;
  UniqueFd memory_high_, memory_current_;
  UniqueFd peak_;
  bool peak_resettable_ = false;
  std::uint64_t cpu_before_us_ = 0;
  std::uint64_t oom_before_ = 0;
  std::uint64_t pids_before_ = 0;
};

class CgroupV2Manager final : public CgroupManager {
 public:
  CgroupV2Manager(std::string parent, std::uint32_t cpu_period_us, std::uint32_t cpu_weight,
                  bool allow_missing)
      : parent_(std::move(parent)),
        cpu_period_us_(cpu_period_us),
        cpu_weight_(cpu_weight),
        allow_missing_(allow_missing) {}
  ~CgroupV2Manager() override { ::rmdir(parent_.c_str()); }

  CgroupVersion Version() const override { return CgroupVersion::kV2; }
  std::string Describe() const override { return "cgroup v2: " + parent_; }

  Result<std::unique_ptr<CgroupSlot>> CreateSlot(std::string_view name) override {
    std::lock_guard lock(mutex_);
    I8C_TRY(EnsureParent());
    const std::string dir = parent_ + "/" + std::string(name);
    const bool made = ::mkdir(dir.c_str(), 0755) == 0;
    if (!made && errno != EEXIST) {
      const int saved = errno;
      return Fail(SystemError(saved, "mkdir " + dir));
    }
    auto slot = std::make_unique<CgroupV2Slot>(dir, cpu_period_us_, cpu_weight_, allow_missing_);
    if (auto s = slot->Open(); !s) return Fail(std::move(s.error()).WithContext("cgroup v2 slot"));
    // A slot adopted after a crash may still hold processes.
    if (!made) {
      I8C_TRY(slot->KillAll());
    }
    return std::unique_ptr<CgroupSlot>(std::move(slot));
  }

  // Creates the parent and enables the controllers for its children. The "no internal
  // processes" rule means the parent itself must hold no process: it is a directory of
  // our own, never the cgroup we run in.
  Status EnsureParent() {
    if (::mkdir(parent_.c_str(), 0755) != 0 && errno != EEXIST) {
      const int saved = errno;
      return Fail(SystemError(saved, "mkdir " + parent_));
    }
    auto enabled = I8C_TRY_VALUE(ReadControlFile(parent_ + "/cgroup.subtree_control"));
    auto available = ReadControlFile(parent_ + "/cgroup.controllers");
    for (const char* controller : kRequired) {
      if (HasController(enabled, controller)) continue;
      if (allow_missing_ && !(available && HasController(*available, controller))) continue;
      if (auto s =
              WriteControlFile(parent_ + "/cgroup.subtree_control", std::string("+") + controller);
          !s) {
        return Fail(
            std::move(s.error()).WithContext(fmt::format("enable the {} controller", controller)));
      }
    }
    // The parent is what competes with the service's threads for the CPUs (the slots
    // only share its part among themselves); written at every slot because a
    // re-created parent starts at the default.
    return WriteCpuWeight(parent_, cpu_weight_, allow_missing_);
  }

 private:
  std::mutex mutex_;
  std::string parent_;
  std::uint32_t cpu_period_us_;
  std::uint32_t cpu_weight_;
  bool allow_missing_;
};

// Makes `controllers` available in `dir`'s children by enabling them in every ancestor
// from the mount point down (each ancestor must offer them in cgroup.controllers).
Status EnableDownTo(const fs::path& mount_point, const fs::path& dir, bool allow_missing) {
  fs::path current = mount_point;
  for (const fs::path& part : dir.lexically_relative(mount_point)) {
    auto enabled = I8C_TRY_VALUE(ReadControlFile((current / "cgroup.subtree_control").string()));
    auto available = ReadControlFile((current / "cgroup.controllers").string());
    for (const char* controller : kRequired) {
      if (HasController(enabled, controller)) continue;
      if (allow_missing && !(available && HasController(*available, controller))) continue;
      if (auto s = WriteControlFile((current / "cgroup.subtree_control").string(),
                                    std::string("+") + controller);
          !s) {
        return Fail(std::move(s.error()).WithContext(
            fmt::format("enable {} in {} (a cgroup with processes cannot "
                        "delegate controllers; set sandbox.cgroup_parent "
                        "to a delegated, empty cgroup)",
                        controller, current.string())));
      }
    }
    current /= part;
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<CgroupManager>> OpenCgroupV2(const CgroupOptions& options) {
  auto host = I8C_TRY_VALUE(CgroupHostView::Read(options.proc_self));
  return OpenCgroupV2(options, host);
}

Result<std::unique_ptr<CgroupManager>> OpenCgroupV2(const CgroupOptions& options,
                                                    const CgroupHostView& host) {
  I8C_TRY(CheckCpuWeight(options.cpu_weight));
  const CgroupMount* unified = nullptr;
  const auto mounts = ParseCgroupMounts(host.mountinfo);
  for (const CgroupMount& mount : mounts) {
    if (mount.v2) unified = &mount;
  }
  if (unified == nullptr) return Fail(ErrorCode::kUnavailable, "no cgroup v2 hierarchy is mounted");
  auto available = I8C_TRY_VALUE(ReadControlFile(unified->mount_point + "/cgroup.controllers"));
  for (const char* controller : kRequired) {
    if (!HasController(available, controller) && !options.allow_missing_controllers) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("the cgroup v2 hierarchy at {} lacks the {} controller (it is bound "
                              "to cgroup v1 on this host)",
                              unified->mount_point, controller));
    }
  }
  fs::path parent;
  if (!options.parent.empty()) {
    parent = fs::path(unified->mount_point) / options.parent.relative_path();
  } else {
    std::string own_path = "/";
    for (const CgroupMembership& membership : ParseProcCgroup(host.own)) {
      if (membership.hierarchy_id == 0) own_path = membership.path;
    }
    // Our own cgroup holds our process, so it cannot delegate controllers to children
    // unless it is the root: use a sibling directory beside it instead.
    const fs::path own_dir = fs::path(unified->mount_point) / fs::path(own_path).relative_path();
    parent = (own_path == "/" ? own_dir : own_dir.parent_path()) / "integr8scode";
  }
  parent = parent.lexically_normal();
  I8C_TRY(
      EnableDownTo(unified->mount_point, parent.parent_path(), options.allow_missing_controllers));
  return std::unique_ptr<CgroupManager>(
      std::make_unique<CgroupV2Manager>(parent.string(), options.cpu_period_us, options.cpu_weight,
                                        options.allow_missing_controllers));
}

Result<std::unique_ptr<CgroupManager>> OpenCgroups(const CgroupOptions& options) {
  if (options.mode == "v1") return OpenCgroupV1(options);
  if (options.mode == "v2") return OpenCgroupV2(options);
  if (options.mode != "auto") {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("sandbox.cgroup_mode '{}' must be auto, v1 or v2", options.mode));
  }
  auto host = I8C_TRY_VALUE(CgroupHostView::Read(options.proc_self));
  auto v2 = OpenCgroupV2(options, host);
  if (v2) return v2;
  auto v1 = OpenCgroupV1(options, host);
  if (v1) return v1;
  return Fail(ErrorCode::kUnavailable, fmt::format("no usable cgroups: v2: {}; v1: {}",
                                                   v2.error().Describe(), v1.error().Describe()));
}

}  // namespace integr8scode
