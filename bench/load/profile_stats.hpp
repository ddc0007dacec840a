#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "load/latency_samples.hpp"
#include "load/load_settings.hpp"

namespace integr8scode {

// Resident memory of the server process over one profile, from /proc/<pid>/status.
struct ServerMemory {
  std::size_t samples = 0;
  std::uint64_t rss_start_bytes = 0;
  std::uint64_t rss_max_bytes = 0;
  std::uint64_t rss_end_bytes = 0;
  double rss_mean_bytes = 0;
  std::uint64_t hwm_bytes = 0;  // VmHWM at the end: the peak since the server started
};

// Everything measured during one profile. Filled by the generator's single event-loop
// thread; read once the profile is over.
struct ProfileStats {
  ProfileSpec spec;
  double window_s = 0;  // from the first submission to the deadline
  double drain_s = 0;   // after the deadline, until every execution was followed to its end

  std::uint64_t submitted = 0;           // accepted by the server (202, or 200 with wait)
  std::uint64_t finished = 0;            // followed to a terminal status
  std::uint64_t completed = 0;           // ... status completed with the expected stdout
  std::uint64_t finished_in_window = 0;  // terminal status seen before the deadline
  std::uint64_t completed_in_window = 0;
  std::uint64_t result_reads = 0;  // GET /executions/{id} answered 200
  std::uint64_t connections = 0;   // TCP connections opened by all users

  LatencySamples submit;             // POST /execute → 202 (poll mode)
  LatencySamples result_read;        // GET /executions/{id} → 200 (poll mode)
  LatencySamples end_to_end;         // POST sent → terminal status received
  LatencySamples server_end_to_end;  // created_at → finished_at, the server's own clock
  LatencySamples server_queue_wait;  // created_at → started_at
  LatencySamples server_run;         // started_at → finished_at

  // Errors by kind. Keys: "POST /execute 503" (answers other than the expected 2xx),
  // "read: end of stream" (transport), and for executions that ended otherwise than
  // completed: their status ("failed", "error", ...), "wrong stdout", "unfinished"
  // (not terminal within the follow timeout), "unreadable answer".
  std::map<std::string, std::uint64_t> http_errors;
  std::map<std::string, std::uint64_t> transport_errors;
  std::map<std::string, std::uint64_t> execution_errors;

  // Where the CPU time of the window went. The machine's busy time less the other
  // processes and the named parts is sandbox set-up and teardown (the sandboxes' init
  // processes, namespace cleanup in kernel workers), which no counter here names.
  ServerMemory server_memory;
  double server_cpu_s = 0;     // the server process (all threads)
  double children_cpu_s = 0;   // its long-lived child processes (the sandbox spawner)
  double sandbox_cpu_s = 0;    // the programs, as their cgroups counted (resource_usage)
  double generator_cpu_s = 0;  // this tool
  double busy_cpu_s = 0;       // all CPUs together, from /proc/stat
  double other_cpu_s = 0;      // every other process on the machine (other_load.hpp)
  double system_busy = 0;      // share of all CPUs busy, 0..1

  std::uint64_t ErrorTotal() const;
  double CompletedPerSecond() const {
    return window_s > 0 ? static_cast<double>(completed_in_window) / window_s : 0;
  }
};

}  // namespace integr8scode
