#include "api/event_stream.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "api/api_context.hpp"
#include "api/resource_json.hpp"
#include "common/log.hpp"
#include "service/services.hpp"

namespace integr8scode {

SseStream::SseStream(ApiContext& api, Caller caller, std::string execution_id,
                     std::size_t buffer_limit)
    : api_(api),
      caller_(std::move(caller)),
      execution_id_(std::move(execution_id)),
      buffer_limit_(buffer_limit) {}

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
      Append(Format(event.seq, event.kind == ExecutionEvent::Kind::kStdout ? "stdout" : "stderr",
                    boost::json::serialize(boost::json::object{{"data", event.data}})),
             false);
      return;
    case ExecutionEvent::Kind::kResult:
      SendResult(event.seq);
      return;
  }
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
  Ready ready;
  std::string data;
  bool done = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_ || ended_) return;
    if (!end && buffer_.size() + text.size() > buffer_limit_) {
      // Cut off a reader this far behind; it resumes with Last-Event-ID.
      Log(LogLevel::kInfo, "event stream: client too slow, closing",
          {{"execution_id", execution_id_}});
      ended_ = true;
    } else {
      buffer_ += text;
      ended_ = end;
    }
    if (!waiting_) return;
    ready = std::move(waiting_);
    waiting_ = nullptr;
    data.swap(buffer_);
    done = ended_;
  }
  ready(std::move(data), done);
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
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    waiting_ = nullptr;
    subscription = std::move(subscription_);
  }
}

}  // namespace integr8scode
