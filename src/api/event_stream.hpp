#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "api/http_message.hpp"
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
// Thread-safe. Owned by the connection (shared); the subscription holds only a weak
// reference back, and Close() drops the subscription.
class SseStream final : public StreamBody, public std::enable_shared_from_this<SseStream> {
 public:
  SseStream(ApiContext& api, Caller caller, std::string execution_id, std::size_t buffer_limit);
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

  ApiContext& api_;
  const Caller caller_;
  const std::string execution_id_;
  const std::size_t buffer_limit_;

  std::mutex mutex_;
  std::string buffer_;
  bool ended_ = false;
  bool closed_ = false;
  bool result_requested_ = false;
  Ready waiting_;
  std::unique_ptr<Subscription> subscription_;
};

}  // namespace integr8scode
