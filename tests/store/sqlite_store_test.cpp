// What only the SQLite backend promises: the file settings and the open errors.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "store/open_store.hpp"
#include "store/sql_database.hpp"

namespace integr8scode {
namespace {

namespace fs = std::filesystem;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path base = std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp";
    std::string pattern = (base / "integr8scode-sqlite-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string Text(SqlDatabase& db, TxMode mode, const std::string& sql) {
    auto value = TransactFor<std::string>(db, mode, [&](SqlConnection& c) -> Result<std::string> {
      auto rows = c.Query(sql);
      if (!rows) return Fail(std::move(rows).error());
      const SqlValue& v = rows->front().values.front();
      if (const auto* text = std::get_if<std::string>(&v)) return *text;
      if (const auto* number = std::get_if<std::int64_t>(&v)) return std::to_string(*number);
      return std::string("NULL");
    });
    EXPECT_TRUE(value) << sql << ": " << value.error().Describe();
    return value ? *value : "";
  }

  fs::path dir_;
};

TEST_F(SqliteStoreTest, ConnectionsUseWalForeignKeysAndNormalSync) {
  const std::string url = "sqlite://" + (dir_ / "a.db").string();
  auto stores = OpenStores(url);
  ASSERT_TRUE(stores) << stores.error().Describe();
  EXPECT_EQ(stores->backend, "sqlite");
  auto db = OpenSqlDatabase(url);
  ASSERT_TRUE(db);
  for (const TxMode mode : {TxMode::kRead, TxMode::kWrite}) {
    EXPECT_EQ(Text(**db, mode, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(Text(**db, mode, "PRAGMA foreign_keys"), "1");
  }
  EXPECT_EQ(Text(**db, TxMode::kWrite, "PRAGMA synchronous"), "1");  // NORMAL
  EXPECT_TRUE(fs::exists(dir_ / "a.db"));
}

TEST_F(SqliteStoreTest, DatabaseFilesArePrivateWhateverTheUmask) {
  const mode_t old_umask = ::umask(0);
  const fs::path path = dir_ / "private.db";
  {
    auto stores = OpenStores("sqlite://" + path.string());
    ASSERT_TRUE(stores) << stores.error().Describe();
    ASSERT_TRUE(stores->check());
  }
  // A file left readable by an older start (and its WAL) is tightened at the next open.
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  { std::ofstream(path.string() + "-wal"); }
  ASSERT_EQ(::chmod((path.string() + "-wal").c_str(), 0644), 0);
  auto stores = OpenStores("sqlite://" + path.string());
  ::umask(old_umask);
  ASSERT_TRUE(stores) << stores.error().Describe();
  ASSERT_TRUE(stores->check());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string file = path.string() + suffix;
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
}

TEST_F(SqliteStoreTest, ReadTransactionsCannotWrite) {
  auto db = OpenSqlDatabase("sqlite://" + (dir_ / "a.db").string());
  ASSERT_TRUE(db);
  auto written = (*db)->Transact(TxMode::kRead, [](SqlConnection& c) -> Status {
    auto created = c.Execute("CREATE TABLE t (x INTEGER)");
    if (!created) return Fail(std::move(created).error());
    return {};
  });
  EXPECT_FALSE(written);
}

TEST_F(SqliteStoreTest, APlainPathAndARelativeUrlNameFiles) {
  auto plain = OpenStores((dir_ / "plain.db").string());
  ASSERT_TRUE(plain) << plain.error().Describe();
  EXPECT_TRUE(fs::exists(dir_ / "plain.db"));
}

TEST_F(SqliteStoreTest, AMissingDirectoryIsUnavailable) {
  auto opened = OpenStores("sqlite://" + (dir_ / "no" / "such" / "dir.db").string());
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kUnavailable) << opened.error().Describe();
}

TEST_F(SqliteStoreTest, AFileThatIsNotADatabaseIsUnavailable) {
  const fs::path path = dir_ / "garbage.db";
  {
    FILE* file = std::fopen(path.c_str(), "we");
    ASSERT_NE(file, nullptr);
    std::fputs("this is not an SQLite file, just some text that is long enough........\n", file);
    for (int i = 0; i < 64; ++i) std::fputs("0123456789abcdef0123456789abcdef\n", file);
    std::fclose(file);
  }
  auto opened = OpenStores(path.string());
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kUnavailable) << opened.error().Describe();
}

TEST_F(SqliteStoreTest, InMemoryDatabaseWorksThroughOneConnection) {
  auto stores = OpenStores("sqlite::memory:");
  ASSERT_TRUE(stores) << stores.error().Describe();
  Execution e;
  e.id = "m1";
  e.owner_key = "ip:1";
  e.language = "python";
  e.version = "3.11";
  ASSERT_TRUE(stores->executions->Insert(e));
  auto loaded = stores->executions->Get("m1");
  ASSERT_TRUE(loaded) << loaded.error().Describe();
  EXPECT_EQ(*loaded, e);
}

}  // namespace
}  // namespace integr8scode
