#pragma once

#include <chrono>
#include <string_view>

#include "domain/execution.hpp"
#include "domain/status.hpp"

namespace integr8scode {

// Receives the execution life-cycle for telemetry (metrics/ implements it with
// Prometheus). Called from service and worker threads; implementations are thread-safe
// and cheap (no I/O).
class ExecutionObserver {
 public:
  virtual ~ExecutionObserver() = default;
  virtual void OnQueued(std::string_view language, std::string_view version) = 0;
  virtual void OnStarted(std::string_view language, std::string_view version,
                         std::chrono::milliseconds queue_wait) = 0;
  // `result.setup_us` is the sandbox's own set-up time.
  virtual void OnFinished(std::string_view language, std::string_view version,
                          const RunResult& result) = 0;
  // Gauges, set whenever they change.
  virtual void SetQueueDepth(std::size_t queued) = 0;
  virtual void SetRunning(std::size_t running) = 0;
  // The database queue: age of the oldest waiting execution (0 when none), executions
  // whose worker was lost (requeued, or failed after the last attempt), and whether the
  // last store check succeeded.
  virtual void SetOldestQueuedAge(std::chrono::milliseconds age) { (void)age; }
  virtual void OnLeasesRescued(std::size_t requeued, std::size_t failed) {
    (void)requeued;
    (void)failed;
  }
  virtual void SetStoreUp(bool up) { (void)up; }
};

}  // namespace integr8scode
