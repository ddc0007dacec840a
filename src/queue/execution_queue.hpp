#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"
#include "domain/execution.hpp"
#include "domain/executor.hpp"
#include "domain/runtime.hpp"
#include "domain/stores.hpp"
#include "queue/fair_queue.hpp"
#include "queue/queue_sides.hpp"

namespace integr8scode {

struct QueueOptions {
  std::size_t workers = 0;  // worker threads; 0 = hardware cores (at most the executor's capacity)
  std::size_t capacity = 10000;  // most executions waiting; more → kResourceExhausted "queue_full"
  // Finished executions older than this are deleted by a periodic sweep; 0 keeps them forever.
  std::chrono::milliseconds retention{0};
  std::chrono::milliseconds retention_sweep_interval{std::chrono::minutes(10)};
  // After a crash, an execution left running is run again while attempts < max_attempts,
  // else it ends kError with `recovery_reason`.
  int max_attempts = 2;
  std::string recovery_reason = "the server stopped while this execution ran";
  std::string worker_id;  // recorded on each execution; empty = "<hostname>:<pid>"
  // The database queue (PostgreSQL): a claimed execution's lease, extended every third
  // of it while the run lasts; how often any process rescues expired leases; how often
  // workers look for work when no notification came.
  std::chrono::milliseconds lease{std::chrono::seconds(15)};
  std::chrono::milliseconds rescue_interval{std::chrono::seconds(5)};
  std::chrono::milliseconds poll_interval{std::chrono::seconds(1)};

  friend bool operator==(const QueueOptions&, const QueueOptions&) = default;
};

// "<hostname>:<pid>": unique among live processes, readable in the executions table.
std::string DefaultWorkerId();

// `options.workers`, or when 0 the cores, at most the executor's capacity: more workers
// than executor slots would mark executions running while they wait for a slot, and take
// them out of the fair order early.
std::size_t WorkerCount(const QueueOptions& options, std::size_t executor_capacity);

// What the queue reports about executions as they move. Called from worker threads (and
// from Recover's caller); implementations must be quick and must not call back into the
// queue. OnDepthChanged is called with the queue's lock held, so gauges never go stale.
class QueueListener {
 public:
  virtual ~QueueListener() = default;
  // Waiting again: re-enqueued from the store at start, or handed back at shutdown.
  virtual void OnRequeued(const Execution& execution) = 0;
  // Marked running in the store (`execution` is the stored record); the run starts now.
  virtual void OnStarted(const Execution& execution) = 0;
  virtual void OnOutput(std::string_view id, OutputStream stream, std::string_view chunk) = 0;
  // Reached a terminal status in the store: the run's result (setup_us included) or a
  // cancellation before it started.
  virtual void OnFinished(const Execution& execution) = 0;
  virtual void OnDepthChanged(std::size_t queued, std::size_t running) = 0;
  // A run ended and its result is about to be stored: what it published must be out
  // first (the result event follows the store write).
  virtual void BeforeFinish(std::string_view id) { (void)id; }
};

// The in-memory dispatcher over the durable store: fair FIFOs per owner (FairQueue), a
// capacity limit, and a pool of workers that move each execution queued → running →
// terminal through the store's compare-and-set transitions, running it on the Executor.
// The store is the truth: memory only holds ids, and whatever memory loses (a crash, a
// shutdown) is rebuilt from the store by Recover at the next start.
// Thread-safe. The store, executor, catalog and listener must outlive it.
class ExecutionQueue final : public SubmitQueue, public WorkerPool {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix ms

  ExecutionQueue(ExecutionStore& store, Executor& executor, const RuntimeCatalog& catalog,
                 QueueListener& listener, QueueOptions options, Clock now_ms);
  ~ExecutionQueue() override;  // Shutdown(0) if still running
  ExecutionQueue(const ExecutionQueue&) = delete;
  ExecutionQueue& operator=(const ExecutionQueue&) = delete;

  using Reservation = QueueTicket;
  using CancelOutcome = QueueCancelOutcome;

  // Once, before Start: executions left running by a crash are requeued or failed
  // (RecoverInterrupted), then every queued execution is enqueued, oldest first (beyond
  // the capacity if need be: they were accepted already). Fails if the store does.
  Result<RecoveryReport> Recover() override;
  void Start() override;

  // kResourceExhausted (reason "queue_full") when capacity is reached; kUnavailable
  // once shutting down.
  Result<Reservation> Reserve() override;
  // The execution must be stored as queued already.
  void Enqueue(Reservation reservation, std::string_view owner_key, std::string_view id) override;

  CancelOutcome Cancel(std::string_view id, std::chrono::milliseconds wait) override;
  // Puts an id back that Cancel removed when recording the cancellation failed.
  void Restore(std::string_view owner_key, std::string_view id) override;

  // Stops taking work, lets runs finish within `grace`, cancels the rest and hands them
  // back to queued in the store, joins the workers. Idempotent; blocks.
  void Shutdown(std::chrono::milliseconds grace) override;

  std::size_t Queued() const;
  std::size_t Running() const;
  std::size_t Workers() const { return worker_count_; }
  std::size_t Capacity() const { return options_.capacity; }
  bool Accepting() const override;
  QueueCounts Counts() const override {
    return QueueCounts{Queued(), Running(), Workers(), Capacity()};
  }
  const std::string& WorkerId() const { return options_.worker_id; }

 private:
  struct Job;

  void WorkerLoop();
  void RunJob(Job& job, const std::string& owner_key);
  Execution RunOnExecutor(Job& job, Execution execution);
  bool FinishWithRetry(const std::string& id, const RunResult& result);
  void Requeue(const std::string& id);
  void RecordCancelBeforeStart(const std::string& id);
  bool WaitStopping(std::chrono::milliseconds duration);
  void PublishDepthLocked();
  void Retire(const std::string& id);

  ExecutionStore& store_;
  Executor& executor_;
  const RuntimeCatalog& catalog_;
  QueueListener& listener_;
  QueueOptions options_;
  Clock now_ms_;
  std::size_t worker_count_ = 1;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // work arrived, or stopping
  std::condition_variable done_cv_;  // a job ended
  FairQueue waiting_;
  std::size_t reserved_ = 0;
  std::unordered_map<std::string, std::shared_ptr<Job>> active_;  // popped, not yet ended
  bool draining_ = false;                                         // no new work taken
  bool stopping_ = false;                                         // workers exit
  bool started_ = false;
  bool shut_down_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace integr8scode
