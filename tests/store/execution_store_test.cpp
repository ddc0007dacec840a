#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <set>
#include <thread>
#include <vector>

#include "store_fixture.hpp"

namespace integr8scode {
namespace {

class ExecutionStoreTest : public StoreTest {
 protected:
  ExecutionStore& Executions() { return *stores_.executions; }

  // Inserts and asserts success.
  void Put(const Execution& execution) {
    ASSERT_EQ(Unwrap(Executions().Insert(execution)), "") << execution.id;
  }

  Execution Load(const std::string& id) {
    auto loaded = Executions().Get(id);
    EXPECT_TRUE(loaded) << id << ": " << loaded.error().Describe();
    return loaded ? *loaded : Execution{};
  }
};

INTEGR8SCODE_INSTANTIATE_STORE_SUITE(ExecutionStoreTest);

Execution Queued(const std::string& id, std::int64_t created_at_ms = 1000,
                 std::optional<std::int64_t> owner_id = 1) {
  Execution e;
  e.id = id;
  e.owner_id = owner_id;
  e.owner_key = owner_id ? fmt::format("user:{}", *owner_id) : "ip:127.0.0.1";
  e.language = "python";
  e.version = "3.11";
  e.script = "print('hi')\n";
  e.status = ExecutionStatus::kQueued;
  e.created_at_ms = created_at_ms;
  return e;
}

RunResult Completed() {
  RunResult r;
  r.status = ExecutionStatus::kCompleted;
  r.exit_code = 0;
  r.stdout_text = "hi\n";
  r.usage = {.wall_time_ms = 31, .cpu_time_ms = 24, .peak_memory_bytes = 9617408};
  return r;
}

TEST_P(ExecutionStoreTest, InsertThenGetReturnsEveryField) {
  Execution e = Queued("a1b2c3d4-0000-4000-8000-000000000001", 1700000000123, 42);
  e.owner_key = "user:42";
  e.language = "pypy";
  e.version = "3.9";
  // Bytes a database may mangle: NUL, non-ASCII, quotes, a lone backslash.
  e.script = std::string("print('\\0 é \xe2\x82\xac ')\n\0tail", 26);
  e.stdin_data = std::string("line1\nline2\0\x01", 13);
  e.limits.memory_bytes = 256ull << 20;
  e.limits.cpu_millicores = 500;
  e.limits.timeout = std::chrono::milliseconds(2500);
  e.limits.pids = 16;
  e.limits.output_bytes = 4096;
  e.limits.tmpfs_bytes = 8ull << 20;
  e.limits.file_size_bytes = 1ull << 20;
  e.limits.open_files = 32;
  e.idempotency_key = "key-1";
  e.request_hash = "sha256:abcd";
  e.retry_of = "a1b2c3d4-0000-4000-8000-000000000000";
  Put(e);
  EXPECT_EQ(Load(e.id), e);
}

TEST_P(ExecutionStoreTest, AnonymousExecutionHasNoOwner) {
  const Execution e = Queued("anon", 1000, std::nullopt);
  Put(e);
  const Execution loaded = Load(e.id);
  EXPECT_FALSE(loaded.owner_id.has_value());
  EXPECT_EQ(loaded.owner_key, "ip:127.0.0.1");
  EXPECT_EQ(loaded, e);
}

TEST_P(ExecutionStoreTest, MissingIdIsNotFound) {
  auto loaded = Executions().Get("no-such-id");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, ErrorCode::kNotFound);
}

TEST_P(ExecutionStoreTest, DuplicateIdIsAlreadyExists) {
  Put(Queued("dup"));
  auto again = Executions().Insert(Queued("dup", 2000));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists) << again.error().Describe();
  EXPECT_EQ(Load("dup").created_at_ms, 1000);
}

