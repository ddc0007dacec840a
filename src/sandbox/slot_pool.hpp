#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/child.hpp"
#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/launch_spec.hpp"
#include "sandbox/prebuilt.hpp"

namespace integr8scode {

// A sandbox slot: a cgroup prepared once, a uid of its own (so RLIMIT_NPROC counts
// only this run's processes), and a host-wide lock so that two processes on the host
// (two servers, a server and the CLI) never share a slot.
struct Slot {
  UniqueFd lock;  // flock held for the slot's lifetime; declared first, released last
  std::size_t number = 0;
  uid_t uid = 0;
  std::unique_ptr<CgroupSlot> cgroup;
  // The sandbox built ahead for the slot's next run, if any; destroyed (killed) before
  // the cgroup it lives in.
  std::optional<PrebuiltSandbox> prebuilt;
  // The last run's sandbox init, told to stop and still tearing down its namespaces: the
  // slot's next sandbox waits for it (LocalExecutor). Killed when the slot goes.
  Child retiring;
  // Host paths of the last run here: the next sandbox is built ahead with them.
  std::vector<std::string> last_host_paths{"/usr"};
  std::string last_root_tree;
  // The last run's program when its runtime starts warm (docs/warm-starts.md): the next
  // sandbox built ahead starts it ahead (LaunchSpec::warm). Empty argv: built ahead cold.
  WarmStart last_warm;
  std::string last_zygote_dir;  // LaunchSpec::zygote_dir of the last run (Node's boot)
};

// A fixed set of slots; Acquire blocks until one is free. Thread-safe.
class SlotPool {
 public:
  // Claims `count` free slot numbers (trying 0, 1, 2, … up to kMaxSlotsPerHost) by
  // locking `<lock_dir>/<n>.lock`, and creates their cgroups.
  static Result<std::unique_ptr<SlotPool>> Create(CgroupManager& cgroups, std::size_t count,
                                                  const std::filesystem::path& lock_dir,
                                                  uid_t first_uid);
  static std::string CgroupName(std::size_t number);

  class Lease {
   public:
    Lease(SlotPool& pool, Slot& slot) : pool_(&pool), slot_(&slot) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), slot_(other.slot_) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->Release(*slot_);
    }
    Slot& operator*() const { return *slot_; }
    Slot* operator->() const { return slot_; }

   private:
    SlotPool* pool_;
    Slot* slot_;
  };

  // Blocks until a slot is free; prefers one whose next sandbox is already built.
  Lease Acquire();
  // `slot` if it is free now (for building its next sandbox while it is idle).
  std::optional<Lease> TryAcquire(Slot& slot);
  std::size_t Size() const { return slots_.size(); }

 private:
  void Release(Slot& slot);

  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Slot*> free_;
};

inline constexpr std::size_t kMaxSlotsPerHost = 1024;
// Host-wide, whatever a process's state directory: every process that sandboxes on
// this host must see the same locks, or two of them would claim one slot's cgroups.
inline constexpr const char* kSlotLockDir = "/run/integr8scode/slots";

}  // namespace integr8scode
