#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <vector>

#include "load/proc_sample.hpp"

namespace integr8scode {

// The CPU time that everything else on the machine used while a profile ran: the load
// figures of a shared machine mean little without it. A snapshot of every process's
// CPU counters (its own and its reaped children's) at both ends of the window; the
// difference, outside the process trees under measurement, is the rest of the load.
//
// Approximate by nature: a process that starts and ends inside the window is seen only
// through its parent's children counters, and one that ends inside the window is
// counted from its CPU at the start. Processes under a root of ours (the server and
// its sandboxes, this tool) are left out.
using ProcessTable = std::map<pid_t, ProcStat>;

ProcessTable ReadProcessTable();  // every /proc/<pid>/stat that could be read

// Clock ticks that processes outside the trees of `own_roots` used between the two
// snapshots; never negative.
std::uint64_t OtherProcessesTicks(const ProcessTable& start, const ProcessTable& end,
                                  const std::vector<pid_t>& own_roots);

}  // namespace integr8scode
