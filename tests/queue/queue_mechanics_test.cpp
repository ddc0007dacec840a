// The queue's logic through the service: fairness, capacity, cancellation at each stage,
// graceful shutdown, retention. Real SQLite store; the executor is the GatedExecutor test
// double (see gated_executor.hpp for why).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gated_executor.hpp"
#include "queue/retention.hpp"
#include "service/services.hpp"
#include "test_support.hpp"

namespace integr8scode {
namespace {

using namespace std::chrono_literals;
using testing::Anonymous;
using testing::EventLog;
using testing::GatedExecutor;
using testing::User;

RuntimeCatalog TestCatalog() {
  Runtime python;
  python.language = "python";
  python.version = "3.11";
  python.display_name = "Python 3.11";
  python.source_file = "script.py";
  return RuntimeCatalog({python});
}

// Counts what the service reports for telemetry.
class RecordingObserver final : public ExecutionObserver {
 public:
  void OnQueued(std::string_view, std::string_view) override {
    std::lock_guard lock(mu_);
    ++queued_;
  }
  void OnStarted(std::string_view, std::string_view, std::chrono::milliseconds wait) override {
    std::lock_guard lock(mu_);
    ++started_;
    waits_.push_back(wait);
  }
  void OnFinished(std::string_view, std::string_view, const RunResult& result) override {
    std::lock_guard lock(mu_);
    ++finished_[std::string(StatusName(result.status))];
    running_at_finish_[std::string(StatusName(result.status))] = running_;
  }
  void SetQueueDepth(std::size_t queued) override {
    std::lock_guard lock(mu_);
    depth_ = queued;
  }
  void SetRunning(std::size_t running) override {
    std::lock_guard lock(mu_);
    running_ = running;
  }

  std::mutex mu_;
  int queued_ = 0;
  int started_ = 0;
  std::vector<std::chrono::milliseconds> waits_;
  std::map<std::string, int> finished_;
  std::map<std::string, std::size_t> running_at_finish_;  // the running gauge then
  std::size_t depth_ = 0;
  std::size_t running_ = 0;
};

class QueueMechanicsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stores_ = testing::OpenSqliteStores(dir_.Path());
    options_.queue.workers = 1;
    options_.queue.capacity = 10000;
    options_.auth.jwt_secret = std::string(32, 's');
    options_.auth.password_hash = PasswordHashCost::Min();
  }
  void TearDown() override {
    executor_.ReleaseAll();
    services_.reset();
  }

  void Start(ExecutionObserver* observer = nullptr) {
    auto started = StartServices(testing::ToServiceStores(stores_), executor_, TestCatalog(), {},
                                 options_, observer);
    ASSERT_TRUE(started) << started.error().Describe();
    services_ = std::move(*started);
  }
  ExecutionService& Executions() { return services_->Executions(); }

  Result<SubmitOutcome> Submit(const Caller& caller, const std::string& script) {
    SubmitRequest request;
    request.script = script;
    request.language = "python";
    request.version = "3.11";
    return Executions().Submit(caller, std::move(request));
  }
  std::string SubmitOk(const Caller& caller, const std::string& script) {
    auto outcome = Submit(caller, script);
    EXPECT_TRUE(outcome) << outcome.error().Describe();
    return outcome ? outcome->execution.id : std::string();
  }
  ExecutionStatus StoredStatus(const std::string& id) {
    auto execution = stores_.executions->Get(id);
    EXPECT_TRUE(execution);
    return execution ? execution->status : ExecutionStatus::kError;
  }

  testing::TempDir dir_;
  Stores stores_;
  ServiceOptions options_;
  GatedExecutor executor_{1};
  std::unique_ptr<Services> services_;  // after executor_: destroyed first
};

TEST_F(QueueMechanicsTest, OneUsersThousandSubmissionsDoNotStarveAnothersOne) {
  Start();
  const Caller a = User(1);
  const Caller b = User(2);
  for (int i = 0; i < 1000; ++i) SubmitOk(a, "A" + std::to_string(i));
  SubmitOk(b, "B0");
  ASSERT_TRUE(executor_.WaitStarted(1));
  for (int i = 0; i < 4; ++i) {
    executor_.ReleaseOne();
    ASSERT_TRUE(executor_.WaitStarted(static_cast<std::size_t>(i) + 2));
  }
  const auto started = executor_.Started();
  const auto b_at = std::find(started.begin(), started.end(), "B0");
  ASSERT_NE(b_at, started.end()) << "B's execution did not run among the first " << started.size();
  EXPECT_LE(b_at - started.begin(), 2);  // A0 was already running; then at most one more of A's
  EXPECT_EQ(started[0], "A0");
}

