#include "queue/execution_queue.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <utility>

#include "common/cancel.hpp"
#include "common/log.hpp"

namespace integr8scode {
namespace {

// How long a worker waits before retrying a store operation that failed.
constexpr std::chrono::milliseconds kStoreRetryDelay{500};
constexpr int kFinishAttempts = 5;
// After the grace period the remaining runs are cancelled; a sandbox stops within
// milliseconds of that, so this only bounds a broken executor.
constexpr std::chrono::seconds kCancelledRunsDeadline{30};

RunResult PlatformError(std::string message) {
  RunResult result;
  result.status = ExecutionStatus::kError;
  result.message = std::move(message);
  return result;
}

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

std::string DefaultWorkerId() {
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return fmt::format("{}:{}", host[0] != '\0' ? host : "localhost", ::getpid());
}

std::size_t WorkerCount(const QueueOptions& options, std::size_t executor_capacity) {
  if (options.workers != 0) return options.workers;
  const std::size_t cores = std::max<std::size_t>(1, std::thread::hardware_concurrency());
  return std::min(cores, std::max<std::size_t>(1, executor_capacity));
}

struct ExecutionQueue::Job {
  explicit Job(std::string job_id) : id(std::move(job_id)) {}
  const std::string id;
  CancelToken token;
  // Set with the token: why the run is being stopped. Guarded by the queue's mutex.
  bool hand_back = false;  // shutdown: back to queued rather than cancelled
  bool done = false;
};

ExecutionQueue::ExecutionQueue(ExecutionStore& store, Executor& executor,
                               const RuntimeCatalog& catalog, QueueListener& listener,
                               QueueOptions options, Clock now_ms)
    : store_(store),
      executor_(executor),
      catalog_(catalog),
      listener_(listener),
      options_(std::move(options)),
      now_ms_(std::move(now_ms)) {
  if (options_.worker_id.empty()) options_.worker_id = DefaultWorkerId();
  worker_count_ = WorkerCount(options_, executor_.Capacity());
}

ExecutionQueue::~ExecutionQueue() { Shutdown(std::chrono::milliseconds(0)); }

Result<RecoveryReport> ExecutionQueue::Recover() {
  auto report =
      store_.RecoverInterrupted(options_.max_attempts, options_.recovery_reason, now_ms_());
  if (!report) return Fail(std::move(report.error()).WithContext("recover interrupted executions"));
  auto queued = store_.ListQueued();
  if (!queued) return Fail(std::move(queued.error()).WithContext("list queued executions"));
  {
    std::lock_guard lock(mu_);
    for (const Execution& execution : *queued) waiting_.Push(execution.owner_key, execution.id);
    PublishDepthLocked();
  }
  for (const Execution& execution : *queued) listener_.OnRequeued(execution);
  Log(LogLevel::kInfo, "queue recovered",
      {{"requeued_after_crash", report->requeued.size()},
       {"failed_after_crash", report->failed.size()},
       {"queued", queued->size()}});
  return report;
}

void ExecutionQueue::Start() {
  std::lock_guard lock(mu_);
  if (started_ || draining_) return;
  started_ = true;
  workers_.reserve(worker_count_);
  for (std::size_t i = 0; i < worker_count_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

Result<ExecutionQueue::Reservation> ExecutionQueue::Reserve() {
  std::lock_guard lock(mu_);
  if (draining_) {
    return Fail(MakeError(ErrorCode::kUnavailable, "unavailable",
                          "the server is shutting down; try again in a moment"));
  }
  if (waiting_.Size() + reserved_ >= options_.capacity) {
    return Fail(MakeError(ErrorCode::kResourceExhausted, "queue_full",
                          fmt::format("the queue is full ({} executions waiting); try again "
                                      "in a moment",
                                      waiting_.Size())));
  }
  ++reserved_;
  return Reservation([this] {
    std::lock_guard release_lock(mu_);
    --reserved_;
  });
}

void ExecutionQueue::Enqueue(Reservation reservation, std::string_view owner_key,
                             std::string_view id) {
  reservation.Consume();
  std::lock_guard lock(mu_);
  --reserved_;
  waiting_.Push(owner_key, id);
  PublishDepthLocked();
  work_cv_.notify_one();
}

ExecutionQueue::CancelOutcome ExecutionQueue::Cancel(std::string_view id,
                                                     std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  if (waiting_.Remove(id)) {
    PublishDepthLocked();
    return CancelOutcome::kRemoved;
  }
  auto it = active_.find(std::string(id));
  if (it == active_.end()) return CancelOutcome::kNotHere;
  std::shared_ptr<Job> job = it->second;
  if (!job->hand_back) job->token.Cancel();
  done_cv_.wait_for(lock, wait, [&] { return job->done; });
  return CancelOutcome::kSignalled;
}

void ExecutionQueue::Restore(std::string_view owner_key, std::string_view id) {
  std::lock_guard lock(mu_);
  waiting_.PushFront(owner_key, id);
  PublishDepthLocked();
  work_cv_.notify_one();
}

void ExecutionQueue::Shutdown(std::chrono::milliseconds grace) {
  std::unique_lock lock(mu_);
  if (shut_down_) return;
  shut_down_ = true;
  draining_ = true;
  work_cv_.notify_all();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  done_cv_.wait_until(lock, deadline, [&] { return active_.empty(); });
  if (!active_.empty()) {
    Log(LogLevel::kInfo, "grace period over: handing running executions back to the queue",
        {{"running", active_.size()}});
    for (auto& [id, job] : active_) {
      job->hand_back = true;
      job->token.Cancel();
    }
    if (!done_cv_.wait_for(lock, kCancelledRunsDeadline, [&] { return active_.empty(); })) {
      Log(LogLevel::kError, "runs did not stop after cancellation; leaving them to recovery",
          {{"running", active_.size()}});
    }
  }
  stopping_ = true;
  work_cv_.notify_all();
  std::vector<std::thread> workers = std::move(workers_);
  lock.unlock();
  for (std::thread& worker : workers) worker.join();
}

std::size_t ExecutionQueue::Queued() const {
  std::lock_guard lock(mu_);
  return waiting_.Size();
}

std::size_t ExecutionQueue::Running() const {
  std::lock_guard lock(mu_);
  return active_.size();
}

bool ExecutionQueue::Accepting() const {
  std::lock_guard lock(mu_);
  return !draining_;
}

void ExecutionQueue::PublishDepthLocked() {
  listener_.OnDepthChanged(waiting_.Size(), active_.size());
}

// An execution the store holds as ended stops counting as running before anyone hears of
// its end: a wait=true caller that scrapes /metrics next must not find it still running.
// A cancel that comes now finds it ended in the store, where it is. The worker's own erase
// after RunJob is then a no-op.
void ExecutionQueue::Retire(const std::string& id) {
  std::lock_guard lock(mu_);
  active_.erase(id);
  PublishDepthLocked();
}

bool ExecutionQueue::WaitStopping(std::chrono::milliseconds duration) {
  std::unique_lock lock(mu_);
  return work_cv_.wait_for(lock, duration, [&] { return stopping_; });
}

void ExecutionQueue::WorkerLoop() {
  for (;;) {
    std::shared_ptr<Job> job;
    std::string owner_key;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || (!draining_ && !waiting_.Empty()); });
      if (stopping_ || draining_) return;
      FairQueue::Item item = *waiting_.Pop();
      owner_key = std::move(item.owner_key);
      job = std::make_shared<Job>(item.id);
      active_.emplace(job->id, job);
      PublishDepthLocked();
    }
    RunJob(*job, owner_key);
    {
      std::lock_guard lock(mu_);
      job->done = true;
      active_.erase(job->id);
      PublishDepthLocked();
    }
    done_cv_.notify_all();
  }
}

void ExecutionQueue::RunJob(Job& job, const std::string& owner_key) {
  bool cancelled_by_user = false;
  {
    // Shutdown sets hand_back before cancelling the token, under this lock; a cancelled
    // token without it is the user's.
    std::lock_guard lock(mu_);
    if (job.hand_back) return;  // still queued in the store: the next start takes it
    cancelled_by_user = job.token.Cancelled();
  }
  if (cancelled_by_user) {
    RecordCancelBeforeStart(job.id);
    return;
  }
  auto marked = store_.MarkRunning(job.id, options_.worker_id, now_ms_());
  if (!marked) {
    Log(LogLevel::kError, "could not mark an execution running; will retry",
        {{"execution_id", job.id}, {"error", marked.error().Describe()}});
    Restore(owner_key, job.id);
    WaitStopping(kStoreRetryDelay);
    return;
  }
  if (!*marked) return;  // cancelled meanwhile, or another worker has it

  auto execution = store_.Get(job.id);
  if (!execution) {
    Log(LogLevel::kError, "could not read a running execution",
        {{"execution_id", job.id}, {"error", execution.error().Describe()}});
    FinishWithRetry(job.id, PlatformError("the server could not read this execution"));
    return;
  }
  listener_.OnStarted(*execution);
  Execution finished = RunOnExecutor(job, std::move(*execution));
  bool hand_back = false;
  {
    std::lock_guard lock(mu_);
    hand_back = job.hand_back;
  }
  if (hand_back) {
    Requeue(job.id);
    return;
  }
  if (FinishWithRetry(job.id, finished.result)) {
    Retire(job.id);
    listener_.OnFinished(finished);
    return;
  }
  // Finish refused: the record went terminal another way (a cancel that did not reach this
  // worker, e.g. from another process). Report what the store holds.
  if (auto stored = store_.Get(job.id); stored && IsTerminal(stored->status)) {
    stored->result.setup_us = finished.result.setup_us;
    stored->result.start = finished.result.start;
    Retire(job.id);
    listener_.OnFinished(*stored);
  }
}

Execution ExecutionQueue::RunOnExecutor(Job& job, Execution execution) {
  RunResult result;
  auto runtime = catalog_.Find(execution.language, execution.version);
  if (!runtime) {
    result = PlatformError(fmt::format("{} {} is no longer offered by this server",
                                       execution.language, execution.version));
  } else {
    ListenerSink sink(listener_, job.id);
    RunRequest request;
    request.runtime = *runtime;
    request.source = execution.script;
    request.stdin_data = execution.stdin_data;
    request.limits = execution.limits;
    request.sink = &sink;
    request.cancel = &job.token;
    result = executor_.Run(request);
  }
  execution.status = result.status;
  execution.result = std::move(result);
  execution.finished_at_ms = now_ms_();
  return execution;
}

bool ExecutionQueue::FinishWithRetry(const std::string& id, const RunResult& result) {
  for (int attempt = 1;; ++attempt) {
    auto finished = store_.Finish(id, result, now_ms_());
    if (finished) return *finished;
    Log(LogLevel::kError, "could not store an execution's result",
        {{"execution_id", id}, {"attempt", attempt}, {"error", finished.error().Describe()}});
    // Given up, the record stays running and the next start recovers it.
    if (attempt == kFinishAttempts || WaitStopping(kStoreRetryDelay)) return false;
  }
}

void ExecutionQueue::Requeue(const std::string& id) {
  auto requeued = store_.Requeue(id);
  if (!requeued) {
    // Left running: RecoverInterrupted at the next start puts it back (using an attempt).
    Log(LogLevel::kWarn, "could not hand a stopped execution back to the queue",
        {{"execution_id", id}, {"error", requeued.error().Describe()}});
    return;
  }
  if (!*requeued) return;
  if (auto execution = store_.Get(id)) listener_.OnRequeued(*execution);
}

void ExecutionQueue::RecordCancelBeforeStart(const std::string& id) {
  auto cancelled = store_.Cancel(id, now_ms_());
  if (!cancelled) {
    Log(LogLevel::kError, "could not record a cancellation",
        {{"execution_id", id}, {"error", cancelled.error().Describe()}});
    return;
  }
  if (!*cancelled) return;
  if (auto execution = store_.Get(id)) listener_.OnFinished(*execution);
}

}  // namespace integr8scode
