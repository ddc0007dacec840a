// The service layer end to end on the real local sandbox and a real SQLite file:
// StartServices as `serve` does, the runtime catalog of the repository, real programs.
// Needs root (namespaces, cgroups), like every sandbox test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog_loader.hpp"
#include "catalog/probe.hpp"
#include "sandbox/local_executor.hpp"
#include "service/services.hpp"
#include "test_support.hpp"

namespace integr8scode {
namespace {

using namespace std::chrono_literals;
using testing::Anonymous;
using testing::EventLog;
using testing::User;

// The sandbox forks its spawner when created, which must happen before any thread
// exists: so once per test process, before the first test.
class SandboxEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    // The default state directory is shared by every sandbox user of this host: its slot
    // locks keep concurrent test processes (ctest -j) out of each other's cgroups.
    SandboxOptions options;
    options.slots = 2;
    auto executor = CreateLocalExecutor(options);
    if (!executor) {
      error_ = executor.error().Describe();
      return;
    }
    executor_ = std::move(*executor);
    auto catalog =
        LoadCatalog(std::filesystem::path(INTEGR8SCODE_SOURCE_DIR) / "runtimes" / "catalog.toml");
    if (!catalog) {
      error_ = catalog.error().Describe();
      return;
    }
    catalog_ = std::move(*catalog);
    availability_ = ProbeCatalog(catalog_);
  }
  void TearDown() override { executor_.reset(); }

  static Executor* executor() { return instance->executor_.get(); }
  static const std::string& error() { return instance->error_; }
  static const RuntimeCatalog& catalog() { return instance->catalog_; }
  static const std::vector<RuntimeAvailability>& availability() { return instance->availability_; }

  static SandboxEnvironment* instance;

 private:
  std::unique_ptr<Executor> executor_;
  std::string error_;
  RuntimeCatalog catalog_;
  std::vector<RuntimeAvailability> availability_;
};

SandboxEnvironment* SandboxEnvironment::instance =
    static_cast<SandboxEnvironment*>(::testing::AddGlobalTestEnvironment(new SandboxEnvironment));

class ServiceSandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(SandboxEnvironment::executor(), nullptr)
        << "the sandbox could not be set up: " << SandboxEnvironment::error();
    stores_ = testing::OpenSqliteStores(dir_.Path());
    options_.queue.workers = 2;
    options_.auth.jwt_secret = std::string(32, 's');
    options_.auth.password_hash = PasswordHashCost::Min();
    options_.now_ms = clock_.Fn();
    availability_ = SandboxEnvironment::availability();
  }
  void TearDown() override {
    if (services_) services_->Shutdown(0ms);
  }

  void Start() {
    auto started = StartServices(testing::ToServiceStores(stores_), *SandboxEnvironment::executor(),
                                 SandboxEnvironment::catalog(), availability_, options_, nullptr);
    ASSERT_TRUE(started) << started.error().Describe();
    services_ = std::move(*started);
  }
  ExecutionService& Executions() { return services_->Executions(); }

  static SubmitRequest Python(std::string script, std::string stdin_data = {}) {
    SubmitRequest request;
    request.script = std::move(script);
    request.language = "python";
    request.version = "3.11";
    request.stdin_data = std::move(stdin_data);
    return request;
  }
  std::string SubmitOk(const Caller& caller, SubmitRequest request) {
    auto outcome = Executions().Submit(caller, std::move(request));
    EXPECT_TRUE(outcome) << outcome.error().Describe();
    return outcome ? outcome->execution.id : std::string();
  }
  Execution RunToEnd(const Caller& caller, SubmitRequest request) {
    const std::string id = SubmitOk(caller, std::move(request));
    auto finished = testing::WaitForResult(Executions(), caller, id);
    EXPECT_TRUE(finished) << finished.error().Describe();
    return finished ? *finished : Execution{};
  }
  Error SubmitError(const Caller& caller, SubmitRequest request) {
    auto outcome = Executions().Submit(caller, std::move(request));
    EXPECT_FALSE(outcome) << "accepted as " << outcome->execution.id;
    return outcome ? Error{} : outcome.error();
  }

  testing::TempDir dir_;
  testing::SkewedClock clock_;
  Stores stores_;
  ServiceOptions options_;
  std::vector<RuntimeAvailability> availability_;
  std::unique_ptr<Services> services_;
};