TEST_F(QueueMechanicsTest, FullQueueRefusesAndStoresNothing) {
  options_.queue.capacity = 3;
  Start();
  const Caller caller = Anonymous();
  SubmitOk(caller, "running");
  ASSERT_TRUE(executor_.WaitStarted(1));  // taken by the worker: no longer waiting
  for (int i = 0; i < 3; ++i) SubmitOk(caller, "waiting" + std::to_string(i));

  auto refused = Submit(caller, "one too many");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(refused.error().reason, "queue_full");
  auto counts = stores_.executions->CountByStatus();
  ASSERT_TRUE(counts);
  std::size_t total = 0;
  for (const auto& [status, count] : *counts) total += count;
  EXPECT_EQ(total, 4u);

  const QueueStats stats = Executions().Stats();
  EXPECT_EQ(stats.queued, 3u);
  EXPECT_EQ(stats.running, 1u);
  EXPECT_EQ(stats.workers, 1u);
  EXPECT_EQ(stats.capacity, 3u);

  executor_.ReleaseOne();  // the running one ends, a waiting one is taken: room for one more
  ASSERT_TRUE(executor_.WaitStarted(2));
  EXPECT_TRUE(Submit(caller, "fits again"));
}

TEST_F(QueueMechanicsTest, CancelWhileQueuedEndsAtOnceAndNeverRuns) {
  Start();
  const Caller caller = User(5);
  const std::string running = SubmitOk(caller, "first");
  const std::string queued = SubmitOk(caller, "second");
  ASSERT_TRUE(executor_.WaitStarted(1));
  EventLog log;
  auto subscription = Executions().Subscribe(caller, queued, 0, log.Callback());
  ASSERT_TRUE(subscription);

  auto cancelled = Executions().Cancel(caller, queued);
  ASSERT_TRUE(cancelled) << cancelled.error().Describe();
  EXPECT_EQ(cancelled->status, ExecutionStatus::kCancelled);
  EXPECT_EQ(StoredStatus(queued), ExecutionStatus::kCancelled);
  EXPECT_EQ(Executions().Stats().queued, 0u);
  ASSERT_TRUE(log.WaitForResult());
  EXPECT_EQ(log.Lines(),
            (std::vector<std::string>{"status:queued", "status:cancelled", "result:"}));

  executor_.ReleaseAll();
  ASSERT_TRUE(testing::WaitForResult(Executions(), caller, running));
  EXPECT_EQ(executor_.Started(), (std::vector<std::string>{"first"}));
}

TEST_F(QueueMechanicsTest, CancelWhileRunningStopsTheRunAndKeepsItsOutput) {
  Start();
  const Caller caller = User(5);
  const std::string id = SubmitOk(caller, "long");
  EventLog log;
  auto subscription = Executions().Subscribe(caller, id, 0, log.Callback());
  ASSERT_TRUE(subscription);
  ASSERT_TRUE(executor_.WaitStarted(1));

  auto cancelled = Executions().Cancel(caller, id);
  ASSERT_TRUE(cancelled) << cancelled.error().Describe();
  EXPECT_EQ(cancelled->status, ExecutionStatus::kCancelled);
  EXPECT_EQ(cancelled->result.stdout_text, "out:long");
  EXPECT_EQ(cancelled->attempts, 1);
  ASSERT_TRUE(log.WaitForResult());
  EXPECT_EQ(log.Lines(),
            (std::vector<std::string>{"status:queued", "status:running", "stdout:out:long",
                                      "status:cancelled", "result:"}));
}

TEST_F(QueueMechanicsTest, CancelAfterTheEndIsAConflict) {
  Start();
  executor_.ReleaseAll();
  const Caller caller = Anonymous();
  const std::string id = SubmitOk(caller, "quick");
  auto finished = testing::WaitForResult(Executions(), caller, id);
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->status, ExecutionStatus::kCompleted);
  auto refused = Executions().Cancel(caller, id);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(StoredStatus(id), ExecutionStatus::kCompleted);
}

TEST_F(QueueMechanicsTest, NobodyCancelsAnotherUsersExecution) {
  Start();
  const std::string id = SubmitOk(User(1), "mine");
  ASSERT_TRUE(executor_.WaitStarted(1));
  auto refused = Executions().Cancel(User(2), id);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);
  auto anonymous = Executions().Cancel(Anonymous(), id);
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(StoredStatus(id), ExecutionStatus::kRunning);
  // An admin may.
  auto by_admin = Executions().Cancel(User(99, Role::kAdmin), id);
  ASSERT_TRUE(by_admin);
  EXPECT_EQ(by_admin->status, ExecutionStatus::kCancelled);
}

