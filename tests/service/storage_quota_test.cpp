// Storage quotas and the anonymous retention through the services: real SQLite stores;
// the executor is the GatedExecutor test double (see gated_executor.hpp for why).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "gated_executor.hpp"
#include "service/services.hpp"
#include "test_support.hpp"

namespace integr8scode {
namespace {

using namespace std::chrono_literals;
using testing::Anonymous;
using testing::User;

class StorageQuotaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stores_ = testing::OpenSqliteStores(dir_.Path());
    options_.queue.workers = 1;
    options_.auth.jwt_secret = std::string(32, 's');
    options_.auth.password_hash = PasswordHashCost::Min();
    options_.now_ms = clock_.Fn();
  }
  void TearDown() override {
    executor_.ReleaseAll();
    services_.reset();
  }

  void Start() {
    Runtime python;
    python.language = "python";
    python.version = "3.11";
    python.source_file = "script.py";
    auto started = StartServices(testing::ToServiceStores(stores_), executor_,
                                 RuntimeCatalog({python}), {}, options_, nullptr);
    ASSERT_TRUE(started) << started.error().Describe();
    services_ = std::move(*started);
  }

  Result<SubmitOutcome> Submit(const Caller& caller, const std::string& script,
                               const std::string& idempotency_key = "") {
    SubmitRequest request;
    request.script = script;
    request.language = "python";
    request.version = "3.11";
    request.idempotency_key = idempotency_key;
    return services_->Executions().Submit(caller, std::move(request));
  }

  static void ExpectQuotaRefusal(const Result<SubmitOutcome>& outcome, std::string_view says) {
    ASSERT_FALSE(outcome) << "accepted beyond the quota";
    EXPECT_EQ(outcome.error().code, ErrorCode::kPermissionDenied);
    EXPECT_EQ(outcome.error().reason, "quota_exceeded");
    EXPECT_NE(outcome.error().message.find(says), std::string::npos) << outcome.error().message;
  }

  testing::TempDir dir_;
  testing::ManualClock clock_;
  Stores stores_;
  ServiceOptions options_;
  testing::GatedExecutor executor_{1};
  std::unique_ptr<Services> services_;  // after executor_: destroyed first
};

TEST_F(StorageQuotaTest, AUserKeepsAtMostTheirExecutionCount) {
  options_.quotas.executions_per_user = 3;
  Start();
  for (int i = 0; i < 3; ++i) {
    auto accepted = Submit(User(1), "print(" + std::to_string(i) + ")", "key-" + std::to_string(i));
    ASSERT_TRUE(accepted) << accepted.error().Describe();
  }
  ExpectQuotaRefusal(Submit(User(1), "print(3)"), "keeps 3 executions");
  // A replay is not a new execution; another user has a quota of their own.
  auto replay = Submit(User(1), "print(0)", "key-0");
  ASSERT_TRUE(replay) << replay.error().Describe();
  EXPECT_TRUE(replay->replayed);
  EXPECT_TRUE(Submit(User(2), "print(0)"));
  EXPECT_EQ(stores_.executions->UsageOf("user:1")->count, 3u);
}

TEST_F(StorageQuotaTest, DeletingAFinishedExecutionFreesItsPlace) {
  options_.quotas.executions_per_user = 1;
  options_.quotas.executions_per_address = 1;
  Start();
  auto mine = Submit(User(1), "print('mine')");
  auto anonymous = Submit(Anonymous("203.0.113.1"), "print('anonymous')");
  ASSERT_TRUE(mine && anonymous);
  ExpectQuotaRefusal(Submit(User(1), "print(2)"), "DELETE /api/v1/executions/{id}");
  // Not before it ends; never someone else's.
  EXPECT_EQ(services_->Executions().Delete(User(1), mine->execution.id).error().code,
            ErrorCode::kConflict);
  executor_.ReleaseAll();
  ASSERT_TRUE(testing::WaitForResult(services_->Executions(), User(1), mine->execution.id));
  ASSERT_TRUE(testing::WaitForResult(services_->Executions(), Anonymous("203.0.113.1"),
                                     anonymous->execution.id));
  EXPECT_EQ(services_->Executions().Delete(User(2), mine->execution.id).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(services_->Executions()
                .Delete(Anonymous("203.0.113.2"), anonymous->execution.id)
                .error()
                .code,
            ErrorCode::kPermissionDenied);

  ASSERT_TRUE(services_->Executions().Delete(User(1), mine->execution.id));
  EXPECT_TRUE(Submit(User(1), "print(2)"));
  ASSERT_TRUE(services_->Executions().Delete(Anonymous("203.0.113.1"), anonymous->execution.id));
  EXPECT_TRUE(Submit(Anonymous("203.0.113.1"), "print(2)"));
}

TEST_F(StorageQuotaTest, AUserKeepsAtMostTheirExecutionBytes) {
  options_.quotas.execution_bytes_per_user = 100;
  Start();
  ASSERT_TRUE(Submit(User(1), std::string(60, '#')));
  ExpectQuotaRefusal(Submit(User(1), std::string(60, '#')), "quota of 100 B");
  EXPECT_TRUE(Submit(User(1), std::string(40, '#')));
}

TEST_F(StorageQuotaTest, AnonymousRunsAreCountedPerAddress) {
  options_.quotas.executions_per_address = 2;
  options_.anonymous_retention = 24h;
  Start();
  ASSERT_TRUE(Submit(Anonymous("203.0.113.1"), "print(1)"));
  ASSERT_TRUE(Submit(Anonymous("203.0.113.1"), "print(2)"));
  const auto refused = Submit(Anonymous("203.0.113.1"), "print(3)");
  ExpectQuotaRefusal(refused, "anonymous runs from your address keep 2 executions");
  EXPECT_NE(refused.error().message.find("deleted 1 day after"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("sign in"), std::string::npos) << refused.error().message;
  EXPECT_TRUE(Submit(Anonymous("203.0.113.2"), "print(1)"));
  EXPECT_TRUE(Submit(User(1), "print(1)"));
}

TEST_F(StorageQuotaTest, ZeroTurnsACapOff) {
  options_.quotas.executions_per_address = 0;
  options_.quotas.execution_bytes_per_address = 0;
  Start();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Submit(Anonymous(), std::string(1000, '#')));
}

TEST_F(StorageQuotaTest, FinishedAnonymousRunsAreDeletedAfterTheirOwnRetention) {
  options_.anonymous_retention = 1h;
  options_.queue.retention_sweep_interval = 20ms;
  Start();
  executor_.ReleaseAll();
  auto anonymous = Submit(Anonymous(), "print('anonymous')");
  auto mine = Submit(User(1), "print('mine')");
  ASSERT_TRUE(anonymous && mine);
  ASSERT_TRUE(
      testing::WaitForResult(services_->Executions(), Anonymous(), anonymous->execution.id));
  ASSERT_TRUE(testing::WaitForResult(services_->Executions(), User(1), mine->execution.id));
  clock_.Advance(2h);
  const auto deadline = std::chrono::steady_clock::now() + testing::kPatience;
  while (stores_.executions->Get(anonymous->execution.id)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the anonymous run was never deleted";
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(stores_.executions->Get(mine->execution.id));  // queue.retention is 0: kept
}

}  // namespace
}  // namespace integr8scode