TEST_F(ServiceSandboxTest, PrintHiOnPython311) {
  Start();
  const Caller caller = Anonymous();
  auto submitted = Executions().Submit(caller, Python("print('hi')"));
  ASSERT_TRUE(submitted) << submitted.error().Describe();
  EXPECT_EQ(submitted->execution.status, ExecutionStatus::kQueued);
  EXPECT_FALSE(submitted->replayed);
  const std::string id = submitted->execution.id;
  // Stored before Submit returned.
  ASSERT_TRUE(stores_.executions->Get(id));

  EventLog log;
  auto subscription = Executions().Subscribe(caller, id, 0, log.Callback());
  ASSERT_TRUE(subscription);
  ASSERT_TRUE(log.WaitForResult());
  auto finished = Executions().Get(caller, id);
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->status, ExecutionStatus::kCompleted) << finished->result.message;
  EXPECT_EQ(finished->result.exit_code, 0);
  EXPECT_EQ(finished->result.stdout_text, "hi\n");
  EXPECT_EQ(finished->result.stderr_text, "");
  EXPECT_EQ(finished->attempts, 1);
  EXPECT_FALSE(finished->worker_id.empty());
  EXPECT_TRUE(finished->started_at_ms && finished->finished_at_ms);
  EXPECT_GT(finished->result.usage.wall_time_ms, 0);
  EXPECT_EQ(finished->limits, options_.default_limits);

  const auto events = log.Events();
  ASSERT_GE(events.size(), 5u);
  EXPECT_EQ(testing::KindName(events[0].kind) + ":" + events[0].data, "status:queued");
  EXPECT_EQ(testing::KindName(events[1].kind) + ":" + events[1].data, "status:running");
  EXPECT_EQ(log.Stdout(), "hi\n");
  EXPECT_EQ(events[events.size() - 2].data, "completed");
  EXPECT_EQ(events.back().kind, ExecutionEvent::Kind::kResult);
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq, i + 1);
}

TEST_F(ServiceSandboxTest, StderrStdinAndExitCodeComeThrough) {
  Start();
  const Execution execution = RunToEnd(
      Anonymous(),
      Python("import sys\nname = input()\nprint('hello', name)\nprint('oops', file=sys.stderr)\n"
             "sys.exit(3)\n",
             "world\n"));
  EXPECT_EQ(execution.status, ExecutionStatus::kFailed);
  EXPECT_EQ(execution.result.exit_code, 3);
  EXPECT_EQ(execution.result.stdout_text, "hello world\n");
  EXPECT_EQ(execution.result.stderr_text, "oops\n");
}

// The first line reaches a subscriber while the program still runs: it is cancelled on
// seeing it, long before its time limit. Were output delivered only at the end, the run
// would end timed_out and the cancel would come too late.
TEST_F(ServiceSandboxTest, OutputIsStreamedWhileTheProgramRuns) {
  Start();
  const Caller caller = User(7);
  SubmitRequest request = Python("import time\nprint('first')\ntime.sleep(60)\nprint('second')\n");
  request.limits.timeout = 30s;
  const std::string id = SubmitOk(caller, std::move(request));
  EventLog log;
  auto subscription = Executions().Subscribe(caller, id, 0, log.Callback());
  ASSERT_TRUE(subscription);
  ASSERT_TRUE(log.WaitForStdout("first\n"));

  auto cancelled = Executions().Cancel(caller, id);
  ASSERT_TRUE(cancelled) << cancelled.error().Describe();
  EXPECT_EQ(cancelled->status, ExecutionStatus::kCancelled);
  EXPECT_EQ(cancelled->result.stdout_text, "first\n");
  ASSERT_TRUE(log.WaitForResult());
  EXPECT_EQ(log.Stdout(), "first\n");
}

TEST_F(ServiceSandboxTest, LimitsFromTheRequestAreEnforced) {
  Start();
  SubmitRequest request = Python("while True:\n    pass\n");
  request.limits.timeout = 500ms;
  const Execution execution = RunToEnd(Anonymous(), std::move(request));
  EXPECT_EQ(execution.status, ExecutionStatus::kTimedOut);
  EXPECT_EQ(execution.limits.timeout, 500ms);
  EXPECT_FALSE(execution.result.message.empty());
}

