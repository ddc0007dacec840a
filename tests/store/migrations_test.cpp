#include "store/migrations.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "store_fixture.hpp"

namespace integr8scode {
namespace {

class MigrationTest : public StoreTest {
 protected:
  Result<std::int64_t> CountRows(const std::string& table) {
    return TransactFor<std::int64_t>(*Raw(), TxMode::kRead,
                                     [&](SqlConnection& db) -> Result<std::int64_t> {
                                       auto rows = db.Query("SELECT count(*) FROM " + table);
                                       if (!rows) return Fail(std::move(rows).error());
                                       RowReader in(rows->front());
                                       return in.Int();
                                     });
  }

  Status Run(const std::string& sql) {
    return Raw()->Transact(TxMode::kWrite,
                           [&](SqlConnection& db) { return db.ExecuteScript(sql); });
  }
};

INTEGR8SCODE_INSTANTIATE_STORE_SUITE(MigrationTest);

Execution Sample() {
  Execution e;
  e.id = "kept";
  e.owner_key = "ip:127.0.0.1";
  e.language = "python";
  e.version = "3.11";
  e.script = "print(1)";
  e.created_at_ms = 1000;
  return e;
}

TEST_P(MigrationTest, OpeningRecordsTheVersionAndReopeningIsANoOp) {
  const int latest = SchemaMigrations().back().version;
  auto version = SchemaVersion(*Raw());
  ASSERT_TRUE(version) << version.error().Describe();
  EXPECT_EQ(*version, latest);
  EXPECT_EQ(*CountRows("schema_migrations"), static_cast<std::int64_t>(SchemaMigrations().size()));

  ASSERT_EQ(Unwrap(stores_.executions->Insert(Sample())), "");
  stores_ = Stores{};
  for (int i = 0; i < 2; ++i) {
    auto reopened = Reopen();
    ASSERT_TRUE(reopened) << reopened.error().Describe();
    stores_ = std::move(*reopened);
  }
  EXPECT_EQ(*SchemaVersion(*Raw()), latest);
  EXPECT_EQ(*CountRows("schema_migrations"), static_cast<std::int64_t>(SchemaMigrations().size()));
  // The data survived both reopenings.
  auto kept = stores_.executions->Get("kept");
  ASSERT_TRUE(kept) << kept.error().Describe();
  EXPECT_EQ(*kept, Sample());
}

TEST_P(MigrationTest, ADatabaseFromANewerProgramIsRefusedClearly) {
  ASSERT_EQ(Unwrap(Run("INSERT INTO schema_migrations (version, name, applied_at)"
                       " VALUES (999, 'from the future', 0)")),
            "");
  stores_ = Stores{};
  auto opened = Reopen();
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kInternal);
  EXPECT_EQ(opened.error().reason, "schema_too_new");
  EXPECT_NE(opened.error().message.find("999"), std::string::npos) << opened.error().message;
  EXPECT_NE(opened.error().message.find("newer"), std::string::npos) << opened.error().message;
}

TEST_P(MigrationTest, OnlyPendingStepsRunAndAFailedStepLeavesNoTrace) {
  std::vector<Migration> steps(SchemaMigrations().begin(), SchemaMigrations().end());
  const int next = steps.back().version + 1;
  // A step that cannot run twice: were it re-applied, CREATE TABLE would fail.
  steps.push_back({next, "add notes", "CREATE TABLE notes (body TEXT NOT NULL)",
                   "CREATE TABLE notes (body TEXT NOT NULL)"});
  ASSERT_EQ(Unwrap(Migrate(*Raw(), steps)), "");
  EXPECT_EQ(*SchemaVersion(*Raw()), next);
  EXPECT_EQ(*CountRows("notes"), 0);
  ASSERT_EQ(Unwrap(Migrate(*Raw(), steps)), "");

  // A step whose second statement fails: its first statement must be undone too.
  steps.push_back({next + 1, "broken", "CREATE TABLE half (x INTEGER); SELECT * FROM nowhere",
                   "CREATE TABLE half (x INTEGER); SELECT * FROM nowhere"});
  auto broken = Migrate(*Raw(), steps);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("broken"), std::string::npos) << broken.error().message;
  EXPECT_EQ(*SchemaVersion(*Raw()), next);
  EXPECT_FALSE(CountRows("half"));

  // Steps must be numbered 1, 2, 3, …
  std::vector<Migration> gap(SchemaMigrations().begin(), SchemaMigrations().end());
  gap.push_back({next + 5, "gap", "", ""});
  EXPECT_FALSE(Migrate(*Raw(), gap));
}

std::set<int> OpenFds() {
  std::set<int> listed;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    listed.insert(std::stoi(entry.path().filename().string()));
  }
  // Without the directory's own descriptor, closed by now.
  std::set<int> open;
  for (const int fd : listed) {
    if (::fcntl(fd, F_GETFD) >= 0) open.insert(fd);
  }
  return open;
}

// The server forks sandboxes: a database file or socket inherited across exec would
// hand the user's program the whole database.
TEST_P(MigrationTest, EveryDescriptorTheStoresOpenIsCloseOnExec) {
  stores_ = Stores{};
  const std::set<int> before = OpenFds();
  auto reopened = Reopen();
  ASSERT_TRUE(reopened) << reopened.error().Describe();
  stores_ = std::move(*reopened);
  // Writes and reads, so that WAL and shared-memory files are open too.
  ASSERT_EQ(Unwrap(stores_.executions->Insert(Sample())), "");
  ASSERT_TRUE(stores_.executions->Get("kept"));
  int opened = 0;
  for (const int fd : OpenFds()) {
    if (before.contains(fd)) continue;
    const int flags = ::fcntl(fd, F_GETFD);
    ++opened;
    std::error_code ignored;
    EXPECT_TRUE(flags & FD_CLOEXEC)
        << "fd " << fd << " -> "
        << std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd), ignored);
  }
  EXPECT_GT(opened, 0);
}

TEST_P(MigrationTest, CheckAnswersWhileTheDatabaseIsUp) {
  ASSERT_TRUE(stores_.check);
  EXPECT_EQ(Unwrap(stores_.check()), "");
  EXPECT_EQ(stores_.backend, GetParam());
}

}  // namespace
}  // namespace integr8scode
