#pragma once

#include <chrono>

#include "common/error.hpp"

namespace integr8scode {

// Sets the calling thread's scheduler slice (Linux 6.12+, EEVDF: sched_setattr's
// sched_runtime for SCHED_OTHER), keeping its policy and nice value. A thread with a
// shorter slice than the one running gets an earlier deadline when it wakes, so it
// preempts instead of waiting for the other's slice to end; its share of the CPU is
// unchanged. Threads and processes created afterwards inherit it. 0: the kernel's
// default slice. Older kernels accept the call and ignore the slice.
Status SetThreadSlice(std::chrono::microseconds slice);

}  // namespace integr8scode