TEST_F(ServiceSandboxTest, RequestsAreValidatedWithPreciseErrors) {
  options_.max_script_bytes = 1000;
  options_.max_stdin_bytes = 100;
  Start();
  const Caller caller = Anonymous();

  Error empty = SubmitError(caller, Python(""));
  EXPECT_EQ(empty.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(empty.field, "script");

  Error large = SubmitError(caller, Python(std::string(1001, '#')));
  EXPECT_EQ(large.code, ErrorCode::kTooLarge);
  EXPECT_EQ(large.field, "script");
  EXPECT_TRUE(Executions().Submit(caller, Python(std::string(1000, '#'))));

  Error large_stdin = SubmitError(caller, Python("pass", std::string(101, 'x')));
  EXPECT_EQ(large_stdin.code, ErrorCode::kTooLarge);
  EXPECT_EQ(large_stdin.field, "stdin");

  SubmitRequest cobol = Python("DISPLAY 1");
  cobol.language = "cobol";
  Error unknown = SubmitError(caller, cobol);
  EXPECT_EQ(unknown.code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.reason, "unknown_runtime");
  EXPECT_EQ(unknown.field, "lang");
  EXPECT_NE(unknown.message.find("python 3.11"), std::string::npos) << unknown.message;

  SubmitRequest old = Python("print 1");
  old.version = "2.7";
  Error unknown_version = SubmitError(caller, old);
  EXPECT_EQ(unknown_version.reason, "unknown_runtime");
  EXPECT_EQ(unknown_version.field, "lang_version");
  EXPECT_NE(unknown_version.message.find("3.9"), std::string::npos) << unknown_version.message;

  SubmitRequest greedy = Python("pass");
  greedy.limits.memory_bytes = options_.maximum_limits.memory_bytes + 1;
  Error over = SubmitError(caller, greedy);
  EXPECT_EQ(over.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(over.reason, "limit_exceeded");
  EXPECT_EQ(over.field, "limits.memory_bytes");

  SubmitRequest slow = Python("pass");
  slow.limits.timeout = options_.maximum_limits.timeout + 1ms;
  EXPECT_EQ(SubmitError(caller, slow).field, "limits.timeout_ms");

  SubmitRequest tiny = Python("pass");
  tiny.limits.memory_bytes = 1;
  Error under = SubmitError(caller, tiny);
  EXPECT_EQ(under.reason, "invalid_field");
  EXPECT_EQ(under.field, "limits.memory_bytes");

  SubmitRequest bad_key = Python("pass");
  bad_key.idempotency_key = "has space";
  EXPECT_EQ(SubmitError(caller, bad_key).field, "Idempotency-Key");

  // None of the refused requests was stored.
  auto counts = stores_.executions->CountByStatus();
  ASSERT_TRUE(counts);
  std::size_t total = 0;
  for (const auto& [status, count] : *counts) total += count;
  EXPECT_EQ(total, 1u);
}

TEST_F(ServiceSandboxTest, RuntimeKnownButMissingOnThisHostSaysWhy) {
  const auto& all = SandboxEnvironment::catalog().All();
  std::size_t pypy = all.size();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].language == "python" && all[i].version == "3.9") pypy = i;
  }
  ASSERT_LT(pypy, all.size());
  availability_[pypy] =
      RuntimeAvailability{false, "/usr/bin/pypy3.9 not found (apt-get install pypy3)", ""};
  Start();
  SubmitRequest request = Python("print(1)");
  request.version = "3.9";
  Error missing = SubmitError(Anonymous(), request);
  EXPECT_EQ(missing.code, ErrorCode::kUnavailable);
  EXPECT_NE(missing.message.find("pypy3.9 not found"), std::string::npos) << missing.message;
}

TEST_F(ServiceSandboxTest, IdempotencyKeyReplaysTheSameRequestAndRefusesAnother) {
  Start();
  const Caller caller = User(11);
  SubmitRequest request = Python("print('once')");
  request.idempotency_key = "order-42";
  auto first = Executions().Submit(caller, request);
  ASSERT_TRUE(first) << first.error().Describe();
  EXPECT_FALSE(first->replayed);
  auto again = Executions().Submit(caller, request);
  ASSERT_TRUE(again) << again.error().Describe();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->execution.id, first->execution.id);

  SubmitRequest different = Python("print('twice')");
  different.idempotency_key = "order-42";
  Error reused = SubmitError(caller, different);
  EXPECT_EQ(reused.code, ErrorCode::kConflict);
  EXPECT_EQ(reused.reason, "idempotency_key_reused");

  SubmitRequest other_limits = request;
  other_limits.limits.timeout = 2s;
  EXPECT_EQ(SubmitError(caller, other_limits).reason, "idempotency_key_reused");

  // The key is scoped to its caller.
  auto someone_else = Executions().Submit(User(12), request);
  ASSERT_TRUE(someone_else);
  EXPECT_FALSE(someone_else->replayed);
  EXPECT_NE(someone_else->execution.id, first->execution.id);

  auto finished = testing::WaitForResult(Executions(), caller, first->execution.id);
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->result.stdout_text, "once\n");
  auto replay_after_end = Executions().Submit(caller, request);
  ASSERT_TRUE(replay_after_end);
  EXPECT_TRUE(replay_after_end->replayed);
  EXPECT_EQ(replay_after_end->execution.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(finished->attempts, 1);  // ran once
}

