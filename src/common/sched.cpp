#include "common/sched.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace integr8scode {
namespace {

// The kernel's struct sched_attr (glibc 2.36 has no wrapper): version 1, 56 bytes.
struct SchedAttr {
  std::uint32_t size;
  std::uint32_t sched_policy;
  std::uint64_t sched_flags;
  std::int32_t sched_nice;
  std::uint32_t sched_priority;
  std::uint64_t sched_runtime;
  std::uint64_t sched_deadline;
  std::uint64_t sched_period;
  std::uint32_t sched_util_min;
  std::uint32_t sched_util_max;
};

}  // namespace

Status SetThreadSlice(std::chrono::microseconds slice) {
  SchedAttr attr{};
  // Read first: sched_setattr sets the policy and nice value too, which must stay.
  if (::syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) {
    const int saved = errno;
    return Fail(SystemError(saved, "sched_getattr"));
  }
  if (attr.sched_policy != SCHED_OTHER && attr.sched_policy != SCHED_BATCH) {
    return Fail(ErrorCode::kInvalidArgument, "a scheduler slice applies to SCHED_OTHER only");
  }
  attr.size = sizeof attr;
  attr.sched_flags = 0;
  attr.sched_runtime = static_cast<std::uint64_t>(slice.count()) * 1000;
  if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0) {
    const int saved = errno;
    return Fail(SystemError(saved, "sched_setattr"));
  }
  return {};
}

}  // namespace integr8scode
