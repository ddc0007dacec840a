#include "api/event_stream.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "api/api_context.hpp"
#include "api/resource_json.hpp"
#include "common/log.hpp"
#include "service/services.hpp"

namespace integr8scode {
namespace {

std::string_view OutputName(ExecutionEvent::Kind kind) {
  return kind == ExecutionEvent::Kind::kStdout ? "stdout" : "stderr";
}

std::string OutputEvent(std::uint64_t seq, ExecutionEvent::Kind kind, const std::string& data) {
  return SseStream::Format(seq, OutputName(kind),
                           boost::json::serialize(boost::json::object{{"data", data}}));
}

}  // namespace

SseStream::SseStream(ApiContext& api, Caller caller, std::string execution_id,
                     std::size_t buffer_limit, Coalesce coalesce)
    : api_(api),
      caller_(std::move(caller)),
      execution_id_(std::move(execution_id)),
      buffer_limit_(buffer_limit),
      coalesce_(coalesce) {}

SseStream::~SseStream() = default;

std::string SseStream::Format(std::uint64_t id, std::string_view event, std::string_view json) {
  // The JSON is one line (serialize escapes newlines), so one data: field carries it.
  return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", id, event, json);
}

void SseStream::Attach(std::unique_ptr<Subscription> subscription) {
  std::unique_lock lock(mutex_);
  if (closed_) {
    lock.unlock();
    subscription.reset();  // outside the lock: destruction waits for a callback in progress
    return;
  }
  subscription_ = std::move(subscription);
}

void SseStream::OnEvent(const ExecutionEvent& event) {
  switch (event.kind) {
    case ExecutionEvent::Kind::kStatus:
      Append(Format(event.seq, "status",
                    boost::json::serialize(boost::json::object{{"status", event.data}})),
             false);
      return;
    case ExecutionEvent::Kind::kStdout:
    case ExecutionEvent::Kind::kStderr:
      AddOutput(event.kind, event.seq, event.data);
      return;
    case ExecutionEvent::Kind::kResult:
      FlushPending();
      SendResult(event.seq);
      return;
  }
}

void SseStream::AddOutput(ExecutionEvent::Kind kind, std::uint64_t seq, const std::string& data) {
  Delivery delivery;
  {
    std::lock_guard lock(mutex_);
    if (closed_ || ended_) return;
    const bool coalescing = coalesce_.window.count() > 0 && api_.server != nullptr;
    if (pending_ &&
        (pending_->kind != kind || pending_->data.size() + data.size() > coalesce_.bytes)) {
      delivery = AppendLocked(TakePendingLocked(), false);
    }
    if (pending_) {
      pending_->seq = seq;
      pending_->data += data;
    } else if (coalescing && data.size() < coalesce_.bytes) {
      pending_ = Pending{kind, seq, data};
      // The timer fires on an I/O thread; the stream may be gone by then.
      pending_timer_ = api_.server->After(coalesce_.window, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->FlushPending();
      });
    } else {
      // Coalescing off, or a chunk as large as a window holds: send it as it is.
      Delivery next = AppendLocked(OutputEvent(seq, kind, data), false);
      if (next.ready) delivery = std::move(next);
    }
  }
  Deliver(std::move(delivery));
}

std::string SseStream::TakePendingLocked() {
  if (!pending_) return {};
  std::string text = OutputEvent(pending_->seq, pending_->kind, pending_->data);
  pending_.reset();
  if (pending_timer_) pending_timer_->Cancel();
  pending_timer_.reset();
  return text;
}

void SseStream::FlushPending() {
  Delivery delivery;
  {
    std::lock_guard lock(mutex_);
    if (!pending_) return;
    delivery = AppendLocked(TakePendingLocked(), false);
  }
  Deliver(std::move(delivery));
}

void SseStream::SendResult(std::uint64_t seq) {
  {
    std::lock_guard lock(mutex_);
    if (result_requested_ || closed_) return;
    result_requested_ = true;
  }
  // The final record comes from the store: not on the publisher's thread.
  api_.post([weak = weak_from_this(), seq] {
    auto self = weak.lock();
    if (!self) return;
    auto execution = self->api_.services->Executions().Get(self->caller_, self->execution_id_);
    if (!execution) {
      Log(LogLevel::kWarn, "event stream: cannot read the final record",
          {{"execution_id", self->execution_id_}, {"error", execution.error().Describe()}});
      self->Append({}, true);
      return;
    }
    self->Append(Format(seq, "result", boost::json::serialize(ExecutionToJson(*execution))), true);
  });
}

void SseStream::Append(std::string text, bool end) {
  Delivery delivery;
  {
    std::lock_guard lock(mutex_);
    // Pending output was published before this event: it goes first.
    if (pending_) delivery = AppendLocked(TakePendingLocked(), false);
    Delivery next = AppendLocked(std::move(text), end);
    if (next.ready) delivery = std::move(next);
  }
  Deliver(std::move(delivery));
}

SseStream::Delivery SseStream::AppendLocked(std::string text, bool end) {
  if (closed_ || ended_) return {};
  if (!end && buffer_.size() + text.size() > buffer_limit_) {
    // Cut off a reader this far behind; it resumes with Last-Event-ID.
    Log(LogLevel::kInfo, "event stream: client too slow, closing",
        {{"execution_id", execution_id_}});
    ended_ = true;
  } else {
    buffer_ += text;
    ended_ = end;
  }
  if (!waiting_) return {};
  Delivery delivery;
  delivery.ready = std::move(waiting_);
  waiting_ = nullptr;
  delivery.data.swap(buffer_);
  delivery.done = ended_;
  return delivery;
}

void SseStream::Deliver(Delivery delivery) {
  if (delivery.ready) delivery.ready(std::move(delivery.data), delivery.done);
}

void SseStream::Next(Ready ready) {
  std::string data;
  bool done = false;
  {
    std::lock_guard lock(mutex_);
    if (buffer_.empty() && !ended_ && !closed_) {
      waiting_ = std::move(ready);
      return;
    }
    data.swap(buffer_);
    done = ended_ || closed_;
  }
  ready(std::move(data), done);
}

void SseStream::Close() {
  std::unique_ptr<Subscription> subscription;
  std::unique_ptr<TimerHandle> timer;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    waiting_ = nullptr;
    pending_.reset();
    timer = std::move(pending_timer_);
    subscription = std::move(subscription_);
  }
  if (timer) timer->Cancel();
}

}  // namespace integr8scode
