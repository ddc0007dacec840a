#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/cancel.hpp"
#include "domain/cluster_queue.hpp"
#include "domain/executor.hpp"
#include "domain/runtime.hpp"
#include "queue/execution_queue.hpp"
#include "queue/queue_sides.hpp"

namespace integr8scode {

// The submit side over the database queue: an execution is queued once its row is
// stored (a trigger wakes the workers), so Enqueue only counts. The capacity counts
// everyone's waiting executions, as last read by Refresh (called about every second)
// plus what this process admitted since. Cancel always answers kNotHere: the caller's
// store write stops the run wherever it is (a trigger notifies its worker).
class ClusterSubmitQueue final : public SubmitQueue {
 public:
  ClusterSubmitQueue(ClusterQueueStore& cluster, std::size_t capacity,
                     std::function<std::size_t()> local_workers);

  Result<QueueTicket> Reserve() override;
  void Enqueue(QueueTicket ticket, std::string_view owner_key, std::string_view id) override;
  QueueCancelOutcome Cancel(std::string_view id, std::chrono::milliseconds wait) override;
  void Restore(std::string_view owner_key, std::string_view id) override;
  QueueCounts Counts() const override;
  bool Accepting() const override { return accepting_.load(); }

  // Reads the cluster-wide depth; fails as the store does.
  Result<ClusterDepth> Refresh();
  void StopAccepting() { accepting_.store(false); }

 private:
  ClusterQueueStore& cluster_;
  const std::size_t capacity_;
  const std::function<std::size_t()> local_workers_;
  mutable std::mutex mu_;
  ClusterDepth depth_;
  std::size_t reserved_ = 0;
  std::size_t admitted_since_refresh_ = 0;
  std::atomic<bool> accepting_{true};
};

// The worker side over the database queue: `slots` threads run what a claimer thread
// takes from the database (only as many as are free, so nothing waits here that another
// worker could run); a heartbeat extends the leases and stops runs that were cancelled
// or lost elsewhere. Wake-ups: WakeUp() (a NOTIFY on queued work), a freed slot, or
// `poll_interval`. Thread-safe. Everything passed by reference must outlive it.
class ClusterWorkerPool final : public WorkerPool {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix ms

  ClusterWorkerPool(ClusterQueueStore& cluster, ExecutionStore& store, Executor& executor,
                    const RuntimeCatalog& catalog, QueueListener& listener, QueueOptions options,
                    Clock now_ms);
  ~ClusterWorkerPool() override;

  // Nothing to recover here: leases expire by themselves (RescueExpired).
  Result<RecoveryReport> Recover() override { return RecoveryReport{}; }
  void Start() override;
  void Shutdown(std::chrono::milliseconds grace) override;

  void WakeUp();
  // A running execution was cancelled (a notification): stop it if it runs here.
  void StopIfRunning(std::string_view id);
  std::size_t Running() const;
  std::size_t Slots() const { return slots_; }
  const std::string& WorkerId() const { return options_.worker_id; }

 private:
  struct Job;

  void ClaimLoop();
  void SlotLoop();
  void HeartbeatLoop();
  void Run(Job& job);
  RunResult Execute(Job& job);
  bool Finish(const Job& job, const RunResult& result);

  ClusterQueueStore& cluster_;
  ExecutionStore& store_;
  Executor& executor_;
  const RuntimeCatalog& catalog_;
  QueueListener& listener_;
  QueueOptions options_;
  Clock now_ms_;
  std::size_t slots_ = 1;

  mutable std::mutex mu_;
  std::condition_variable claim_cv_;  // a slot freed, work announced, or stopping
  std::condition_variable slot_cv_;   // a claimed job is ready, or stopping
  std::condition_variable done_cv_;   // a job ended
  std::condition_variable beat_cv_;   // stopping
  bool wake_ = false;
  std::vector<std::shared_ptr<Job>> ready_;                       // claimed, not yet started
  std::unordered_map<std::string, std::shared_ptr<Job>> active_;  // claimed, not yet ended
  bool draining_ = false;
  bool stopping_ = false;
  bool started_ = false;
  bool shut_down_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace integr8scode
