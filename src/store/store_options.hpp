#pragma once

#include <cstddef>

namespace integr8scode {

// Pool sizes and waits of a store's database; the defaults suit one server process. The
// one definition: OpenStores and the SQL layer under it both take this.
struct StoreOptions {
  // SQLite: reader connections beside the single writer. PostgreSQL: most connections.
  std::size_t pool_size = 4;
  // SQLite: how long a statement waits for a lock another process holds on the file.
  int busy_timeout_ms = 5000;
  // PostgreSQL: connect timeout in seconds, unless the URL sets connect_timeout.
  int connect_timeout_s = 5;

  friend bool operator==(const StoreOptions&, const StoreOptions&) = default;
};

}  // namespace integr8scode