TEST_P(ExecutionStoreTest, MarkRunningMovesQueuedOnlyAndCountsAttempts) {
  Put(Queued("e1"));
  auto first = Executions().MarkRunning("e1", "worker-a", 5000);
  ASSERT_TRUE(first) << first.error().Describe();
  EXPECT_TRUE(*first);
  Execution running = Load("e1");
  EXPECT_EQ(running.status, ExecutionStatus::kRunning);
  EXPECT_EQ(running.attempts, 1);
  EXPECT_EQ(running.worker_id, "worker-a");
  EXPECT_EQ(running.started_at_ms, 5000);
  EXPECT_FALSE(running.finished_at_ms.has_value());

  // Running → running is refused and changes nothing.
  auto second = Executions().MarkRunning("e1", "worker-b", 6000);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  EXPECT_EQ(Load("e1"), running);

  auto missing = Executions().MarkRunning("nope", "worker-a", 5000);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(ExecutionStoreTest, FinishStoresTheResultExactlyOnce) {
  Put(Queued("e1"));
  // Not running yet: refused.
  auto early = Executions().Finish("e1", Completed(), 7000);
  ASSERT_TRUE(early);
  EXPECT_FALSE(*early);
  EXPECT_EQ(Load("e1").status, ExecutionStatus::kQueued);

  ASSERT_TRUE(*Executions().MarkRunning("e1", "w", 5000));
  RunResult result;
  result.status = ExecutionStatus::kFailed;
  result.signal = 11;
  result.stdout_text = std::string("partial\0out", 11);
  result.stderr_text = "Segmentation fault\n";
  result.stdout_truncated = true;
  result.stderr_truncated = false;
  result.usage = {.wall_time_ms = 120, .cpu_time_ms = 99, .peak_memory_bytes = 1ull << 33};
  result.message = "killed by SIGSEGV";
  result.setup_us = 1234;  // telemetry only: not stored
  auto finished = Executions().Finish("e1", result, 7000);
  ASSERT_TRUE(finished) << finished.error().Describe();
  EXPECT_TRUE(*finished);

  const Execution done = Load("e1");
  RunResult expected = result;
  expected.setup_us = 0;
  EXPECT_EQ(done.result, expected);
  EXPECT_EQ(done.status, ExecutionStatus::kFailed);
  EXPECT_EQ(done.finished_at_ms, 7000);
  EXPECT_EQ(done.started_at_ms, 5000);

  // A second finish (another worker, a retry) must not overwrite the first.
  auto again = Executions().Finish("e1", Completed(), 8000);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_EQ(Load("e1"), done);

  auto missing = Executions().Finish("nope", Completed(), 8000);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(ExecutionStoreTest, CompileTimeRoundTripsAndIsAbsentForInterpretedRuns) {
  Put(Queued("compiled"));
  Put(Queued("interpreted"));
  ASSERT_TRUE(*Executions().MarkRunning("compiled", "w", 5000));
  ASSERT_TRUE(*Executions().MarkRunning("interpreted", "w", 5000));
  RunResult built = Completed();
  built.compile_time_ms = 2875;
  ASSERT_TRUE(*Executions().Finish("compiled", built, 9000));
  ASSERT_TRUE(*Executions().Finish("interpreted", Completed(), 9000));
  EXPECT_EQ(Load("compiled").result.compile_time_ms, 2875);
  EXPECT_EQ(Load("compiled").result.usage.wall_time_ms, 31);
  EXPECT_FALSE(Load("interpreted").result.compile_time_ms.has_value());
}

TEST_P(ExecutionStoreTest, SetPublicSharesAndRevokes) {
  Put(Queued("shared"));
  Put(Queued("other"));
  EXPECT_FALSE(Load("shared").is_public);
  auto shared = Executions().SetPublic("shared", true);
  ASSERT_TRUE(shared) << shared.error().Describe();
  EXPECT_TRUE(*shared);
  EXPECT_TRUE(Load("shared").is_public);
  EXPECT_FALSE(Load("other").is_public) << "only the one execution";
  // Setting it again is no error; a finished run keeps its flag.
  EXPECT_TRUE(*Executions().SetPublic("shared", true));
  ASSERT_TRUE(*Executions().MarkRunning("shared", "w", 5000));
  ASSERT_TRUE(*Executions().Finish("shared", Completed(), 6000));
  EXPECT_TRUE(Load("shared").is_public);
  ASSERT_TRUE(*Executions().SetPublic("shared", false));
  EXPECT_FALSE(Load("shared").is_public);
  auto missing = Executions().SetPublic("nope", true);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(ExecutionStoreTest, FinishWithANonFinalStatusIsRefused) {
  Put(Queued("e1"));
  ASSERT_TRUE(*Executions().MarkRunning("e1", "w", 5000));
  RunResult result = Completed();
  result.status = ExecutionStatus::kQueued;
  auto finished = Executions().Finish("e1", result, 7000);
  ASSERT_FALSE(finished);
  EXPECT_EQ(finished.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Load("e1").status, ExecutionStatus::kRunning);
}

TEST_P(ExecutionStoreTest, EveryTerminalStatusRoundTrips) {
  int n = 0;
  for (const ExecutionStatus status : kAllStatuses) {
    if (!IsTerminal(status)) continue;
    const std::string id = fmt::format("t{}", n++);
    Put(Queued(id));
    ASSERT_TRUE(*Executions().MarkRunning(id, "w", 5000));
    RunResult result = Completed();
    result.status = status;
    ASSERT_TRUE(*Executions().Finish(id, result, 6000)) << StatusName(status);
    const Execution done = Load(id);
    EXPECT_EQ(done.status, status);
    EXPECT_EQ(done.result.status, status);
  }
}

TEST_P(ExecutionStoreTest, ListingsCutTheLargeFields) {
  Execution big = Queued("big");
  big.script = std::string(5000, 's');
  big.stdin_data = "input";
  Put(big);
  ASSERT_TRUE(*Executions().MarkRunning("big", "w", 5000));
  RunResult result = Completed();
  result.stdout_text = std::string(3000, 'o');
  result.stderr_text = std::string(10, 'e');
  ASSERT_TRUE(*Executions().Finish("big", result, 6000));
  ExecutionQuery query;
  query.with_output = false;
  auto page = Executions().List(query);
  ASSERT_TRUE(page) << page.error().Describe();
  ASSERT_EQ(page->items.size(), 1u);
  const Execution& listed = page->items[0];
  EXPECT_EQ(listed.script, "");
  EXPECT_EQ(listed.stdin_data, "");
  EXPECT_EQ(listed.result.stdout_text, std::string(kListedOutputBytes, 'o'));
  EXPECT_EQ(listed.result.stderr_text, std::string(10, 'e'));
  EXPECT_EQ(listed.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(listed.finished_at_ms, 6000);
  query.with_output = true;
  EXPECT_EQ(Executions().List(query)->items[0].result.stdout_text.size(), 3000u);

  // Empty fields (a queued run without stdin or output yet) come back empty, not NULL.
  Put(Queued("empty"));
  query.with_output = false;
  auto both = Executions().List(query);
  ASSERT_TRUE(both) << both.error().Describe();
  ASSERT_EQ(both->items.size(), 2u);
}

TEST_P(ExecutionStoreTest, RequeueHandsARunningExecutionBackWithItsAttempt) {
  Put(Queued("stopped"));
  Put(Queued("done"));
  ASSERT_TRUE(*Executions().MarkRunning("stopped", "w1", 5000));
  ASSERT_TRUE(*Executions().MarkRunning("done", "w1", 5000));
  ASSERT_TRUE(*Executions().Finish("done", Completed(), 6000));

  auto requeued = Executions().Requeue("stopped");
  ASSERT_TRUE(requeued) << requeued.error().Describe();
  EXPECT_TRUE(*requeued);
  const Execution e = Load("stopped");
  EXPECT_EQ(e.status, ExecutionStatus::kQueued);
  EXPECT_EQ(e.attempts, 0);
  EXPECT_EQ(e.worker_id, "");
  EXPECT_FALSE(e.started_at_ms.has_value());
  // Only a running execution goes back; a queued or finished one stays as it is.
  EXPECT_FALSE(*Executions().Requeue("stopped"));
  EXPECT_FALSE(*Executions().Requeue("done"));
  EXPECT_EQ(Load("done").status, ExecutionStatus::kCompleted);
  EXPECT_FALSE(Executions().Requeue("nope").has_value());
  // And it can run again.
  EXPECT_TRUE(*Executions().MarkRunning("stopped", "w2", 7000));
  EXPECT_EQ(Load("stopped").attempts, 1);
}

TEST_P(ExecutionStoreTest, CancelStopsQueuedAndRunningButNotFinished) {
  Put(Queued("queued"));
  Put(Queued("running"));
  Put(Queued("finished"));
  ASSERT_TRUE(*Executions().MarkRunning("running", "w", 5000));
  ASSERT_TRUE(*Executions().MarkRunning("finished", "w", 5000));
  ASSERT_TRUE(*Executions().Finish("finished", Completed(), 6000));

  for (const char* id : {"queued", "running"}) {
    auto cancelled = Executions().Cancel(id, 9000);
    ASSERT_TRUE(cancelled) << cancelled.error().Describe();
    EXPECT_TRUE(*cancelled) << id;
    const Execution e = Load(id);
    EXPECT_EQ(e.status, ExecutionStatus::kCancelled) << id;
    EXPECT_EQ(e.finished_at_ms, 9000) << id;
  }
  auto late = Executions().Cancel("finished", 9000);
  ASSERT_TRUE(late);
  EXPECT_FALSE(*late);
  EXPECT_EQ(Load("finished").status, ExecutionStatus::kCompleted);
  EXPECT_EQ(Load("finished").finished_at_ms, 6000);

  // Cancelled is terminal: no worker may start or finish it afterwards.
  EXPECT_FALSE(*Executions().MarkRunning("queued", "w", 9500));
  EXPECT_FALSE(*Executions().Finish("running", Completed(), 9500));
  EXPECT_FALSE(*Executions().Cancel("queued", 9600));
  EXPECT_EQ(Load("queued").status, ExecutionStatus::kCancelled);
  EXPECT_EQ(Load("running").status, ExecutionStatus::kCancelled);

  auto missing = Executions().Cancel("nope", 9000);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

// The guarantee workers rely on: however many try at once, one execution starts once.
TEST_P(ExecutionStoreTest, ConcurrentMarkRunningHasExactlyOneWinner) {
  constexpr int kExecutions = 10;
  constexpr int kThreads = 8;
  for (int i = 0; i < kExecutions; ++i) Put(Queued(fmt::format("race-{}", i)));

  for (int i = 0; i < kExecutions; ++i) {
    const std::string id = fmt::format("race-{}", i);
    std::latch start(kThreads);
    std::atomic<int> winners{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        auto won = Executions().MarkRunning(id, fmt::format("worker-{}", t), 5000 + t);
        if (!won) {
          ++errors;
        } else if (*won) {
          ++winners;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(errors.load(), 0) << id;
    EXPECT_EQ(winners.load(), 1) << id;
    EXPECT_EQ(Load(id).attempts, 1) << id;
  }
}

TEST_P(ExecutionStoreTest, ConcurrentFinishAndCancelHaveExactlyOneWinner) {
  constexpr int kExecutions = 10;
  for (int i = 0; i < kExecutions; ++i) {
    const std::string id = fmt::format("race-{}", i);
    Put(Queued(id));
    ASSERT_TRUE(*Executions().MarkRunning(id, "w", 5000));
    std::latch start(4);
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        auto won = t % 2 == 0 ? Executions().Finish(id, Completed(), 6000 + t)
                              : Executions().Cancel(id, 6000 + t);
        if (won && *won) ++winners;
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(winners.load(), 1) << id;
    EXPECT_TRUE(IsTerminal(Load(id).status));
  }
}

TEST_P(ExecutionStoreTest, IdempotencyKeyIsUniquePerOwner) {
  Execution first = Queued("first", 1000, 1);
  first.idempotency_key = "K";
  first.request_hash = "h1";
  Put(first);

  Execution same_key = Queued("second", 2000, 1);
  same_key.idempotency_key = "K";
  auto conflict = Executions().Insert(same_key);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(Executions().Get("second").error().code, ErrorCode::kNotFound);

  // The same key from another caller is another request.
  Execution other_owner = Queued("third", 3000, 2);
  other_owner.idempotency_key = "K";
  Put(other_owner);
  Execution anonymous = Queued("fourth", 3000, std::nullopt);
  anonymous.idempotency_key = "K";
  Put(anonymous);

  // No key: no constraint.
  Put(Queued("no-key-1", 4000, 1));
  Put(Queued("no-key-2", 4000, 1));

  auto found = Executions().FindByIdempotencyKey("user:1", "K");
  ASSERT_TRUE(found) << found.error().Describe();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, first);
  auto found_other = Executions().FindByIdempotencyKey("user:2", "K");
  ASSERT_TRUE(found_other && found_other->has_value());
  EXPECT_EQ((*found_other)->id, "third");

  auto unknown = Executions().FindByIdempotencyKey("user:1", "other");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(unknown->has_value());
  auto empty = Executions().FindByIdempotencyKey("user:1", "");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->has_value());
}

TEST_P(ExecutionStoreTest, ConcurrentInsertsWithOneKeyLeaveOneExecution) {
  constexpr int kThreads = 6;
  std::latch start(kThreads);
  std::atomic<int> inserted{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Execution e = Queued(fmt::format("try-{}", t), 1000 + t, 1);
      e.idempotency_key = "same";
      start.arrive_and_wait();
      auto status = Executions().Insert(e);
      if (status) {
        ++inserted;
      } else if (status.error().code == ErrorCode::kAlreadyExists) {
        ++conflicts;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(inserted.load(), 1);
  EXPECT_EQ(conflicts.load(), kThreads - 1);
}

// Checks List against the same filter and order computed here from the inserted rows.
TEST_P(ExecutionStoreTest, ListPagesNewestFirstWithFilters) {
  std::vector<Execution> all;
  for (int i = 0; i < 30; ++i) {
    Execution e = Queued(fmt::format("id-{:02}", i), 1000 + i * 10, i < 24 ? 1 : 2);
    e.language = i % 2 == 0 ? "python" : "node";
    if (i % 3 == 0) e.status = ExecutionStatus::kCompleted;
    all.push_back(e);
  }
  // Two with the same creation time: ordered by id, descending.
  all[5].created_at_ms = all[4].created_at_ms;
  for (const Execution& e : all) Put(e);

  auto expect_page = [&](const ExecutionQuery& query) {
    std::vector<Execution> matching;
    for (const Execution& e : all) {
      if (query.owner_id && e.owner_id != query.owner_id) continue;
      if (query.status && e.status != *query.status) continue;
      if (query.language && e.language != *query.language) continue;
      matching.push_back(e);
    }
    std::sort(matching.begin(), matching.end(), [](const Execution& a, const Execution& b) {
      if (a.created_at_ms != b.created_at_ms) return a.created_at_ms > b.created_at_ms;
      return a.id > b.id;
    });
    std::vector<std::string> expected;
    for (std::size_t i = query.offset; i < matching.size() && expected.size() < query.limit; ++i) {
      expected.push_back(matching[i].id);
    }
    auto page = Executions().List(query);
    ASSERT_TRUE(page) << page.error().Describe();
    EXPECT_EQ(page->total, matching.size());
    std::vector<std::string> got;
    for (const Execution& e : page->items) got.push_back(e.id);
    EXPECT_EQ(got, expected) << "owner " << query.owner_id.value_or(-1) << " offset "
                             << query.offset << " limit " << query.limit;
  };

  ExecutionQuery query;
  query.owner_id = 1;
  query.limit = 10;
  for (query.offset = 0; query.offset <= 30; query.offset += 10) expect_page(query);

  query.offset = 0;
  query.limit = 100;
  query.status = ExecutionStatus::kCompleted;
  expect_page(query);
  query.language = "node";
  expect_page(query);
  query.status.reset();
  expect_page(query);
  query.owner_id.reset();  // everyone's, as an admin sees them
  expect_page(query);
  query.language.reset();
  expect_page(query);
  query.owner_id = 2;
  query.limit = 2;
  query.offset = 1;
  expect_page(query);
  query.limit = 0;
  expect_page(query);
  query.owner_id = 99;
  query.limit = 20;
  query.offset = 0;
  expect_page(query);

  // Items carry the whole record.
  ExecutionQuery one;
  one.owner_id = 2;
  one.limit = 1;
  auto page = Executions().List(one);
  ASSERT_TRUE(page && page->items.size() == 1);
  EXPECT_EQ(page->items[0], all[29]);
}

TEST_P(ExecutionStoreTest, ListQueuedIsOldestFirstAndOnlyQueued) {
  Put(Queued("late", 3000));
  Put(Queued("early", 1000));
  Put(Queued("middle", 2000));
  Put(Queued("started", 500));
  Put(Queued("cancelled", 400));
  ASSERT_TRUE(*Executions().MarkRunning("started", "w", 5000));
  ASSERT_TRUE(*Executions().Cancel("cancelled", 5000));
  auto queued = Executions().ListQueued();
  ASSERT_TRUE(queued) << queued.error().Describe();
  std::vector<std::string> ids;
  for (const Execution& e : *queued) ids.push_back(e.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"early", "middle", "late"}));
}

TEST_P(ExecutionStoreTest, RecoverInterruptedRequeuesOnceThenFails) {
  Put(Queued("fresh"));
  Put(Queued("second-try"));
  Put(Queued("still-queued"));
  Put(Queued("done"));
  // second-try crashed once already: an earlier recovery requeued it, it started again.
  ASSERT_TRUE(*Executions().MarkRunning("second-try", "dead-worker", 5000));
  auto earlier = Executions().RecoverInterrupted(2, "unused", 5500);
  ASSERT_TRUE(earlier) << earlier.error().Describe();
  EXPECT_EQ(earlier->requeued, (std::vector<std::string>{"second-try"}));
  EXPECT_TRUE(earlier->failed.empty());
  ASSERT_TRUE(*Executions().MarkRunning("second-try", "dead-worker", 6000));
  ASSERT_EQ(Load("second-try").attempts, 2);
  ASSERT_TRUE(*Executions().MarkRunning("fresh", "dead-worker", 6500));
  ASSERT_TRUE(*Executions().MarkRunning("done", "w", 5000));
  ASSERT_TRUE(*Executions().Finish("done", Completed(), 5100));

  auto report = Executions().RecoverInterrupted(2, "the worker stopped unexpectedly", 7000);
  ASSERT_TRUE(report) << report.error().Describe();
  EXPECT_EQ(report->requeued, (std::vector<std::string>{"fresh"}));
  EXPECT_EQ(report->failed, (std::vector<std::string>{"second-try"}));

  const Execution requeued = Load("fresh");
  EXPECT_EQ(requeued.status, ExecutionStatus::kQueued);
  EXPECT_EQ(requeued.attempts, 1);
  EXPECT_EQ(requeued.worker_id, "");
  EXPECT_FALSE(requeued.started_at_ms.has_value());
  EXPECT_FALSE(requeued.finished_at_ms.has_value());

  const Execution failed = Load("second-try");
  EXPECT_EQ(failed.status, ExecutionStatus::kError);
  EXPECT_EQ(failed.result.status, ExecutionStatus::kError);
  EXPECT_EQ(failed.result.message, "the worker stopped unexpectedly");
  EXPECT_EQ(failed.finished_at_ms, 7000);
  EXPECT_EQ(failed.attempts, 2);

  EXPECT_EQ(Load("still-queued").status, ExecutionStatus::kQueued);
  EXPECT_EQ(Load("done").status, ExecutionStatus::kCompleted);
  EXPECT_EQ(Load("done").result.message, "");

  // Nothing is left running, so a second recovery has nothing to do.
  auto again = Executions().RecoverInterrupted(2, "again", 8000);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->requeued.empty());
  EXPECT_TRUE(again->failed.empty());
}

TEST_P(ExecutionStoreTest, DeleteFinishedBeforeKeepsRecentAndUnfinished) {
  Put(Queued("old-done"));
  Put(Queued("old-cancelled"));
  Put(Queued("new-done"));
  Put(Queued("old-queued", 10));
  Put(Queued("old-running", 10));
  for (const char* id : {"old-done", "new-done", "old-running"}) {
    ASSERT_TRUE(*Executions().MarkRunning(id, "w", 100));
  }
  ASSERT_TRUE(*Executions().Finish("old-done", Completed(), 1000));
  ASSERT_TRUE(*Executions().Cancel("old-cancelled", 1500));
  ASSERT_TRUE(*Executions().Finish("new-done", Completed(), 5000));

  auto deleted = Executions().DeleteFinishedBefore(2000);
  ASSERT_TRUE(deleted) << deleted.error().Describe();
  EXPECT_EQ(*deleted, 2u);
  EXPECT_EQ(Executions().Get("old-done").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Executions().Get("old-cancelled").error().code, ErrorCode::kNotFound);
  for (const char* id : {"new-done", "old-queued", "old-running"}) {
    EXPECT_TRUE(Executions().Get(id)) << id;
  }
  // The cutoff is exclusive.
  auto none = Executions().DeleteFinishedBefore(5000);
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0u);
}

TEST_P(ExecutionStoreTest, DeleteFinishedBeforeCanTakeOnlyAnonymousOnes) {
  Put(Queued("mine", 1000, 7));
  Put(Queued("anonymous", 1000, std::nullopt));
  for (const char* id : {"mine", "anonymous"}) {
    ASSERT_TRUE(*Executions().MarkRunning(id, "w", 100));
    ASSERT_TRUE(*Executions().Finish(id, Completed(), 1000));
  }
  auto deleted = Executions().DeleteFinishedBefore(2000, /*anonymous_only=*/true);
  ASSERT_TRUE(deleted) << deleted.error().Describe();
  EXPECT_EQ(*deleted, 1u);
  EXPECT_EQ(Executions().Get("anonymous").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(Executions().Get("mine"));
}

TEST_P(ExecutionStoreTest, DeleteTakesOnlyFinishedExecutions) {
  Put(Queued("done"));
  Put(Queued("waiting"));
  ASSERT_TRUE(*Executions().MarkRunning("done", "w", 100));
  ASSERT_TRUE(*Executions().Finish("done", Completed(), 1000));
  ASSERT_EQ(Unwrap(Executions().Delete("done")), "");
  EXPECT_EQ(Executions().Get("done").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Executions().Delete("done").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Executions().Delete("waiting").error().code, ErrorCode::kConflict);
  EXPECT_TRUE(Executions().Get("waiting"));
}

TEST_P(ExecutionStoreTest, UsageCountsRowsAndTheirUserBytesPerOwnerKey) {
  auto empty = Executions().UsageOf("user:7");
  ASSERT_TRUE(empty) << empty.error().Describe();
  EXPECT_EQ(empty->count, 0u);
  EXPECT_EQ(empty->bytes, 0u);

  Execution queued = Queued("q", 1000, 7);
  queued.script = std::string("print(1)\0", 10);
  queued.stdin_data = "12345";
  Put(queued);
  Execution done = Queued("d", 1000, 7);
  Put(done);
  ASSERT_TRUE(*Executions().MarkRunning("d", "w", 100));
  RunResult result = Completed();
  result.stdout_text = std::string(3000, 'o');
  result.stderr_text = std::string(200, 'e');
  ASSERT_TRUE(*Executions().Finish("d", result, 1000));
  Put(Queued("other-owner", 1000, 8));
  Put(Queued("anonymous", 1000, std::nullopt));

  auto mine = Executions().UsageOf("user:7");
  ASSERT_TRUE(mine) << mine.error().Describe();
  EXPECT_EQ(mine->count, 2u);
  EXPECT_EQ(mine->bytes, 10u + 5u + done.script.size() + 3000u + 200u);
  auto anonymous = Executions().UsageOf("ip:127.0.0.1");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->count, 1u);
  EXPECT_EQ(anonymous->bytes, Queued("x").script.size());
}

TEST_P(ExecutionStoreTest, CountByStatusCoversEveryStatus) {
  Put(Queued("q1"));
  Put(Queued("q2"));
  Put(Queued("r1"));
  Put(Queued("c1"));
  ASSERT_TRUE(*Executions().MarkRunning("r1", "w", 100));
  ASSERT_TRUE(*Executions().Cancel("c1", 100));
  auto counts = Executions().CountByStatus();
  ASSERT_TRUE(counts) << counts.error().Describe();
  EXPECT_EQ(counts->size(), std::size(kAllStatuses));
  EXPECT_EQ(counts->at(ExecutionStatus::kQueued), 2u);
  EXPECT_EQ(counts->at(ExecutionStatus::kRunning), 1u);
  EXPECT_EQ(counts->at(ExecutionStatus::kCancelled), 1u);
  EXPECT_EQ(counts->at(ExecutionStatus::kCompleted), 0u);
}

// Writers and readers from many threads at once: every call succeeds (no "database is
// locked" surfacing to callers) and nothing is lost.
TEST_P(ExecutionStoreTest, ManyThreadsReadAndWriteWithoutErrors) {
  constexpr int kThreads = 6;
  constexpr int kPerThread = 30;
  std::latch start(kThreads);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = fmt::format("t{}-{}", t, i);
        if (!Executions().Insert(Queued(id, 1000 + i, t))) ++errors;
        auto running = Executions().MarkRunning(id, "w", 2000);
        if (!running || !*running) ++errors;
        if (!Executions().Get(id)) ++errors;
        ExecutionQuery query;
        query.owner_id = t;
        auto page = Executions().List(query);
        if (!page || page->total != static_cast<std::size_t>(i + 1)) ++errors;
        auto finished = Executions().Finish(id, Completed(), 3000);
        if (!finished || !*finished) ++errors;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  auto counts = Executions().CountByStatus();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->at(ExecutionStatus::kCompleted),
            static_cast<std::size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace integr8scode