TEST_F(QueueMechanicsTest, ShutdownLetsRunningExecutionsFinishWithinTheGracePeriod) {
  Start();
  const Caller caller = Anonymous();
  const std::string running = SubmitOk(caller, "finishing");
  const std::string waiting = SubmitOk(caller, "waiting");
  ASSERT_TRUE(executor_.WaitStarted(1));

  std::thread shutdown([&] { services_->Shutdown(std::chrono::minutes(5)); });
  // Once shutdown has begun new work is refused; then the run may end.
  const auto deadline = std::chrono::steady_clock::now() + testing::kPatience;
  while (services_->CheckReady().back().status) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::yield();
  }
  auto refused = Submit(caller, "too late");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  executor_.ReleaseOne();
  shutdown.join();

  EXPECT_EQ(StoredStatus(running), ExecutionStatus::kCompleted);
  EXPECT_EQ(StoredStatus(waiting), ExecutionStatus::kQueued);
  EXPECT_EQ(executor_.Started().size(), 1u);  // nothing new was taken during shutdown
  const auto ready = services_->CheckReady();
  ASSERT_EQ(ready.size(), 3u);
  EXPECT_EQ(ready[2].name, "queue");
  EXPECT_FALSE(ready[2].status);
}

// Every store the service runs on implements Requeue: one that answers kUnavailable
// here is a regression, not a reason to skip.
TEST_F(QueueMechanicsTest, ShutdownHandsUnfinishedRunsBackToQueued) {
  auto probe = stores_.executions->Requeue("no-such-id");
  ASSERT_FALSE(probe);
  EXPECT_EQ(probe.error().code, ErrorCode::kNotFound) << probe.error().Describe();
  Start();
  const Caller caller = Anonymous();
  const std::string running = SubmitOk(caller, "interrupted");
  ASSERT_TRUE(executor_.WaitStarted(1));
  services_->Shutdown(0ms);
  auto handed_back = stores_.executions->Get(running);
  ASSERT_TRUE(handed_back);
  EXPECT_EQ(handed_back->status, ExecutionStatus::kQueued);
  EXPECT_EQ(handed_back->attempts, 0);  // a graceful stop does not use up an attempt
}

// Whether the store hands the run back at once (Requeue) or leaves it to the next start's
// recovery, what shutdown interrupted runs again after a restart, once, to completion.
TEST_F(QueueMechanicsTest, NextStartRunsWhatShutdownInterrupted) {
  Start();
  const Caller caller = Anonymous();
  const std::string running = SubmitOk(caller, "interrupted");
  const std::string waiting = SubmitOk(caller, "never started");
  ASSERT_TRUE(executor_.WaitStarted(1));
  services_->Shutdown(0ms);
  EXPECT_EQ(StoredStatus(waiting), ExecutionStatus::kQueued);
  EXPECT_NE(StoredStatus(running), ExecutionStatus::kCancelled);
  services_.reset();

  GatedExecutor next(1);
  next.ReleaseAll();
  auto restarted =
      StartServices(testing::ToServiceStores(stores_), next, TestCatalog(), {}, options_, nullptr);
  ASSERT_TRUE(restarted) << restarted.error().Describe();
  auto first = testing::WaitForResult((*restarted)->Executions(), caller, running);
  auto second = testing::WaitForResult((*restarted)->Executions(), caller, waiting);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, ExecutionStatus::kCompleted);
  EXPECT_EQ(first->result.stdout_text, "out:interrupted");
  EXPECT_EQ(second->status, ExecutionStatus::kCompleted);
  auto started = next.Started();
  std::sort(started.begin(), started.end());
  EXPECT_EQ(started, (std::vector<std::string>{"interrupted", "never started"}));
  (*restarted)->Shutdown(0ms);
}

