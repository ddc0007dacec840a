#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "domain/limits.hpp"

namespace integr8scode {

// What a slot's cgroup counted during one run.
struct CgroupUsage {
  std::int64_t cpu_time_us = 0;
  std::uint64_t peak_memory_bytes = 0;
  std::uint64_t oom_kills = 0;        // OOM kills inside the slot during the run
  std::uint64_t pids_limit_hits = 0;  // forks refused by the pids limit during the run
};

// The cgroup(s) of one sandbox slot: one directory per hierarchy under cgroup v1, one
// directory under v2. Owned by one run at a time (not thread-safe). Destruction kills
// whatever is left inside and removes the directories.
class CgroupSlot {
 public:
  virtual ~CgroupSlot() = default;
  // Writes memory (no swap), CPU quota and pids limits for the next step.
  virtual Status Apply(const Limits& limits) = 0;
  // Resets or snapshots the counters so that Read() covers only what follows.
  virtual Status BeginAccounting() = 0;
  virtual Result<CgroupUsage> Read() = 0;
  // cgroup v1: the files the sandbox init writes "0" into to join this slot, one per
  // hierarchy. They are the per-thread `tasks` files, not cgroup.procs: moving a whole
  // thread group takes a global lock whose first use after a quiet spell waits for an
  // RCU grace period (6–19 ms measured here); moving the (single-threaded) caller
  // alone skips that lock. Empty under v2.
  virtual const std::vector<std::string>& JoinFiles() const = 0;
  // cgroup v2: a descriptor of the slot's directory for clone3(CLONE_INTO_CGROUP), so
  // the sandbox is born in its slot and never migrates. -1 under v1.
  virtual int CloneIntoFd() const = 0;
  virtual bool Empty() = 0;
  // False when a directory of the slot has disappeared (removed by an operator or a
  // cleanup script): the slot must then be created again.
  virtual bool Intact() = 0;
  // Kills every process left in the slot and waits until it is empty.
  virtual Status KillAll() = 0;
};

enum class CgroupVersion { kV1, kV2 };

// Creates slots under a parent directory ("<own cgroup>/integr8scode" by default).
// Thread-safe.
class CgroupManager {
 public:
  virtual ~CgroupManager() = default;
  virtual CgroupVersion Version() const = 0;
  // Creates (or adopts, after a crash) the slot directory `name` and returns it.
  virtual Result<std::unique_ptr<CgroupSlot>> CreateSlot(std::string_view name) = 0;
  virtual std::string Describe() const = 0;  // for logs: version and directories
};

// Equal to a nice-0 process: measured under the stress profile (docs/load.md, "CPU
// weight"), a lower weight let every other process of a shared host starve the runs
// without shortening the reads' tail; a dedicated host may lower it.
inline constexpr std::uint32_t kDefaultCpuWeight = 100;
inline constexpr std::uint32_t kMinCpuWeight = 1;
inline constexpr std::uint32_t kMaxCpuWeight = 10000;

struct CgroupOptions {
  std::string mode = "auto";     // "auto", "v1", "v2"
  std::filesystem::path parent;  // empty: derived from this process's own cgroup
  std::uint32_t cpu_period_us = 100000;
  // The CPU weight (v2 units, 1–10000, 100 = a nice-0 process) of the slots' parent,
  // the one cgroup that competes with the service's own threads for the CPUs, and of
  // every slot (equal among themselves). v1 writes CpuSharesForWeight() to cpu.shares.
  std::uint32_t cpu_weight = kDefaultCpuWeight;
  // Root of the cgroup mounts; tests point it at a directory of plain files.
  std::filesystem::path proc_self = "/proc/self";
  // v2 only, for testing the v2 code on hybrid hosts whose controllers are bound to
  // v1: use the unified hierarchy even without the memory/cpu/pids controllers. Limits
  // of a missing controller are NOT enforced; never set this in production.
  bool allow_missing_controllers = false;
};

// What /proc/self says about this process's cgroups, read once per start.
struct CgroupHostView {
  std::string mountinfo;  // /proc/self/mountinfo
  std::string own;        // /proc/self/cgroup
  static Result<CgroupHostView> Read(const std::filesystem::path& proc_self);
};

// Picks the version: v2 when the unified hierarchy has the memory, cpu and pids
// controllers, else v1 when those are mounted as v1 hierarchies (hybrid hosts such as
// this project's CI). kUnavailable with the reason when neither works.
Result<std::unique_ptr<CgroupManager>> OpenCgroups(const CgroupOptions& options);

Result<std::unique_ptr<CgroupManager>> OpenCgroupV1(const CgroupOptions& options);
Result<std::unique_ptr<CgroupManager>> OpenCgroupV2(const CgroupOptions& options);
Result<std::unique_ptr<CgroupManager>> OpenCgroupV1(const CgroupOptions& options,
                                                    const CgroupHostView& host);
Result<std::unique_ptr<CgroupManager>> OpenCgroupV2(const CgroupOptions& options,
                                                    const CgroupHostView& host);

// The slot's pids.max for a program allowed `program_pids` processes and threads: the
// sandbox's init lives in the slot too, and is the platform's, not the program's.
std::uint32_t SlotPidsMax(std::uint32_t program_pids);

// Error::reason of CgroupSlot::Apply when the memory limit cannot be set because the
// slot already holds more (files a previous step left on the tmpfs are charged to it).
inline constexpr std::string_view kMemoryLimitBelowUsage = "memory_limit_below_usage";

// cgroup v1's cpu.shares for a v2 cpu.weight, the kernel's own scale (weight 100 is
// 1024 shares), kept within v1's bounds [2, 262144].
std::uint64_t CpuSharesForWeight(std::uint32_t weight);
// kInvalidArgument unless kMinCpuWeight <= weight <= kMaxCpuWeight.
Status CheckCpuWeight(std::uint32_t weight);

// The CFS quota for `millicores` with period `period_us`: at least 1 ms per period.
std::uint64_t CpuQuotaMicros(std::uint32_t millicores, std::uint32_t period_us);

}  // namespace integr8scode
