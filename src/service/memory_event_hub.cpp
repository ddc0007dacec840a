#include "service/memory_event_hub.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/log.hpp"

namespace integr8scode {
namespace {

struct Subscriber {
  EventCallback callback;
  std::uint64_t next_seq = 1;  // the first seq it has not been given yet
  bool in_call = false;
  std::thread::id calling_thread;
};

struct StoredEvent {
  ExecutionEvent event;
  bool kept = true;  // false: over the byte caps, dropped once delivered
};

struct Buffer {
  std::deque<StoredEvent> events;  // ascending seq
  std::uint64_t last_seq = 0;
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  bool delivering = false;
  std::size_t kept_bytes = 0;  // output kept for replay
};

bool IsOutput(ExecutionEvent::Kind kind) {
  return kind == ExecutionEvent::Kind::kStdout || kind == ExecutionEvent::Kind::kStderr;
}

}  // namespace

struct MemoryEventHub::Core {
  Core(EventOptions o, std::function<std::int64_t()> clock)
      : options(o), now_ms(std::move(clock)) {}

  const EventOptions options;
  const std::function<std::int64_t()> now_ms;

  std::mutex mu;
  std::condition_variable call_done;
  std::unordered_map<std::string, std::shared_ptr<Buffer>> buffers;
  // (time of the result event, id), in publication order: the sweep's to-do list.
  std::deque<std::pair<std::int64_t, std::string>> finished;
  std::size_t total_kept_bytes = 0;

  void SweepLocked() {
    const std::int64_t now = now_ms();
    const std::int64_t keep = options.keep_after_result.count();
    while (!finished.empty() && finished.front().first + keep <= now) {
      auto it = buffers.find(finished.front().second);
      if (it != buffers.end()) {
        total_kept_bytes -= it->second->kept_bytes;
        buffers.erase(it);
      }
      finished.pop_front();
    }
  }

  // Delivers every pending event of `buffer` to every subscriber, unless another thread
  // is already doing so (it will see what was appended: see the class comment).
  void Deliver(Buffer& buffer, std::unique_lock<std::mutex>& lock) {
    if (buffer.delivering) return;
    buffer.delivering = true;
    for (;;) {
      std::shared_ptr<Subscriber> target;
      const StoredEvent* next = nullptr;
      for (const auto& subscriber : buffer.subscribers) {
        auto it = std::lower_bound(
            buffer.events.begin(), buffer.events.end(), subscriber->next_seq,
            [](const StoredEvent& e, std::uint64_t seq) { return e.event.seq < seq; });
        if (it != buffer.events.end()) {
          target = subscriber;
          next = &*it;
          break;
        }
      }
      if (!target) break;
      ExecutionEvent event = next->event;
      target->next_seq = event.seq + 1;
      target->in_call = true;
      target->calling_thread = std::this_thread::get_id();
      lock.unlock();
      try {
        target->callback(event);
      } catch (const std::exception& e) {
        Log(LogLevel::kError, "event subscriber threw", {{"error", e.what()}});
      } catch (...) {
        Log(LogLevel::kError, "event subscriber threw");
      }
      lock.lock();
      target->in_call = false;
      call_done.notify_all();
    }
    DropDeliveredTransients(buffer);
    buffer.delivering = false;
  }

  void DropDeliveredTransients(Buffer& buffer) {
    std::uint64_t delivered_to_all = buffer.last_seq;
    for (const auto& subscriber : buffer.subscribers) {
      delivered_to_all = std::min(delivered_to_all, subscriber->next_seq - 1);
    }
    std::erase_if(buffer.events,
                  [&](const StoredEvent& e) { return !e.kept && e.event.seq <= delivered_to_all; });
  }
};

namespace {

class HubSubscription final : public Subscription {
 public:
  HubSubscription(std::shared_ptr<MemoryEventHub::Core> core, std::shared_ptr<Buffer> buffer,
                  std::shared_ptr<Subscriber> subscriber)
      : core_(std::move(core)), buffer_(std::move(buffer)), subscriber_(std::move(subscriber)) {}

