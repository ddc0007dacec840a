#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "store/open_store.hpp"
#include "store/sql_database.hpp"

namespace integr8scode {

// The environment variable naming the PostgreSQL server the suite runs against
// (scripts/postgres-test prints such a URL). Unset: the PostgreSQL cases are skipped.
inline constexpr const char* kPostgresUrlVariable = "INTEGR8SCODE_TEST_POSTGRES_URL";

// One store suite, instantiated per backend ("sqlite", "postgres"). Every test gets a
// database of its own: a new SQLite file in a new temp directory, or a new
// PostgreSQL schema (dropped afterwards), so tests neither see nor order each other.
class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;

  bool IsPostgres() const { return GetParam() == "postgres"; }
  // The URL of this test's own database.
  const std::string& Url() const { return url_; }
  // Opens the stores again on the same database, as a restarted server would.
  Result<Stores> Reopen(const StoreOptions& options = {});
  // A raw connection pool to this test's database, for looking under the stores.
  std::shared_ptr<SqlDatabase> Raw();

  Stores stores_;

 private:
  std::string url_;
  std::string temp_dir_;   // SQLite
  std::string schema_;     // PostgreSQL
  std::string admin_url_;  // PostgreSQL, without the schema option
  std::shared_ptr<SqlDatabase> raw_;
};

// "sqlite" / "postgres" as test name suffixes.
std::string BackendName(const ::testing::TestParamInfo<std::string>& info);

#define INTEGR8SCODE_INSTANTIATE_STORE_SUITE(suite)                                  \
  INSTANTIATE_TEST_SUITE_P(Backends, suite, ::testing::Values("sqlite", "postgres"), \
                           ::integr8scode::BackendName)

// Helpers that build valid records.
User MakeUser(const std::string& username, std::int64_t created_at_ms = 1000);
std::string Unwrap(const Status& status);  // "" on success, else the error for messages

}  // namespace integr8scode
