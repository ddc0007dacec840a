#pragma once

#include "sandbox/launch_spec.hpp"

namespace integr8scode {

// Sets the step's resource limits — the second line of defence behind the cgroup:
// file size, open files, processes of the slot's uid, CPU seconds, no core dumps, no
// POSIX message queues. Async-signal-safe. Returns 0 or the failing errno.
int ApplyStepRlimits(const StepSpec& step);

}  // namespace integr8scode
