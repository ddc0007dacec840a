#include "queue/cluster_queue.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/log.hpp"
#include "common/try.hpp"

namespace integr8scode {
namespace {

// How long to wait before retrying a store operation that failed (the database is
// restarting, a connection broke).
constexpr std::chrono::milliseconds kStoreRetryDelay{500};
// After the grace period the remaining runs are cancelled; a sandbox stops within
// milliseconds of that, so this only bounds a broken executor.
constexpr std::chrono::seconds kCancelledRunsDeadline{30};

class ListenerSink final : public OutputSink {
 public:
  ListenerSink(QueueListener& listener, std::string_view id) : listener_(listener), id_(id) {}
  void OnOutput(OutputStream stream, std::string_view chunk) override {
    listener_.OnOutput(id_, stream, chunk);
  }

 private:
  QueueListener& listener_;
  std::string_view id_;
};

}  // namespace

ClusterSubmitQueue::ClusterSubmitQueue(ClusterQueueStore& cluster, std::size_t capacity,
                                       std::function<std::size_t()> local_workers)
    : cluster_(cluster), capacity_(capacity), local_workers_(std::move(local_workers)) {}

Result<QueueTicket> ClusterSubmitQueue::Reserve() {
  if (!accepting_.load()) {
    return Fail(MakeError(ErrorCode::kUnavailable, "unavailable",
                          "the server is shutting down; try again in a moment"));
  }
  std::lock_guard lock(mu_);
  const std::size_t waiting = depth_.queued + admitted_since_refresh_;
  if (waiting + reserved_ >= capacity_) {
    return Fail(MakeError(ErrorCode::kResourceExhausted, "queue_full",
                          fmt::format("the queue is full ({} executions waiting); try again "
                                      "in a moment",
                                      waiting)));
  }
  ++reserved_;
  return QueueTicket([this] {
    std::lock_guard release_lock(mu_);
    --reserved_;
  });
}

void ClusterSubmitQueue::Enqueue(QueueTicket ticket, std::string_view, std::string_view) {
  ticket.Consume();
  std::lock_guard lock(mu_);
  --reserved_;
  ++admitted_since_refresh_;
}

QueueCancelOutcome ClusterSubmitQueue::Cancel(std::string_view, std::chrono::milliseconds) {
  return QueueCancelOutcome::kNotHere;
}

void ClusterSubmitQueue::Restore(std::string_view, std::string_view) {}

QueueCounts ClusterSubmitQueue::Counts() const {
  std::lock_guard lock(mu_);
  return QueueCounts{depth_.queued + admitted_since_refresh_, depth_.running,
                     local_workers_ ? local_workers_() : 0, capacity_};
}

Result<ClusterDepth> ClusterSubmitQueue::Refresh() {
  const ClusterDepth depth = I8C_TRY_VALUE(cluster_.Depth());
  std::lock_guard lock(mu_);
  depth_ = depth;
  admitted_since_refresh_ = 0;
  return depth;
}

struct ClusterWorkerPool::Job {
  explicit Job(Execution claimed) : execution(std::move(claimed)) {}
  Execution execution;
  CancelToken token;
  // Set with the token (under the pool's mutex): why the run is being stopped.
  bool hand_back = false;  // shutdown: back to queued
  bool lost = false;       // cancelled elsewhere, or the lease was lost: the store has moved on
};

ClusterWorkerPool::ClusterWorkerPool(ClusterQueueStore& cluster, ExecutionStore& store,
                                     Executor& executor, const RuntimeCatalog& catalog,
                                     QueueListener& listener, QueueOptions options, Clock now_ms)
    : cluster_(cluster),
      store_(store),
      executor_(executor),
      catalog_(catalog),
      listener_(listener),
      options_(std::move(options)),
      now_ms_(std::move(now_ms)) {
  if (options_.worker_id.empty()) options_.worker_id = DefaultWorkerId();
  slots_ = WorkerCount(options_, executor_.Capacity());
}

ClusterWorkerPool::~ClusterWorkerPool() { Shutdown(std::chrono::milliseconds(0)); }

void ClusterWorkerPool::Start() {
  std::lock_guard lock(mu_);
  if (started_ || draining_) return;
  started_ = true;
  wake_ = true;  // whatever is queued already
  threads_.emplace_back([this] { ClaimLoop(); });
  threads_.emplace_back([this] { HeartbeatLoop(); });
  for (std::size_t i = 0; i < slots_; ++i) threads_.emplace_back([this] { SlotLoop(); });
}

void ClusterWorkerPool::WakeUp() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  claim_cv_.notify_one();
}

void ClusterWorkerPool::StopIfRunning(std::string_view id) {
  std::lock_guard lock(mu_);
  auto it = active_.find(std::string(id));
  if (it == active_.end() || it->second->hand_back) return;
  it->second->lost = true;
  it->second->token.Cancel();
}

std::size_t ClusterWorkerPool::Running() const {
  std::lock_guard lock(mu_);
  return active_.size();
}

void ClusterWorkerPool::Shutdown(std::chrono::milliseconds grace) {
  std::unique_lock lock(mu_);
  if (shut_down_) return;
  shut_down_ = true;
  draining_ = true;
  claim_cv_.notify_all();
  done_cv_.wait_for(lock, grace, [&] { return active_.empty(); });
  if (!active_.empty()) {
    Log(LogLevel::kInfo, "grace period over: handing running executions back to the queue",
        {{"running", active_.size()}});
    for (auto& [id, job] : active_) {
      job->hand_back = true;
      job->token.Cancel();
    }
    slot_cv_.notify_all();
    if (!done_cv_.wait_for(lock, kCancelledRunsDeadline, [&] { return active_.empty(); })) {
      Log(LogLevel::kError, "runs did not stop after cancellation; their leases will expire",
          {{"running", active_.size()}});
    }
  }
  stopping_ = true;
  claim_cv_.notify_all();
  slot_cv_.notify_all();
  beat_cv_.notify_all();
  std::vector<std::thread> threads = std::move(threads_);
  lock.unlock();
  for (std::thread& thread : threads) thread.join();
}

