#include "service/event_publisher.hpp"

#include <algorithm>
#include <chrono>

namespace integr8scode {

void EventPublisher::PublishStatus(std::string_view id, std::string_view status) {
  if (!status_from_store_) hub_.Publish(id, ExecutionEvent::Kind::kStatus, status);
}

void EventPublisher::BeforeFinish(std::string_view) { hub_.Flush(); }

// Observers (metrics) before subscribers: a `wait=true` caller is answered from the hub's
// result event, and metrics must not lag what a client has already seen. (When the store
// writes the status events itself, they are in before these calls; see docs/scale-out.md.)
void EventPublisher::OnSubmitted(const Execution& execution) {
  if (observer_ != nullptr) observer_->OnQueued(execution.language, execution.version);
  PublishStatus(execution.id, StatusName(ExecutionStatus::kQueued));
}

void EventPublisher::OnRequeued(const Execution& execution) {
  PublishStatus(execution.id, StatusName(ExecutionStatus::kQueued));
}

void EventPublisher::OnStarted(const Execution& execution) {
  if (observer_ != nullptr) {
    const std::int64_t started = execution.started_at_ms.value_or(execution.created_at_ms);
    observer_->OnStarted(
        execution.language, execution.version,
        std::chrono::milliseconds(std::max<std::int64_t>(0, started - execution.created_at_ms)));
  }
  PublishStatus(execution.id, StatusName(ExecutionStatus::kRunning));
}

void EventPublisher::OnOutput(std::string_view id, OutputStream stream, std::string_view chunk) {
  hub_.Publish(id,
               stream == OutputStream::kStdout ? ExecutionEvent::Kind::kStdout
                                               : ExecutionEvent::Kind::kStderr,
               chunk);
}

void EventPublisher::OnFinished(const Execution& execution) {
  if (observer_ != nullptr) {
    // A cancellation recorded by the store alone carries no run result of its own.
    RunResult result = execution.result;
    result.status = execution.status;
    observer_->OnFinished(execution.language, execution.version, result);
  }
  if (!status_from_store_) {
    hub_.Publish(execution.id, ExecutionEvent::Kind::kStatus, StatusName(execution.status));
    hub_.Publish(execution.id, ExecutionEvent::Kind::kResult, {});
  }
}

void EventPublisher::OnDepthChanged(std::size_t queued, std::size_t running) {
  if (observer_ == nullptr) return;
  observer_->SetQueueDepth(queued);
  observer_->SetRunning(running);
}

}  // namespace integr8scode
