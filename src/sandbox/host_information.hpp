#pragma once

#include <string>

#include "common/error.hpp"

namespace integr8scode {

// What a program could learn about the host from /proc and its clocks, taken away.
// Both run in the sandbox init, before any user code exists, and are not thread-safe.

// Covers the host-wide files of the sandbox's fresh /proc (mounted at `proc_path`)
// with the sandbox's /dev/null (`dev_null_path`) and its host-wide directories with an
// empty read-only tmpfs, as container runtimes mask paths. Paths the kernel lacks are
// skipped. Fails when a mount fails.
Status MaskHostProcPaths(const std::string& proc_path, const std::string& dev_null_path);

// Moves the calling process (single-threaded, before it has children) into a new time
// namespace whose CLOCK_MONOTONIC and CLOCK_BOOTTIME start at zero, so that neither
// the clocks nor /proc/uptime, /proc/stat's btime or sysinfo(2) tell the host's uptime.
// Its children (vfork-style included) share it. A kernel without time namespaces
// (EINVAL) is not an error: the clocks stay the host's.
Status EnterFreshTimeNamespace();

}  // namespace integr8scode
