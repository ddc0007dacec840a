// What only the PostgreSQL backend has to cope with: servers that drop connections or
// are not there.
#include <gtest/gtest.h>

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