TEST_F(ServiceSandboxTest, ConcurrentRequestsWithOneIdempotencyKeyMakeOneExecution) {
  Start();
  const Caller caller = User(13);
  SubmitRequest request = Python("print('exactly once')");
  request.idempotency_key = "burst";
  constexpr int kThreads = 8;
  std::vector<Result<SubmitOutcome>> outcomes(kThreads, Fail(ErrorCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { outcomes[i] = Executions().Submit(caller, request); });
  }
  for (auto& t : threads) t.join();
  int fresh = 0;
  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome) << outcome.error().Describe();
    EXPECT_EQ(outcome->execution.id, outcomes[0]->execution.id);
    if (!outcome->replayed) ++fresh;
  }
  EXPECT_EQ(fresh, 1);
  auto finished = testing::WaitForResult(Executions(), caller, outcomes[0]->execution.id);
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->result.stdout_text, "exactly once\n");
  auto page = Executions().List(caller, ExecutionQuery{}, false);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 1u);
}

TEST_F(ServiceSandboxTest, ExecutionsAreVisibleToTheirOwnerAdminsAndAnyoneForAnonymousOnes) {
  Start();
  const std::string owned = RunToEnd(User(1), Python("print(1)")).id;
  const std::string anonymous = RunToEnd(Anonymous("203.0.113.5"), Python("print(2)")).id;

  EXPECT_TRUE(Executions().Get(User(1), owned));
  EXPECT_TRUE(Executions().Get(User(9, Role::kAdmin), owned));
  for (const Caller& stranger : {User(2), Anonymous()}) {
    auto hidden = Executions().Get(stranger, owned);
    ASSERT_FALSE(hidden);
    EXPECT_EQ(hidden.error().code, ErrorCode::kNotFound);
    EXPECT_FALSE(Executions().Subscribe(stranger, owned, 0, [](const ExecutionEvent&) {}));
  }
  EXPECT_TRUE(Executions().Get(User(2), anonymous));
  EXPECT_TRUE(Executions().Get(Anonymous("198.51.100.1"), anonymous));
  auto missing = Executions().Get(User(1), "00000000-0000-4000-8000-000000000000");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(ServiceSandboxTest, HistoryListsOnlyTheCallersOwnUnlessAdminAsksForAll) {
  Start();
  RunToEnd(User(1), Python("print(1)"));
  RunToEnd(User(1), Python("print(2)"));
  RunToEnd(User(2), Python("print(3)"));

  auto mine = Executions().List(User(1), ExecutionQuery{}, false);
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->total, 2u);
  for (const auto& e : mine->items) EXPECT_EQ(e.owner_id, 1);
  // Newest first. Listings carry an output preview, not the script (ExecutionQuery::with_output).
  EXPECT_EQ(mine->items[0].result.stdout_text, "2\n");
  EXPECT_EQ(mine->items[0].script, "");

  ExecutionQuery sneaky;
  sneaky.owner_id = 2;
  auto forced = Executions().List(User(1), sneaky, false);
  ASSERT_TRUE(forced);
  EXPECT_EQ(forced->total, 2u);

  auto refused = Executions().List(User(1), ExecutionQuery{}, true);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied);
  auto anonymous = Executions().List(Anonymous(), ExecutionQuery{}, false);
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code, ErrorCode::kUnauthenticated);

  auto everyone = Executions().List(User(9, Role::kAdmin), ExecutionQuery{}, true);
  ASSERT_TRUE(everyone);
  EXPECT_EQ(everyone->total, 3u);

  auto counts = Executions().CountByStatus(User(9, Role::kAdmin));
  ASSERT_TRUE(counts);
  EXPECT_EQ((*counts)[ExecutionStatus::kCompleted], 3u);
  EXPECT_FALSE(Executions().CountByStatus(User(1)));
}

