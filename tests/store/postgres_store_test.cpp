// What only the PostgreSQL backend has to cope with: servers that drop connections or
// are not there.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "domain/cluster_queue.hpp"
#include "store_fixture.hpp"

namespace integr8scode {
namespace {

class PostgresStoreTest : public StoreTest {};

INSTANTIATE_TEST_SUITE_P(Backends, PostgresStoreTest, ::testing::Values("postgres"),
                         ::integr8scode::BackendName);

// After a server restart or a DBA's pg_terminate_backend, the pooled connections are
// dead; the next transaction must notice at BEGIN and use a fresh connection.
TEST_P(PostgresStoreTest, TerminatedConnectionsAreReplaced) {
  // A name of our own, so that only this test's connections are terminated.
  const std::string application =
      "i8s_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
      std::to_string(reinterpret_cast<std::uintptr_t>(this));
  stores_ = Stores{};
  StoreOptions options;
  options.pool_size = 2;
  auto opened = OpenStores(Url() + "&application_name=" + application, options);
  ASSERT_TRUE(opened) << opened.error().Describe();
  stores_ = std::move(*opened);
  Execution e;
  e.id = "survivor";
  e.owner_key = "ip:1";
  e.language = "python";
  e.version = "3.11";
  ASSERT_EQ(Unwrap(stores_.executions->Insert(e)), "");

  auto terminated = TransactFor<std::int64_t>(
      *Raw(), TxMode::kWrite, [&](SqlConnection& db) -> Result<std::int64_t> {
        auto rows = db.Query(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1",
            {SqlParam::Text(application)});
        if (!rows) return Fail(std::move(rows).error());
        RowReader in(rows->front());
        return in.Int();
      });
  ASSERT_TRUE(terminated) << terminated.error().Describe();
  ASSERT_GE(*terminated, 1);

  EXPECT_EQ(Unwrap(stores_.check()), "");
  auto loaded = stores_.executions->Get("survivor");
  ASSERT_TRUE(loaded) << loaded.error().Describe();
  EXPECT_EQ(*loaded, e);
}

// A single statement runs without BEGIN (TxMode::kWriteOne), so no retry at BEGIN covers
// a pooled connection the server closed: the pool must notice before using it.
TEST_P(PostgresStoreTest, TerminatedConnectionsAreReplacedBeforeASingleStatement) {
  const std::string application =
      "i8s1_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
      std::to_string(reinterpret_cast<std::uintptr_t>(this));
  stores_ = Stores{};
  StoreOptions options;
  options.pool_size = 2;
  auto opened = OpenStores(Url() + "&application_name=" + application, options);
  ASSERT_TRUE(opened) << opened.error().Describe();
  stores_ = std::move(*opened);
  auto count_backends = [&](bool terminate) {
    return TransactFor<std::int64_t>(
        *Raw(), TxMode::kWrite, [&](SqlConnection& db) -> Result<std::int64_t> {
          auto rows = db.Query(terminate ? "SELECT count(pg_terminate_backend(pid))"
                                           " FROM pg_stat_activity WHERE application_name = $1"
                                         : "SELECT count(*) FROM pg_stat_activity"
                                           " WHERE application_name = $1",
                               {SqlParam::Text(application)});
          if (!rows) return Fail(std::move(rows).error());
          RowReader in(rows->front());
          return in.Int();
        });
  };
  auto terminated = count_backends(true);
  ASSERT_TRUE(terminated) << terminated.error().Describe();
  ASSERT_GE(*terminated, 1);
  // The backends end asynchronously; once they are gone their sockets are closed.
  for (;;) {
    auto left = count_backends(false);
    ASSERT_TRUE(left) << left.error().Describe();
    if (*left == 0) break;
    std::this_thread::yield();
  }
  Execution e;
  e.id = "after-restart";
  e.owner_key = "ip:1";
  e.language = "python";
  e.version = "3.11";
  EXPECT_EQ(Unwrap(stores_.executions->Insert(e)), "");
  auto loaded = stores_.executions->Get("after-restart");
  ASSERT_TRUE(loaded) << loaded.error().Describe();
}

// Status events NOTIFY only executions an event hub records as watched.
TEST_P(PostgresStoreTest, EventsNotifyOnlyWatchedExecutions) {
  std::mutex mu;
  std::condition_variable heard_cv;
  std::vector<std::string> heard;
  bool connected = false;
  ChangeFeedCallbacks callbacks;
  callbacks.on_notify = [&](std::string_view channel, std::string_view payload) {
    if (channel != kEventsChannel) return;
    std::lock_guard lock(mu);
    heard.emplace_back(payload);
    heard_cv.notify_all();
  };
  callbacks.on_connected = [&] {
    std::lock_guard lock(mu);
    connected = true;
    heard_cv.notify_all();
  };
  auto feed = stores_.change_feed(std::move(callbacks));
  {
    std::unique_lock lock(mu);
    // Bounded only as a hang guard.
    ASSERT_TRUE(heard_cv.wait_for(lock, std::chrono::seconds(30), [&] { return connected; }));
  }
  for (const char* id : {"unwatched", "watched"}) {
    Execution e;
    e.id = id;
    e.owner_key = "ip:1";
    e.language = "python";
    e.version = "3.11";
    e.created_at_ms = 1000;
    ASSERT_EQ(Unwrap(stores_.executions->Insert(e)), "");
  }
  ASSERT_EQ(Unwrap(stores_.cluster->WatchEvents("hub-a", {"watched"}, {}, 2000)), "");
  auto claimed = stores_.cluster->Claim("worker-1", 10, 3000, 60000);
  ASSERT_TRUE(claimed) << claimed.error().Describe();
  ASSERT_EQ(claimed->size(), 2u);
  RunResult result;
  result.status = ExecutionStatus::kCompleted;
  for (const char* id : {"unwatched", "watched"}) {
    auto finished = stores_.cluster->FinishClaimed(id, "worker-1", result, 4000);
    ASSERT_TRUE(finished && *finished);
  }
  {
    // Notifications arrive in commit order: once the watched execution's second one (its
    // finish) is here, any of the claim's and of the unwatched finish would be too.
    std::unique_lock lock(mu);
    ASSERT_TRUE(heard_cv.wait_for(lock, std::chrono::seconds(30), [&] {
      return std::count(heard.begin(), heard.end(), "watched") >= 2;
    }));
    EXPECT_EQ(std::count(heard.begin(), heard.end(), "unwatched"), 0);
  }
  // Forgotten, it is not notified either; the idle sweep takes what a lost hub left.
  ASSERT_EQ(Unwrap(stores_.cluster->WatchEvents("hub-a", {}, {"watched"}, 5000)), "");
  ASSERT_EQ(Unwrap(stores_.cluster->WatchEvents("hub-b", {"unwatched"}, {}, 5000)), "");
  auto idle = stores_.cluster->DeleteIdleWatchers(6000);
  ASSERT_TRUE(idle) << idle.error().Describe();
  EXPECT_EQ(*idle, 1u);
}

// Failed logins counted by two processes add up, under the row lock.
TEST_P(PostgresStoreTest, LoginAttemptsAreSharedBetweenProcesses) {
  auto other = Reopen();
  ASSERT_TRUE(other) << other.error().Describe();
  ASSERT_TRUE(stores_.login_attempts && other->login_attempts);
  auto fail_once = [](SharedLoginAttempts& attempts, std::int64_t now) {
    return Unwrap(attempts.Update("ada\n127.0.0.1", [now](LoginAttempts& a) {
      ++a.failures;
      a.last_failure_ms = now;
      if (a.failures >= 3) a.locked_until_ms = now + 1000;
    }));
  };
  ASSERT_EQ(fail_once(*stores_.login_attempts, 100), "");
  ASSERT_EQ(fail_once(*other->login_attempts, 200), "");
  ASSERT_EQ(fail_once(*stores_.login_attempts, 300), "");
  LoginAttempts seen;
  ASSERT_EQ(
      Unwrap(other->login_attempts->Update("ada\n127.0.0.1", [&](LoginAttempts& a) { seen = a; })),
      "");
  EXPECT_EQ(seen.failures, 3);
  EXPECT_EQ(seen.last_failure_ms, 300);
  EXPECT_EQ(seen.locked_until_ms, 1300);
  // Still locked at 1200: kept; finished at 1300 + the idle time: deleted.
  auto kept = stores_.login_attempts->DeleteFinished(1200, 500);
  ASSERT_TRUE(kept) << kept.error().Describe();
  EXPECT_EQ(*kept, 0u);
  auto deleted = stores_.login_attempts->DeleteFinished(1300, 500);
  ASSERT_TRUE(deleted) << deleted.error().Describe();
  EXPECT_EQ(*deleted, 1u);
}

TEST(PostgresUnreachable, ARefusedConnectionIsUnavailable) {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  auto opened = OpenStores("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kUnavailable) << opened.error().Describe();
  EXPECT_EQ(opened.error().message.find("secret"), std::string::npos)
      << "the password leaked into: " << opened.error().message;
}

}  // namespace
}  // namespace integr8scode
