#pragma once

#include <span>
#include <string_view>

#include "common/error.hpp"
#include "store/sql_database.hpp"

namespace integr8scode {

// One step of the schema, written once per dialect. Versions start at 1 and grow by
// one; a released migration is never edited, only followed by a new one.
struct Migration {
  int version = 0;
  std::string_view name;
  std::string_view sqlite_sql;
  std::string_view postgres_sql;
};

// The schema this binary knows, oldest first.
std::span<const Migration> SchemaMigrations();

// Brings the database up to the last of `migrations`: creates `schema_migrations`
// when missing and applies every pending step, recording each, all in one write
// transaction (PostgreSQL: under an advisory lock, so processes starting together
// do not race). Opening again is a no-op. Fails with kInternal, reason
// "schema_too_new", when the database records a version this binary does not know.
[[nodiscard]] Status Migrate(SqlDatabase& database, std::span<const Migration> migrations);

// The highest applied version; 0 for a database never migrated.
[[nodiscard]] Result<int> SchemaVersion(SqlDatabase& database);

}  // namespace integr8scode