TEST_F(ServiceSandboxTest, RetryRunsTheSameProgramAgain) {
  Start();
  const Caller caller = User(4);
  SubmitRequest request = Python("print(input()[::-1])", "abc\n");
  request.limits.memory_bytes = 64ull << 20;
  const Execution original = RunToEnd(caller, std::move(request));
  ASSERT_EQ(original.result.stdout_text, "cba\n");
  auto retried = Executions().Retry(caller, original.id);
  ASSERT_TRUE(retried) << retried.error().Describe();
  auto finished = testing::WaitForResult(Executions(), caller, retried->execution.id);
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->status, ExecutionStatus::kCompleted);
  EXPECT_EQ(finished->result.stdout_text, "cba\n");
  EXPECT_EQ(finished->retry_of, original.id);
  EXPECT_EQ(finished->limits, original.limits);
  EXPECT_EQ(finished->owner_id, 4);
}

TEST_F(ServiceSandboxTest, LateSubscriberGetsTheResultAtOnce) {
  Start();
  const Caller caller = Anonymous();
  const Execution done = RunToEnd(caller, Python("print('done')"));
  // Within the replay window: every event again, from the start or from an id.
  EventLog replay;
  auto replayed = Executions().Subscribe(caller, done.id, 2, replay.Callback());
  ASSERT_TRUE(replayed);
  ASSERT_TRUE(replay.WaitForResult());
  EXPECT_EQ(replay.Events().front().seq, 3u);

  clock_.Advance(2min);  // the live buffer is gone
  EventLog late;
  auto subscription = Executions().Subscribe(caller, done.id, 7, late.Callback());
  ASSERT_TRUE(subscription);
  const auto events = late.Events();  // delivered before Subscribe returned
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, ExecutionEvent::Kind::kResult);
  EXPECT_EQ(events[0].seq, 8u);
}

// A crash (kill -9) leaves rows running. At the next start: one with an attempt left
// runs again, one out of attempts ends in error with the reason, queued ones run.
TEST_F(ServiceSandboxTest, RecoveryAfterACrashRetriesOnceOrMarksError) {
  auto insert = [&](const std::string& id, const std::string& script) {
    Execution execution;
    execution.id = id;
    execution.owner_key = "ip:192.0.2.1";
    execution.language = "python";
    execution.version = "3.11";
    execution.script = script;
    execution.created_at_ms = clock_.Now();
    ASSERT_TRUE(stores_.executions->Insert(execution));
  };
  const std::string retried = "10000000-0000-4000-8000-000000000001";
  const std::string exhausted = "10000000-0000-4000-8000-000000000002";
  const std::string queued = "10000000-0000-4000-8000-000000000003";
  insert(retried, "print('again')");
  insert(exhausted, "print('never')");
  insert(queued, "print('waited')");
  // `exhausted` already went through one crash and recovery: this is its second.
  ASSERT_TRUE(stores_.executions->MarkRunning(exhausted, "dead-worker", clock_.Now()));
  ASSERT_TRUE(stores_.executions->RecoverInterrupted(2, "earlier crash", clock_.Now()));
  ASSERT_TRUE(stores_.executions->MarkRunning(exhausted, "dead-worker", clock_.Now()));
  ASSERT_TRUE(stores_.executions->MarkRunning(retried, "dead-worker", clock_.Now()));

  Start();
  const Caller caller = Anonymous();
  auto again = testing::WaitForResult(Executions(), caller, retried);
  auto waited = testing::WaitForResult(Executions(), caller, queued);
  ASSERT_TRUE(again && waited);
  EXPECT_EQ(again->status, ExecutionStatus::kCompleted);
  EXPECT_EQ(again->result.stdout_text, "again\n");
  EXPECT_EQ(again->attempts, 2);
  EXPECT_EQ(waited->status, ExecutionStatus::kCompleted);
  EXPECT_EQ(waited->result.stdout_text, "waited\n");

  auto failed = Executions().Get(caller, exhausted);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, ExecutionStatus::kError);
  EXPECT_EQ(failed->result.message, options_.queue.recovery_reason);
  EXPECT_EQ(failed->result.stdout_text, "");
}

TEST_F(ServiceSandboxTest, ReadinessReportsStoreSandboxAndQueue) {
  Start();
  const auto checks = services_->CheckReady();
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_EQ(checks[0].name, "store");
  EXPECT_EQ(checks[1].name, "sandbox");
  EXPECT_EQ(checks[2].name, "queue");
  for (const auto& check : checks) EXPECT_TRUE(check.status) << check.name;
}

}  // namespace
}  // namespace integr8scode
