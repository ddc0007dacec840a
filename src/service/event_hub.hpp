#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "domain/execution_event.hpp"

namespace integr8scode {

using EventCallback = std::function<void(const ExecutionEvent&)>;

// Keeps a subscription alive; destroying it unsubscribes. After destruction the
// callback is never called again (destruction waits for a call in progress).
class Subscription {
 public:
  virtual ~Subscription() = default;
};

// Publish/subscribe of execution events. Thread-safe. Two implementations: in one
// process (MemoryEventHub) and across processes through the database (StoreEventHub).
// Events of an execution are kept for a while so a subscriber can start from any
// sequence number; they are dropped a while after the result event.
class EventHub {
 public:
  virtual ~EventHub() = default;
  virtual void Publish(std::string_view execution_id, ExecutionEvent::Kind kind,
                       std::string_view data) = 0;
  // Replays kept events with seq > after_seq, then delivers new ones, in order, each
  // once. Returns null if nothing is kept for the id (the caller then answers from the
  // store).
  virtual std::unique_ptr<Subscription> Subscribe(std::string_view execution_id,
                                                  std::uint64_t after_seq,
                                                  EventCallback callback) = 0;
  // As Subscribe, but waits for the execution's first event instead of returning null.
  // Never returns null.
  virtual std::unique_ptr<Subscription> SubscribeOrOpen(std::string_view execution_id,
                                                        std::uint64_t after_seq,
                                                        EventCallback callback) = 0;
  // Drops expired events now (periodic maintenance).
  virtual void Sweep() = 0;
  // Returns once what was published before is visible to subscribers everywhere.
  virtual void Flush() {}
};

}  // namespace integr8scode