TEST_F(QueueMechanicsTest, RetryCreatesANewExecutionPointingBack) {
  Start();
  executor_.ReleaseAll();
  const Caller caller = User(3);
  const std::string id = SubmitOk(caller, "again");
  ASSERT_TRUE(testing::WaitForResult(Executions(), caller, id));
  auto retried = Executions().Retry(caller, id);
  ASSERT_TRUE(retried) << retried.error().Describe();
  EXPECT_NE(retried->execution.id, id);
  EXPECT_EQ(retried->execution.retry_of, id);
  EXPECT_EQ(retried->execution.script, "again");
  EXPECT_FALSE(retried->replayed);
  auto done = testing::WaitForResult(Executions(), caller, retried->execution.id);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, ExecutionStatus::kCompleted);
  EXPECT_EQ(executor_.Started(), (std::vector<std::string>{"again", "again"}));
  // Someone else cannot retry it.
  auto refused = Executions().Retry(User(4), id);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kNotFound);
}

TEST_F(QueueMechanicsTest, RetryOfAnUnfinishedExecutionIsAConflict) {
  Start();
  const Caller caller = User(3);
  const std::string id = SubmitOk(caller, "still running");
  ASSERT_TRUE(executor_.WaitStarted(1));
  auto refused = Executions().Retry(caller, id);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
}

TEST_F(QueueMechanicsTest, ObserverSeesTheLifeCycle) {
  RecordingObserver observer;
  Start(&observer);
  const Caller caller = Anonymous();
  const std::string first = SubmitOk(caller, "one");
  const std::string second = SubmitOk(caller, "two");
  ASSERT_TRUE(executor_.WaitStarted(1));
  {
    std::lock_guard lock(observer.mu_);
    EXPECT_EQ(observer.queued_, 2);
    EXPECT_EQ(observer.depth_, 1u);
    EXPECT_EQ(observer.running_, 1u);
  }
  ASSERT_TRUE(Executions().Cancel(caller, second));
  executor_.ReleaseAll();
  ASSERT_TRUE(testing::WaitForResult(Executions(), caller, first));
  services_->Shutdown(0ms);
  auto stored = stores_.executions->Get(first);
  ASSERT_TRUE(stored);
  ASSERT_TRUE(stored->started_at_ms);
  std::lock_guard lock(observer.mu_);
  EXPECT_EQ(observer.started_, 1);
  // The queue wait reported is the stored one: from submission to start.
  ASSERT_EQ(observer.waits_.size(), 1u);
  EXPECT_EQ(observer.waits_[0].count(), *stored->started_at_ms - stored->created_at_ms);
  EXPECT_EQ(observer.finished_["completed"], 1);
  EXPECT_EQ(observer.finished_["cancelled"], 1);
  // The gauge dropped before the end was told (a wait=true answer comes from it).
  EXPECT_EQ(observer.running_at_finish_["completed"], 0u);
  EXPECT_EQ(observer.depth_, 0u);
  EXPECT_EQ(observer.running_, 0u);
}

TEST_F(QueueMechanicsTest, RetentionSweepDeletesOnlyOldFinishedExecutions) {
  testing::ManualClock clock;
  options_.now_ms = clock.Fn();
  Start();
  executor_.ReleaseAll();
  const Caller caller = Anonymous();
  const std::string old_id = SubmitOk(caller, "old");
  ASSERT_TRUE(testing::WaitForResult(Executions(), caller, old_id));
  clock.Advance(std::chrono::hours(48));
  const std::string recent_id = SubmitOk(caller, "recent");
  ASSERT_TRUE(testing::WaitForResult(Executions(), caller, recent_id));

  auto kept_forever = SweepFinishedExecutions(*stores_.executions, 0ms, clock.Now());
  ASSERT_TRUE(kept_forever);
  EXPECT_EQ(*kept_forever, 0u);
  auto swept = SweepFinishedExecutions(*stores_.executions, std::chrono::hours(24), clock.Now());
  ASSERT_TRUE(swept);
  EXPECT_EQ(*swept, 1u);
  EXPECT_FALSE(stores_.executions->Get(old_id));
  EXPECT_TRUE(stores_.executions->Get(recent_id));
}

TEST_F(QueueMechanicsTest, ServicesSweepRetentionPeriodically) {
  testing::ManualClock clock;
  options_.now_ms = clock.Fn();
  options_.queue.retention = std::chrono::hours(1);
  options_.queue.retention_sweep_interval = 20ms;
  Start();
  executor_.ReleaseAll();
  const Caller caller = Anonymous();
  const std::string id = SubmitOk(caller, "expiring");
  ASSERT_TRUE(testing::WaitForResult(Executions(), caller, id));
  clock.Advance(std::chrono::hours(2));
  const auto deadline = std::chrono::steady_clock::now() + testing::kPatience;
  while (stores_.executions->Get(id)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "retention sweep never ran";
    std::this_thread::sleep_for(5ms);
  }
}

}  // namespace
}  // namespace integr8scode
