#pragma once

#include <cstddef>
#include <string_view>

#include "domain/execution.hpp"
#include "queue/execution_queue.hpp"
#include "service/execution_observer.hpp"
#include "service/memory_event_hub.hpp"

namespace integr8scode {

// Turns an execution's moves into live events (EventHub) and telemetry (the observer,
// which may be null). The one place that decides which events a subscriber sees:
//   status "queued" → status "running" → stdout/stderr chunks → status <terminal> → result.
// Thread-safe (both targets are). The hub and observer must outlive it.
class EventPublisher final : public QueueListener {
 public:
  EventPublisher(MemoryEventHub& hub, ExecutionObserver* observer)
      : hub_(hub), observer_(observer) {}

  // A new execution was stored as queued (Submit).
  void OnSubmitted(const Execution& execution);

  void OnRequeued(const Execution& execution) override;
  void OnStarted(const Execution& execution) override;
  void OnOutput(std::string_view id, OutputStream stream, std::string_view chunk) override;
  void OnFinished(const Execution& execution) override;
  void OnDepthChanged(std::size_t queued, std::size_t running) override;

 private:
  MemoryEventHub& hub_;
  ExecutionObserver* observer_;
};

}  // namespace integr8scode
