#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/limits.hpp"
#include "domain/status.hpp"

namespace integr8scode {

struct ResourceUsage {
  std::int64_t wall_time_ms = 0;
  std::int64_t cpu_time_ms = 0;
  std::uint64_t peak_memory_bytes = 0;

  friend bool operator==(const ResourceUsage&, const ResourceUsage&) = default;
};

// What one run produced. Output is valid UTF-8 (invalid bytes replaced).
// How a run's program started (telemetry): cold, from a warm zygote, or cold because a
// warm zygote was there but unusable (docs/warm-starts.md).
enum class StartKind : std::int32_t { kCold = 0, kWarm = 1, kWarmFallback = 2 };

struct RunResult {
  ExecutionStatus status = ExecutionStatus::kError;
  std::optional<int> exit_code;  // set when the program exited
  std::optional<int> signal;     // set when it was killed by a signal
  std::string stdout_text;
  std::string stderr_text;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  ResourceUsage usage;
  // For limit hits and platform errors: one sentence for the user, e.g.
  // "stopped after the 5 s time limit". Never internals.
  std::string message;
  // A compiled runtime's build step (wall time), apart from the run: `usage` is the last
  // step's (the program's, or the compiler's after a compile error). Empty when there is
  // no build step. Kept out of ResourceUsage, which is brace-initialised in many places.
  std::optional<std::int64_t> compile_time_ms;
  // Time the sandbox took to set itself up before the program started (telemetry
  // only; not stored, not in the API).
  std::int64_t setup_us = 0;
  StartKind start = StartKind::kCold;  // telemetry only, like setup_us
  // Warm, but its zygote could not import some of sandbox.warm_preload and ran without
  // them (docs/warm-starts.md). Telemetry only.
  bool preload_incomplete = false;

  friend bool operator==(const RunResult&, const RunResult&) = default;
};

// The stored record of an execution (docs/architecture.md, "Executions"). Times are Unix
// milliseconds.
struct Execution {
  std::string id;                        // random, unguessable (UUID v4 text)
  std::optional<std::int64_t> owner_id;  // user id; empty for anonymous runs
  std::string owner_key;                 // fairness and idempotency scope: "user:7", "ip:1.2.3.4"
  std::string language;
  std::string version;
  std::string script;
  std::string stdin_data;
  Limits limits;
  ExecutionStatus status = ExecutionStatus::kQueued;
  RunResult result;             // meaningful once terminal
  std::string idempotency_key;  // empty when not given
  std::string request_hash;     // hash of the request body, to check key reuse
  int attempts = 0;             // how many times a worker started it
  std::string worker_id;
  std::optional<std::string> retry_of;  // id of the execution this one retries
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> started_at_ms;
  std::optional<std::int64_t> finished_at_ms;
  // The owner shared it: anyone with the id may read it (not cancel it or share it).
  bool is_public = false;

  friend bool operator==(const Execution&, const Execution&) = default;
};

}  // namespace integr8scode
