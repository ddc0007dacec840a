#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "domain/cluster_queue.hpp"
#include "service/event_hub.hpp"
#include "service/memory_event_hub.hpp"

namespace integr8scode {

// The EventHub across processes: events live in the database's events table (status
// events are written there by the store itself, output by the worker through Publish),
// so a subscriber on any API replica reads the same sequence, and Last-Event-ID resumes
// anywhere without gap or duplicate.
//
// Publish only queues the event; a writer thread appends what has queued up in one
// transaction (Flush writes at once, on the caller's thread). A dispatcher thread reads
// new events of subscribed executions when told (Notify: a NOTIFY arrived) and every
// `poll_interval` regardless, and calls the callbacks; so a slow subscriber never holds
// up a publisher, whose pipe draining goes on. Thread-safe.
//
// The dispatcher records the executions it streams in the store (WatchEvents, under an id
// of its own), so the database notifies only those; until a new one is recorded, and if
// recording fails, the poll still delivers its events.
class StoreEventHub final : public EventHub {
 public:
  StoreEventHub(ClusterQueueStore& store, EventOptions options,
                std::function<std::int64_t()> now_ms, std::chrono::milliseconds poll_interval);
  ~StoreEventHub() override;
  StoreEventHub(const StoreEventHub&) = delete;
  StoreEventHub& operator=(const StoreEventHub&) = delete;

  void Publish(std::string_view execution_id, ExecutionEvent::Kind kind,
               std::string_view data) override;
  std::unique_ptr<Subscription> Subscribe(std::string_view execution_id, std::uint64_t after_seq,
                                          EventCallback callback) override;
  std::unique_ptr<Subscription> SubscribeOrOpen(std::string_view execution_id,
                                                std::uint64_t after_seq,
                                                EventCallback callback) override;
  void Sweep() override;
  void Flush();

  // New events of `execution_id` may be in the table.
  void Notify(std::string_view execution_id);
  // Notifications may have been lost: read every subscribed execution again.
  void NotifyAll();

  struct Subscriber;

 private:
  void WriterLoop();
  void DispatchLoop();
  void WritePending(std::unique_lock<std::mutex>& write_lock);
  void Deliver(const std::string& id);
  // Brings the store's record of watched executions in line with subscribers_; on the
  // dispatcher thread.
  void SyncWatchers();
  std::unique_ptr<Subscription> Attach(std::string_view execution_id, std::uint64_t after_seq,
                                       EventCallback callback);

  ClusterQueueStore& store_;
  const EventOptions options_;
  const std::function<std::int64_t()> now_ms_;
  const std::chrono::milliseconds poll_interval_;

  std::mutex write_mu_;  // held while appending, so appends stay in Publish order
  std::mutex pending_mu_;
  std::condition_variable pending_cv_;
  std::vector<NewEvent> pending_;

  std::mutex subs_mu_;
  std::condition_variable dirty_cv_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Subscriber>>> subscribers_;
  std::set<std::string> dirty_;
  bool stopping_ = false;

  const std::string watcher_id_;
  std::set<std::string> watched_;  // recorded in the store; dispatcher thread only
  std::chrono::steady_clock::time_point next_watch_refresh_;  // dispatcher thread only

  std::thread writer_;
  std::thread dispatcher_;
};

}  // namespace integr8scode
