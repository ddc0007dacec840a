#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace integr8scode {

// Where the stores live, as given by `database.url`.
struct StoreUrl {
  enum class Kind { kSqlite, kPostgres };

  Kind kind = Kind::kSqlite;
  // SQLite: the file path (relative paths stay relative to the working directory) or
  // ":memory:". PostgreSQL: the URL itself, which libpq understands.
  std::string target;
};

// Accepts `sqlite:///abs/path.db`, `sqlite:relative/path.db`, `sqlite::memory:`, a plain
// file path (SQLite), and `postgres://…` / `postgresql://…`. kInvalidArgument (field
// "database.url") for anything else, with the accepted forms in the message.
Result<StoreUrl> ParseStoreUrl(std::string_view url);

// The URL with any password replaced by "***", for logs and error messages.
std::string RedactStoreUrl(std::string_view url);

}  // namespace integr8scode
