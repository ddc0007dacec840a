#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "service/event_hub.hpp"

namespace integr8scode {

struct EventOptions {
  // How long an execution's events stay replayable after its result event.
  std::chrono::milliseconds keep_after_result{std::chrono::seconds(60)};
  // Output beyond these is still delivered live but not kept for replay; a late
  // subscriber then reads the (complete, capped) output from the final record.
  // Status and result events are always kept.
  std::size_t max_buffered_bytes_per_execution = 4ull << 20;
  std::size_t max_buffered_bytes_total = 256ull << 20;
};

// The in-process EventHub: one buffer per execution, created by its first event and
// dropped `keep_after_result` after its kResult event (checked lazily on each call, so
// no thread of its own).
//
// Delivery: at most one thread delivers a given execution's events at a time, the others
// append and return; so events reach each subscriber in seq order, exactly once, and a
// callback may publish, subscribe or unsubscribe (even itself) without deadlock — what it
// publishes is delivered after it returns. Callbacks run without the hub's lock held.
// Thread-safe. Subscriptions may outlive the hub.
class MemoryEventHub final : public EventHub {
 public:
  // `now_ms`: a clock in milliseconds used for expiry (tests move it).
  MemoryEventHub(EventOptions options, std::function<std::int64_t()> now_ms);
  ~MemoryEventHub() override;
  MemoryEventHub(const MemoryEventHub&) = delete;
  MemoryEventHub& operator=(const MemoryEventHub&) = delete;

  void Publish(std::string_view execution_id, ExecutionEvent::Kind kind,
               std::string_view data) override;
  std::unique_ptr<Subscription> Subscribe(std::string_view execution_id, std::uint64_t after_seq,
                                          EventCallback callback) override;
  // Opens an empty buffer when there is none, so the subscriber waits for the first event.
  std::unique_ptr<Subscription> SubscribeOrOpen(std::string_view execution_id,
                                                std::uint64_t after_seq,
                                                EventCallback callback) override;

  // Drops expired buffers now (also done on every Publish/Subscribe).
  void Sweep() override;
  std::size_t BufferCount() const;
  std::size_t BufferedBytes() const;  // output kept for replay, all executions

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace integr8scode
