#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace integr8scode {

// One event of an execution's live stream (GET /executions/{id}/events).
struct ExecutionEvent {
  enum class Kind { kStatus, kStdout, kStderr, kResult };
  std::uint64_t seq = 0;  // 1, 2, 3… within one execution; the SSE id
  Kind kind = Kind::kStatus;
  // kStatus: the status name; kStdout/kStderr: the chunk (valid UTF-8);
  // kResult: empty — the subscriber reads the final record from the store.
  std::string data;
};

using EventCallback = std::function<void(const ExecutionEvent&)>;

// Keeps a subscription alive; destroying it unsubscribes. After destruction the
// callback is never called again (destruction waits for a call in progress).
class Subscription {
 public:
  virtual ~Subscription() = default;
};

// In-process publish/subscribe of execution events. Thread-safe. Events of a running
// execution are buffered (bounded by the output caps) so a subscriber can start from
// any sequence number; the buffer is dropped a while after the result event.
class EventHub {
 public:
  virtual ~EventHub() = default;
  virtual void Publish(std::string_view execution_id, ExecutionEvent::Kind kind,
                       std::string_view data) = 0;
  // Replays buffered events with seq > after_seq, then delivers new ones, in order,
  // on the publisher's thread. Returns null if nothing is buffered for the id (the
  // caller then answers from the store).
  virtual std::unique_ptr<Subscription> Subscribe(std::string_view execution_id,
                                                  std::uint64_t after_seq,
                                                  EventCallback callback) = 0;
};

}  // namespace integr8scode
