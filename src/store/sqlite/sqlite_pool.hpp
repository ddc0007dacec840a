#pragma once

#include <memory>
#include <string>

#include "common/error.hpp"
#include "store/sql_database.hpp"

namespace integr8scode {

// The SQLite SqlDatabase: WAL mode, one writer connection through which every write
// transaction is serialized (so writers queue on a mutex instead of spinning on
// SQLITE_BUSY), and `options.pool_size` reader connections that run in parallel with
// it. Foreign keys on, synchronous=NORMAL (durable at checkpoints, never corrupt),
// busy_timeout for locks held by other processes on the same file.
// `path` ":memory:" gives a private in-memory database served by the writer alone.
// The file and its -wal/-shm are created (or tightened to) 0600 whatever the umask.
// kUnavailable when the file cannot be opened, created or made private (another user's).
[[nodiscard]] Result<std::shared_ptr<SqlDatabase>> OpenSqlitePool(const std::string& path,
                                                                  const StoreOptions& options);

}  // namespace integr8scode