void ClusterWorkerPool::ClaimLoop() {
  auto next_poll = std::chrono::steady_clock::now();
  bool failing = false;
  for (;;) {
    std::size_t free = 0;
    {
      std::unique_lock lock(mu_);
      claim_cv_.wait_until(lock, next_poll,
                           [&] { return draining_ || (wake_ && active_.size() < slots_); });
      if (draining_) return;
      next_poll = std::chrono::steady_clock::now() + options_.poll_interval;
      if (active_.size() >= slots_) continue;
      free = slots_ - active_.size();
      wake_ = false;
    }
    const std::int64_t now = now_ms_();
    auto claimed = cluster_.Claim(options_.worker_id, free, now, now + options_.lease.count());
    if (!claimed) {
      if (!failing) {
        Log(LogLevel::kWarn, "cannot claim executions; retrying",
            {{"error", claimed.error().Describe()}});
      }
      failing = true;
      next_poll = std::chrono::steady_clock::now() + kStoreRetryDelay;
      continue;
    }
    if (failing) Log(LogLevel::kInfo, "claiming executions again");
    failing = false;
    std::lock_guard lock(mu_);
    // A full batch suggests more is waiting: look again as soon as a slot frees.
    if (claimed->size() == free) wake_ = true;
    for (Execution& execution : *claimed) {
      auto job = std::make_shared<Job>(std::move(execution));
      active_.emplace(job->execution.id, job);
      ready_.push_back(std::move(job));
    }
    slot_cv_.notify_all();
  }
}

void ClusterWorkerPool::SlotLoop() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mu_);
      slot_cv_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
      if (ready_.empty()) return;
      job = ready_.front();
      ready_.erase(ready_.begin());
    }
    Run(*job);
    {
      std::lock_guard lock(mu_);
      active_.erase(job->execution.id);
      wake_ = true;
    }
    claim_cv_.notify_one();
    done_cv_.notify_all();
  }
}

void ClusterWorkerPool::HeartbeatLoop() {
  const auto period = std::max(options_.lease / 3, std::chrono::milliseconds(10));
  for (;;) {
    std::vector<std::string> ids;
    {
      std::unique_lock lock(mu_);
      if (beat_cv_.wait_for(lock, period, [&] { return stopping_; })) return;
      for (const auto& [id, job] : active_) ids.push_back(id);
    }
    if (ids.empty()) continue;
    auto lost = cluster_.ExtendLeases(options_.worker_id, ids, now_ms_() + options_.lease.count());
    if (!lost) {
      Log(LogLevel::kWarn, "cannot extend leases; retrying", {{"error", lost.error().Describe()}});
      continue;
    }
    for (const std::string& id : *lost) StopIfRunning(id);
  }
}

void ClusterWorkerPool::Run(Job& job) {
  const std::string& id = job.execution.id;
  bool hand_back = false;
  {
    std::lock_guard lock(mu_);
    hand_back = job.hand_back;
  }
  RunResult result;
  if (!hand_back) {
    listener_.OnStarted(job.execution);
    result = Execute(job);
    std::lock_guard lock(mu_);
    hand_back = job.hand_back;
  }
  if (hand_back) {
    auto handed = cluster_.HandBack(id, options_.worker_id);
    if (!handed) {
      // Left running: its lease expires and any process requeues it (using an attempt).
      Log(LogLevel::kWarn, "could not hand a stopped execution back to the queue",
          {{"execution_id", id}, {"error", handed.error().Describe()}});
    } else if (*handed) {
      listener_.OnRequeued(job.execution);
    }
    return;
  }
  listener_.BeforeFinish(id);
  if (!Finish(job, result)) return;
  Execution finished = job.execution;
  finished.status = result.status;
  finished.result = std::move(result);
  finished.finished_at_ms = now_ms_();
  listener_.OnFinished(finished);
}

RunResult ClusterWorkerPool::Execute(Job& job) {
  const Execution& execution = job.execution;
  auto runtime = catalog_.Find(execution.language, execution.version);
  if (!runtime) {
    RunResult result;
    result.status = ExecutionStatus::kError;
    result.message =
        fmt::format("{} {} is not offered by this worker", execution.language, execution.version);
    return result;
  }
  ListenerSink sink(listener_, execution.id);
  RunRequest request;
  request.runtime = *runtime;
  request.source = execution.script;
  request.stdin_data = execution.stdin_data;
  request.limits = execution.limits;
  request.sink = &sink;
  request.cancel = &job.token;
  return executor_.Run(request);
}

bool ClusterWorkerPool::Finish(const Job& job, const RunResult& result) {
  // Worth retrying while the lease could still be ours: the heartbeat keeps it while the
  // job is active, and a store that answers again within the lease gets the result.
  const auto give_up = std::chrono::steady_clock::now() + options_.lease;
  for (int attempt = 1;; ++attempt) {
    auto finished = cluster_.FinishClaimed(job.execution.id, options_.worker_id, result, now_ms_());
    if (finished) return *finished;
    Log(LogLevel::kError, "could not store an execution's result",
        {{"execution_id", job.execution.id},
         {"attempt", attempt},
         {"error", finished.error().Describe()}});
    if (std::chrono::steady_clock::now() + kStoreRetryDelay > give_up) return false;
    std::unique_lock lock(mu_);
    if (beat_cv_.wait_for(lock, kStoreRetryDelay, [&] { return stopping_; })) return false;
  }
}

}  // namespace integr8scode