  ~HubSubscription() override {
    std::unique_lock lock(core_->mu);
    std::erase(buffer_->subscribers, subscriber_);
    // A callback destroying its own subscription must not wait for itself.
    if (subscriber_->calling_thread != std::this_thread::get_id()) {
      core_->call_done.wait(lock, [&] { return !subscriber_->in_call; });
    }
    if (!buffer_->delivering) core_->DropDeliveredTransients(*buffer_);
  }

 private:
  std::shared_ptr<MemoryEventHub::Core> core_;
  std::shared_ptr<Buffer> buffer_;
  std::shared_ptr<Subscriber> subscriber_;
};

// Adds a subscriber under the lock, then replays to it (or leaves that to the thread
// already delivering for this buffer).
std::unique_ptr<Subscription> Attach(const std::shared_ptr<MemoryEventHub::Core>& core,
                                     const std::shared_ptr<Buffer>& buffer, std::uint64_t after_seq,
                                     EventCallback callback, std::unique_lock<std::mutex>& lock) {
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->callback = std::move(callback);
  subscriber->next_seq = after_seq + 1;
  buffer->subscribers.push_back(subscriber);
  auto subscription = std::make_unique<HubSubscription>(core, buffer, subscriber);
  core->Deliver(*buffer, lock);
  return subscription;
}

}  // namespace

MemoryEventHub::MemoryEventHub(EventOptions options, std::function<std::int64_t()> now_ms)
    : core_(std::make_shared<Core>(options, std::move(now_ms))) {}

MemoryEventHub::~MemoryEventHub() = default;

void MemoryEventHub::Publish(std::string_view execution_id, ExecutionEvent::Kind kind,
                             std::string_view data) {
  std::unique_lock lock(core_->mu);
  core_->SweepLocked();
  auto& slot = core_->buffers[std::string(execution_id)];
  if (!slot) slot = std::make_shared<Buffer>();
  std::shared_ptr<Buffer> buffer = slot;

  StoredEvent stored;
  stored.event.seq = ++buffer->last_seq;
  stored.event.kind = kind;
  stored.event.data.assign(data);
  const std::size_t size = data.size();
  // Only output counts against the caps: status and result events are a handful per
  // execution and a subscriber cannot do without them.
  if (IsOutput(kind)) {
    stored.kept = buffer->kept_bytes + size <= core_->options.max_buffered_bytes_per_execution &&
                  core_->total_kept_bytes + size <= core_->options.max_buffered_bytes_total;
    if (stored.kept) {
      buffer->kept_bytes += size;
      core_->total_kept_bytes += size;
    }
  }
  buffer->events.push_back(std::move(stored));
  if (kind == ExecutionEvent::Kind::kResult) {
    core_->finished.emplace_back(core_->now_ms(), std::string(execution_id));
  }
  core_->Deliver(*buffer, lock);
}

std::unique_ptr<Subscription> MemoryEventHub::Subscribe(std::string_view execution_id,
                                                        std::uint64_t after_seq,
                                                        EventCallback callback) {
  std::unique_lock lock(core_->mu);
  core_->SweepLocked();
  auto it = core_->buffers.find(std::string(execution_id));
  if (it == core_->buffers.end()) return nullptr;
  std::shared_ptr<Buffer> buffer = it->second;
  return Attach(core_, buffer, after_seq, std::move(callback), lock);
}

std::unique_ptr<Subscription> MemoryEventHub::SubscribeOrOpen(std::string_view execution_id,
                                                              std::uint64_t after_seq,
                                                              EventCallback callback) {
  std::unique_lock lock(core_->mu);
  core_->SweepLocked();
  auto& slot = core_->buffers[std::string(execution_id)];
  if (!slot) slot = std::make_shared<Buffer>();
  std::shared_ptr<Buffer> buffer = slot;
  return Attach(core_, buffer, after_seq, std::move(callback), lock);
}

void MemoryEventHub::Sweep() {
  std::lock_guard lock(core_->mu);
  core_->SweepLocked();
}

std::size_t MemoryEventHub::BufferCount() const {
  std::lock_guard lock(core_->mu);
  return core_->buffers.size();
}

std::size_t MemoryEventHub::BufferedBytes() const {
  std::lock_guard lock(core_->mu);
  return core_->total_kept_bytes;
}

}  // namespace integr8scode
