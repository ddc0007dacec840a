#include "service/store_event_hub.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <random>
#include <utility>

#include "common/log.hpp"

namespace integr8scode {
namespace {

// Events read per query; a longer backlog is read in further rounds.
constexpr std::size_t kReadBatch = 1000;
// A hub marks its watched executions seen this often; rows not seen for kWatcherIdle
// belong to a hub that is gone (a replica killed) and are deleted by the sweep.
constexpr std::chrono::minutes kWatchRefresh{1};
constexpr std::chrono::minutes kWatcherIdle{5};

std::string NewWatcherId() {
  std::random_device random;
  return fmt::format("hub-{:08x}{:08x}", random(), random());
}

}  // namespace

struct StoreEventHub::Subscriber {
  EventCallback callback;
  std::uint64_t next_seq = 1;  // guarded by the hub's subs_mu_
  std::mutex call_mu;          // held while the callback runs
  bool active = true;          // guarded by call_mu
  std::atomic<std::thread::id> calling_thread;
};

namespace {

class StoreSubscription final : public Subscription {
 public:
  StoreSubscription(std::function<void()> detach,
                    std::shared_ptr<StoreEventHub::Subscriber> subscriber)
      : detach_(std::move(detach)), subscriber_(std::move(subscriber)) {}
  ~StoreSubscription() override {
    detach_();
    // A callback destroying its own subscription already holds call_mu.
    if (subscriber_->calling_thread.load() == std::this_thread::get_id()) {
      subscriber_->active = false;
      return;
    }
    std::lock_guard lock(subscriber_->call_mu);
    subscriber_->active = false;
  }

