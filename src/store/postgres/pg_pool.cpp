#include "store/postgres/pg_pool.hpp"

namespace integr8scode {

Result<std::shared_ptr<SqlDatabase>> OpenPostgresPool(const std::string&, const SqlOptions&) {
  return Fail(ErrorCode::kUnavailable, "PostgreSQL support is not built yet");
}

}  // namespace integr8scode
