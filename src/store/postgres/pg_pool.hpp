#pragma once

#include <memory>
#include <string>

#include "common/error.hpp"
#include "store/sql_database.hpp"

namespace integr8scode {

// The PostgreSQL SqlDatabase: a pool of up to `options.pool_size` libpq connections,
// opened on demand and dropped when they break (the next transaction reconnects).
// `url` is a libpq connection URL. kUnavailable when the server cannot be reached.
[[nodiscard]] Result<std::shared_ptr<SqlDatabase>> OpenPostgresPool(const std::string& url,
                                                                    const StoreOptions& options);

}  // namespace integr8scode
