#include "store_fixture.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>

namespace integr8scode {

namespace fs = std::filesystem;

std::string BackendName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

std::string Unwrap(const Status& status) {
  if (status) return "";
  return fmt::format("{} ({})", status.error().Describe(), ErrorCodeName(status.error().code));
}

User MakeUser(const std::string& username, std::int64_t created_at_ms) {
  User user;
  user.username = username;
  user.email = username + "@example.org";
  user.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
  user.role = Role::kUser;
  user.created_at_ms = created_at_ms;
  return user;
}

void StoreTest::SetUp() {
  if (IsPostgres()) {
    const char* base = std::getenv(kPostgresUrlVariable);
    if (base == nullptr || *base == '\0') {
      GTEST_SKIP() << kPostgresUrlVariable
                   << " is not set; start a server with scripts/postgres-test and export the URL"
                      " it prints to run the PostgreSQL cases";
    }
    admin_url_ = base;
    // Unique across processes (ctest runs tests in parallel) and within this one.
    static std::atomic<int> counter{0};
    std::random_device random;
    schema_ = fmt::format("i8s_test_{}_{}_{:08x}", ::getpid(), counter++, random());
    StoreOptions options;
    options.pool_size = 1;
    auto admin = OpenSqlDatabase(admin_url_, options);
    ASSERT_TRUE(admin) << admin.error().Describe();
    ASSERT_EQ(Unwrap((*admin)->Transact(
                  TxMode::kWrite,
                  [&](SqlConnection& db) { return db.ExecuteScript("CREATE SCHEMA " + schema_); })),
              "");
    url_ = fmt::format("{}{}options=-csearch_path%3D{}", admin_url_,
                       admin_url_.find('?') == std::string::npos ? '?' : '&', schema_);
  } else {
    const fs::path base = std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp";
    std::string pattern = (base / "integr8scode-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << "mkdtemp " << pattern;
    temp_dir_ = pattern;
    url_ = "sqlite://" + temp_dir_ + "/store.db";
  }
  auto opened = OpenStores(url_);
  ASSERT_TRUE(opened) << opened.error().Describe();
  stores_ = std::move(*opened);
}

void StoreTest::TearDown() {
  stores_ = Stores{};
  raw_.reset();
  if (!schema_.empty()) {
    StoreOptions options;
    options.pool_size = 1;
    auto admin = OpenSqlDatabase(admin_url_, options);
    ASSERT_TRUE(admin) << admin.error().Describe();
    EXPECT_EQ(
        Unwrap((*admin)->Transact(TxMode::kWrite,
                                  [&](SqlConnection& db) {
                                    return db.ExecuteScript("DROP SCHEMA " + schema_ + " CASCADE");
                                  })),
        "");
  }
  if (!temp_dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(temp_dir_, ignored);
  }
}

Result<Stores> StoreTest::Reopen(const StoreOptions& options) { return OpenStores(url_, options); }

std::shared_ptr<SqlDatabase> StoreTest::Raw() {
  if (!raw_) {
    auto opened = OpenSqlDatabase(url_);
    if (!opened) {
      ADD_FAILURE() << opened.error().Describe();
      return nullptr;
    }
    raw_ = *opened;
  }
  return raw_;
}

}  // namespace integr8scode