 private:
  std::function<void()> detach_;
  std::shared_ptr<StoreEventHub::Subscriber> subscriber_;
};

}  // namespace

StoreEventHub::StoreEventHub(ClusterQueueStore& store, EventOptions options,
                             std::function<std::int64_t()> now_ms,
                             std::chrono::milliseconds poll_interval)
    : store_(store),
      options_(options),
      now_ms_(std::move(now_ms)),
      poll_interval_(poll_interval),
      watcher_id_(NewWatcherId()),
      writer_([this] { WriterLoop(); }),
      dispatcher_([this] { DispatchLoop(); }) {}

StoreEventHub::~StoreEventHub() {
  {
    std::lock_guard lock(pending_mu_);
    std::lock_guard subs_lock(subs_mu_);
    stopping_ = true;
  }
  pending_cv_.notify_all();
  dirty_cv_.notify_all();
  writer_.join();
  dispatcher_.join();
  Flush();
  if (!watched_.empty()) {
    // Best effort: rows left behind only cost notifications until the sweep drops them.
    (void)store_.WatchEvents(watcher_id_, {},
                             std::vector<std::string>(watched_.begin(), watched_.end()), now_ms_());
  }
}

void StoreEventHub::Publish(std::string_view execution_id, ExecutionEvent::Kind kind,
                            std::string_view data) {
  {
    std::lock_guard lock(pending_mu_);
    pending_.push_back(NewEvent{std::string(execution_id), kind, std::string(data)});
  }
  pending_cv_.notify_one();
}

void StoreEventHub::Flush() {
  std::unique_lock write_lock(write_mu_);
  WritePending(write_lock);
}

void StoreEventHub::WritePending(std::unique_lock<std::mutex>&) {
  std::vector<NewEvent> batch;
  {
    std::lock_guard lock(pending_mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return;
  if (auto appended = store_.AppendEvents(batch, now_ms_()); !appended) {
    // The record keeps the whole output; only the live view of these chunks is lost.
    Log(LogLevel::kWarn, "could not store live output events",
        {{"events", batch.size()}, {"error", appended.error().Describe()}});
  }
}

void StoreEventHub::WriterLoop() {
  for (;;) {
    {
      std::unique_lock lock(pending_mu_);
      pending_cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
    }
    std::unique_lock write_lock(write_mu_);
    WritePending(write_lock);
  }
}

std::unique_ptr<Subscription> StoreEventHub::Subscribe(std::string_view execution_id,
                                                       std::uint64_t after_seq,
                                                       EventCallback callback) {
  auto any = store_.ReadEvents(execution_id, 0, 1);
  if (!any || any->empty()) return nullptr;
  return Attach(execution_id, after_seq, std::move(callback));
}

std::unique_ptr<Subscription> StoreEventHub::SubscribeOrOpen(std::string_view execution_id,
                                                             std::uint64_t after_seq,
                                                             EventCallback callback) {
  return Attach(execution_id, after_seq, std::move(callback));
}

std::unique_ptr<Subscription> StoreEventHub::Attach(std::string_view execution_id,
                                                    std::uint64_t after_seq,
                                                    EventCallback callback) {
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->callback = std::move(callback);
  subscriber->next_seq = after_seq + 1;
  const std::string id(execution_id);
  {
    std::lock_guard lock(subs_mu_);
    subscribers_[id].push_back(subscriber);
    dirty_.insert(id);
  }
  dirty_cv_.notify_one();
  auto detach = [this, id, weak = std::weak_ptr<Subscriber>(subscriber)] {
    std::lock_guard lock(subs_mu_);
    auto it = subscribers_.find(id);
    if (it == subscribers_.end()) return;
    auto self = weak.lock();
    std::erase(it->second, self);
    if (it->second.empty()) subscribers_.erase(it);
  };
  return std::make_unique<StoreSubscription>(std::move(detach), std::move(subscriber));
}

void StoreEventHub::Sweep() {
  const std::int64_t cutoff = now_ms_() - options_.keep_after_result.count();
  if (auto deleted = store_.DeleteEventsBefore(cutoff); !deleted) {
    Log(LogLevel::kWarn, "could not delete old execution events",
        {{"error", deleted.error().Describe()}});
  }
  const auto idle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(kWatcherIdle).count();
  if (auto deleted = store_.DeleteIdleWatchers(now_ms_() - idle_ms); !deleted) {
    Log(LogLevel::kWarn, "could not delete idle event watchers",
        {{"error", deleted.error().Describe()}});
  }
}

void StoreEventHub::Notify(std::string_view execution_id) {
  {
    std::lock_guard lock(subs_mu_);
    const std::string id(execution_id);
    if (!subscribers_.contains(id)) return;
    dirty_.insert(id);
  }
  dirty_cv_.notify_one();
}

void StoreEventHub::NotifyAll() {
  {
    std::lock_guard lock(subs_mu_);
    for (const auto& [id, subscribers] : subscribers_) dirty_.insert(id);
  }
  dirty_cv_.notify_one();
}

void StoreEventHub::DispatchLoop() {
  for (;;) {
    std::set<std::string> ids;
    {
      std::unique_lock lock(subs_mu_);
      // The poll catches what a lost notification (a reconnect) would have announced.
      if (!dirty_cv_.wait_for(lock, poll_interval_, [&] { return stopping_ || !dirty_.empty(); })) {
        for (const auto& [id, subscribers] : subscribers_) dirty_.insert(id);
      }
      if (stopping_) return;
      ids.swap(dirty_);
    }
    // Recorded before reading: a status change committed after the record notifies, one
    // committed before it is in what Deliver reads. One whose trigger looked in between
    // waits for the next poll.
    SyncWatchers();
    for (const std::string& id : ids) Deliver(id);
  }
}

void StoreEventHub::SyncWatchers() {
  std::vector<std::string> add;
  std::vector<std::string> remove;
  {
    std::lock_guard lock(subs_mu_);
    for (const auto& [id, subscribers] : subscribers_) {
      if (!watched_.contains(id)) add.push_back(id);
    }
    for (const std::string& id : watched_) {
      if (!subscribers_.contains(id)) remove.push_back(id);
    }
  }
  const auto now = std::chrono::steady_clock::now();
  const bool refresh = !watched_.empty() && now >= next_watch_refresh_;
  if (add.empty() && remove.empty() && !refresh) return;
  if (auto recorded = store_.WatchEvents(watcher_id_, add, remove, now_ms_()); !recorded) {
    // Tried again at the next round; meanwhile the poll delivers.
    Log(LogLevel::kDebug, "could not record watched executions",
        {{"error", recorded.error().Describe()}});
    return;
  }
  for (std::string& id : add) watched_.insert(std::move(id));
  for (const std::string& id : remove) watched_.erase(id);
  next_watch_refresh_ = now + kWatchRefresh;
}

void StoreEventHub::Deliver(const std::string& id) {
  std::vector<std::shared_ptr<Subscriber>> targets;
  std::uint64_t from = 0;
  {
    std::lock_guard lock(subs_mu_);
    auto it = subscribers_.find(id);
    if (it == subscribers_.end()) return;
    targets = it->second;
    from = targets.front()->next_seq;
    for (const auto& subscriber : targets) from = std::min(from, subscriber->next_seq);
  }
  auto events = store_.ReadEvents(id, from - 1, kReadBatch);
  if (!events) {
    // The next poll tries again.
    Log(LogLevel::kDebug, "could not read execution events",
        {{"execution_id", id}, {"error", events.error().Describe()}});
    return;
  }
  for (const auto& subscriber : targets) {
    std::uint64_t next = 0;
    {
      std::lock_guard lock(subs_mu_);
      next = subscriber->next_seq;
    }
    std::lock_guard call(subscriber->call_mu);
    if (!subscriber->active) continue;
    subscriber->calling_thread.store(std::this_thread::get_id());
    for (const ExecutionEvent& event : *events) {
      if (event.seq < next) continue;
      next = event.seq + 1;
      {
        std::lock_guard lock(subs_mu_);
        subscriber->next_seq = next;
      }
      try {
        subscriber->callback(event);
      } catch (const std::exception& e) {
        Log(LogLevel::kError, "event subscriber threw", {{"error", e.what()}});
      }
      if (!subscriber->active) break;
    }
    subscriber->calling_thread.store(std::thread::id());
  }
  if (events->size() == kReadBatch) {
    std::lock_guard lock(subs_mu_);
    dirty_.insert(id);
  }
}

}  // namespace integr8scode
