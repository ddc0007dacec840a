#include "sandbox/slot_pool.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>

namespace integr8scode {

Result<std::unique_ptr<SlotPool>> SlotPool::Create(CgroupManager& cgroups, std::size_t count,
                                                   const std::filesystem::path& lock_dir,
                                                   uid_t first_uid) {
  std::error_code ec;
  std::filesystem::create_directories(lock_dir, ec);
  if (ec)
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot create {}: {}", lock_dir.string(), ec.message()));
  auto pool = std::unique_ptr<SlotPool>(new SlotPool());
  for (std::size_t number = 0; number < kMaxSlotsPerHost && pool->slots_.size() < count; ++number) {
    const std::string path = (lock_dir / fmt::format("{}.lock", number)).string();
    UniqueFd lock(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!lock) {
      const int saved = errno;
      return Fail(SystemError(saved, "open " + path));
    }
    if (::flock(lock.Get(), LOCK_EX | LOCK_NB) != 0) continue;  // another process has it
    auto cgroup = cgroups.CreateSlot(CgroupName(number));
    if (!cgroup) return Fail(std::move(cgroup.error()).WithContext(fmt::format("slot {}", number)));
    auto slot = std::make_unique<Slot>();
    slot->number = number;
    slot->uid = first_uid + static_cast<uid_t>(number);
    slot->cgroup = std::move(*cgroup);
    slot->lock = std::move(lock);
    pool->free_.push_back(slot.get());
    pool->slots_.push_back(std::move(slot));
  }
  if (pool->slots_.size() < count) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("only {} of {} sandbox slots are free on this host",
                            pool->slots_.size(), count));
  }
  return pool;
}

std::string SlotPool::CgroupName(std::size_t number) { return fmt::format("slot-{}", number); }

SlotPool::Lease SlotPool::Acquire() {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [&] { return !free_.empty(); });
  // A free slot's fields are written only by its last holder, before its release (under
  // this mutex): reading them here is safe.
  auto chosen = std::find_if(free_.begin(), free_.end(),
                             [](const Slot* s) { return s->prebuilt.has_value(); });
  if (chosen == free_.end()) chosen = free_.end() - 1;
  Slot* slot = *chosen;
  free_.erase(chosen);
  return Lease(*this, *slot);
}

std::optional<SlotPool::Lease> SlotPool::TryAcquire(Slot& slot) {
  std::lock_guard lock(mutex_);
  auto found = std::find(free_.begin(), free_.end(), &slot);
  if (found == free_.end()) return std::nullopt;
  free_.erase(found);
  return Lease(*this, slot);
}

void SlotPool::Release(Slot& slot) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(&slot);
  }
  available_.notify_one();
}

}  // namespace integr8scode
