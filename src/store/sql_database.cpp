#include "store/sql_database.hpp"

#include <fmt/format.h>

#include "common/try.hpp"
#include "store/postgres/pg_pool.hpp"
#include "store/sqlite/sqlite_pool.hpp"
#include "store/store_url.hpp"

namespace integr8scode {

const SqlValue* RowReader::Next(bool nullable) {
  const std::size_t column = next_++;
  if (error_) return nullptr;
  if (column >= row_.values.size()) {
    error_ = MakeError(ErrorCode::kInternal, fmt::format("row has {} columns, column {} was read",
                                                         row_.values.size(), column));
    return nullptr;
  }
  const SqlValue& value = row_.values[column];
  if (!nullable && std::holds_alternative<std::monostate>(value)) {
    error_ = MakeError(ErrorCode::kInternal, fmt::format("column {} is unexpectedly NULL", column));
    return nullptr;
  }
  return &value;
}

std::int64_t RowReader::Int() {
  const SqlValue* value = Next(false);
  if (value == nullptr) return 0;
  if (const auto* number = std::get_if<std::int64_t>(value)) return *number;
  error_ = MakeError(ErrorCode::kInternal,
                     fmt::format("column {} holds text where a number was expected", next_ - 1));
  return 0;
}

std::optional<std::int64_t> RowReader::OptInt() {
  const SqlValue* value = Next(true);
  if (value == nullptr || std::holds_alternative<std::monostate>(*value)) return std::nullopt;
  if (const auto* number = std::get_if<std::int64_t>(value)) return *number;
  error_ = MakeError(ErrorCode::kInternal,
                     fmt::format("column {} holds text where a number was expected", next_ - 1));
  return std::nullopt;
}

std::string RowReader::Text() {
  const SqlValue* value = Next(false);
  if (value == nullptr) return {};
  if (const auto* text = std::get_if<std::string>(value)) return *text;
  error_ = MakeError(ErrorCode::kInternal,
                     fmt::format("column {} holds a number where text was expected", next_ - 1));
  return {};
}

std::optional<std::string> RowReader::OptText() {
  const SqlValue* value = Next(true);
  if (value == nullptr || std::holds_alternative<std::monostate>(*value)) return std::nullopt;
  if (const auto* text = std::get_if<std::string>(value)) return *text;
  error_ = MakeError(ErrorCode::kInternal,
                     fmt::format("column {} holds a number where text was expected", next_ - 1));
  return std::nullopt;
}

Status RowReader::Finish() const {
  if (error_) return Fail(Error(*error_).WithContext("decode row"));
  return {};
}

Result<std::shared_ptr<SqlDatabase>> OpenSqlDatabase(std::string_view url,
                                                     const StoreOptions& options) {
  StoreUrl parsed = I8C_TRY_VALUE(ParseStoreUrl(url));
  if (options.pool_size == 0) {
    return Fail(ErrorCode::kInvalidArgument, "database pool size must be at least 1");
  }
  if (parsed.kind == StoreUrl::Kind::kPostgres) return OpenPostgresPool(parsed.target, options);
  return OpenSqlitePool(parsed.target, options);
}

}  // namespace integr8scode
