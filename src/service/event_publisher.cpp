#include "service/event_publisher.hpp"

#include <algorithm>
#include <chrono>

namespace integr8scode {

void EventPublisher::OnSubmitted(const Execution& execution) {
  if (observer_ != nullptr) observer_->OnQueued(execution.language, execution.version);
  hub_.Publish(execution.id, ExecutionEvent::Kind::kStatus, StatusName(ExecutionStatus::kQueued));
}

void EventPublisher::OnRequeued(const Execution& execution) {
  hub_.Publish(execution.id, ExecutionEvent::Kind::kStatus, StatusName(ExecutionStatus::kQueued));
}

void EventPublisher::OnStarted(const Execution& execution) {
  if (observer_ != nullptr) {
    const std::int64_t started = execution.started_at_ms.value_or(execution.created_at_ms);
    observer_->OnStarted(
        execution.language, execution.version,
        std::chrono::milliseconds(std::max<std::int64_t>(0, started - execution.created_at_ms)));
  }
  hub_.Publish(execution.id, ExecutionEvent::Kind::kStatus, StatusName(ExecutionStatus::kRunning));
}

void EventPublisher::OnOutput(std::string_view id, OutputStream stream, std::string_view chunk) {
  hub_.Publish(id,
               stream == OutputStream::kStdout ? ExecutionEvent::Kind::kStdout
                                               : ExecutionEvent::Kind::kStderr,
               chunk);
}

// Observers (metrics) before subscribers: a `wait=true` caller is answered from the hub's
// result event, and metrics must not lag what a client has already seen.
void EventPublisher::OnFinished(const Execution& execution) {
  if (observer_ != nullptr) {
    // A cancellation recorded by the store alone carries no run result of its own.
    RunResult result = execution.result;
    result.status = execution.status;
    observer_->OnFinished(execution.language, execution.version, result);
  }
  hub_.Publish(execution.id, ExecutionEvent::Kind::kStatus, StatusName(execution.status));
  hub_.Publish(execution.id, ExecutionEvent::Kind::kResult, {});
}

void EventPublisher::OnDepthChanged(std::size_t queued, std::size_t running) {
  if (observer_ == nullptr) return;
  observer_->SetQueueDepth(queued);
  observer_->SetRunning(running);
}

}  // namespace integr8scode
