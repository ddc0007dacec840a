#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/http_message.hpp"
#include "api/http_server.hpp"
#include "service/caller.hpp"
#include "service/event_hub.hpp"

namespace integr8scode {

struct ApiContext;

// The body of GET /executions/{id}/events: Server-Sent Events fed by the event hub.
//
// The hub calls OnEvent on the publishing (worker) thread; events are formatted and
// queued here, and the connection takes them with Next() as fast as the client reads.
// The queue is bounded: a client that falls further behind than `buffer_limit` is cut
// off (the stream ends) and can resume with Last-Event-ID, so a slow reader never
// holds a worker or grows memory. The result event is read from the store on the
// handler pool and ends the stream.
//
// Output chunks of one stream that arrive within `coalesce.window` of the first are
// merged into one event (id: the last chunk's sequence number, so Last-Event-ID still
// resumes exactly) of at most `coalesce.bytes` of data; a status or result event, a
// chunk of the other stream or a full window sends what is pending first, so the order
// of events is kept. A zero window sends every chunk at once.
//
// Thread-safe. Owned by the connection (shared); the subscription holds only a weak
// reference back, and Close() drops the subscription.
class SseStream final : public StreamBody, public std::enable_shared_from_this<SseStream> {
 public:
  struct Coalesce {
    std::chrono::milliseconds window{0};
    std::size_t bytes = 0;
  };

  SseStream(ApiContext& api, Caller caller, std::string execution_id, std::size_t buffer_limit,
            Coalesce coalesce);
  ~SseStream() override;

  // Keeps the hub subscription until Close().
  void Attach(std::unique_ptr<Subscription> subscription);
  void OnEvent(const ExecutionEvent& event);

  void Next(Ready ready) override;
  void Close() override;

  // "id: 3\nevent: stdout\ndata: {...}\n\n"
  static std::string Format(std::uint64_t id, std::string_view event, std::string_view json);

 private:
  void Append(std::string text, bool end);
  void SendResult(std::uint64_t seq);
  void AddOutput(ExecutionEvent::Kind kind, std::uint64_t seq, const std::string& data);
  // Formats the pending output chunks as one event and cancels its timer; under mutex_.
  std::string TakePendingLocked();
  void FlushPending();
  // Under mutex_: queues `text`; the reader waiting for it, if any, is called by Deliver
  // after the lock is released.
  struct Delivery {
    Ready ready;
    std::string data;
    bool done = false;
  };
  Delivery AppendLocked(std::string text, bool end);
  static void Deliver(Delivery delivery);

  ApiContext& api_;
  const Caller caller_;
  const std::string execution_id_;
  const std::size_t buffer_limit_;
  const Coalesce coalesce_;

  std::mutex mutex_;
  std::string buffer_;
  bool ended_ = false;
  bool closed_ = false;
  bool result_requested_ = false;
  Ready waiting_;
  struct Pending {
    ExecutionEvent::Kind kind = ExecutionEvent::Kind::kStdout;
    std::uint64_t seq = 0;
    std::string data;
  };
  std::optional<Pending> pending_;
  std::unique_ptr<TimerHandle> pending_timer_;
  std::unique_ptr<Subscription> subscription_;
};

}  // namespace integr8scode
