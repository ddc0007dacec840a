#pragma once

#include <cstddef>
#include <string_view>

#include "domain/execution.hpp"
#include "queue/execution_queue.hpp"
#include "service/event_hub.hpp"
#include "service/execution_observer.hpp"

namespace integr8scode {

// Turns an execution's moves into live events (EventHub) and telemetry (the observer,
// which may be null). The one place that decides which events a subscriber sees:
//   status "queued" → status "running" → stdout/stderr chunks → status <terminal> → result.
// With `status_from_store` (the database queue) the store writes the status and result
// events itself, in the transaction that changes the status, and only output goes
// through the hub here.
// Thread-safe (both targets are). The hub and observer must outlive it.
class EventPublisher final : public QueueListener {
 public:
  EventPublisher(EventHub& hub, ExecutionObserver* observer, bool status_from_store = false)
      : hub_(hub), observer_(observer), status_from_store_(status_from_store) {}

  // A new execution was stored as queued (Submit).
  void OnSubmitted(const Execution& execution);

  void OnRequeued(const Execution& execution) override;
  void OnStarted(const Execution& execution) override;
  void OnOutput(std::string_view id, OutputStream stream, std::string_view chunk) override;
  void OnFinished(const Execution& execution) override;
  void OnDepthChanged(std::size_t queued, std::size_t running) override;
  void BeforeFinish(std::string_view id) override;

 private:
  void PublishStatus(std::string_view id, std::string_view status);

  EventHub& hub_;
  ExecutionObserver* observer_;
  const bool status_from_store_;
};

}  // namespace integr8scode
