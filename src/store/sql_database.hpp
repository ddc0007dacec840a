#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/error.hpp"
#include "common/try.hpp"
#include "store/store_options.hpp"

namespace integr8scode {

// The small seam between the store logic (one implementation, store/*_store.cpp) and
// the two database engines (store/sqlite, store/postgres). The stores speak plain SQL
// that both engines accept; parameters are always bound, never spliced into the text.
//
// Placeholders are written `$1`, `$2`, … in both dialects: PostgreSQL numbers them
// natively and the SQLite adapter binds them by name, so a placeholder may repeat.

enum class SqlDialect { kSqlite, kPostgres };

// One bound parameter. Text and blob parameters only view their bytes: the caller
// keeps them alive for the duration of the call.
struct SqlParam {
  enum class Kind { kNull, kInt, kText, kBlob };

  Kind kind = Kind::kNull;
  std::int64_t int_value = 0;
  std::string_view bytes;

  static SqlParam Null() { return SqlParam{}; }
  static SqlParam Int(std::int64_t value) { return SqlParam{Kind::kInt, value, {}}; }
  static SqlParam Text(std::string_view value) { return SqlParam{Kind::kText, 0, value}; }
  // Arbitrary bytes, NUL included (stored as BLOB / BYTEA).
  static SqlParam Blob(std::string_view value) { return SqlParam{Kind::kBlob, 0, value}; }
  static SqlParam OptInt(const std::optional<std::int64_t>& value) {
    return value ? Int(*value) : Null();
  }
  static SqlParam OptText(const std::optional<std::string>& value) {
    return value ? Text(*value) : Null();
  }
};

// One column value of a result row, owned.
using SqlValue = std::variant<std::monostate, std::int64_t, std::string>;

struct SqlRow {
  std::vector<SqlValue> values;
};

// Reads a row's columns in order. A type mismatch (a bug or a foreign schema) is
// remembered and reported once by Finish(), so decoding code stays linear.
class RowReader {
 public:
  explicit RowReader(const SqlRow& row) : row_(row) {}

  std::int64_t Int();
  std::optional<std::int64_t> OptInt();
  std::string Text();
  std::optional<std::string> OptText();
  bool Bool() { return Int() != 0; }

  // kInternal naming the first bad column, or success.
  Status Finish() const;

 private:
  const SqlValue* Next(bool nullable);

  const SqlRow& row_;
  std::size_t next_ = 0;
  std::optional<Error> error_;
};

// A connection inside a transaction, lent to a unit of work. Not thread-safe; valid
// only during the call that received it. Errors follow domain/stores.hpp:
// kAlreadyExists (unique key), kNotFound (a foreign key points nowhere),
// kUnavailable (connection lost, database busy or unreachable), kInternal otherwise.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  [[nodiscard]] Result<std::vector<SqlRow>> Query(std::string_view sql,
                                                  std::initializer_list<SqlParam> params = {}) {
    return DoQuery(sql, std::span<const SqlParam>(params.begin(), params.size()));
  }
  [[nodiscard]] Result<std::vector<SqlRow>> Query(std::string_view sql,
                                                  std::span<const SqlParam> params) {
    return DoQuery(sql, params);
  }
  // Returns the number of rows changed.
  [[nodiscard]] Result<std::int64_t> Execute(std::string_view sql,
                                             std::initializer_list<SqlParam> params = {}) {
    return DoExecute(sql, std::span<const SqlParam>(params.begin(), params.size()));
  }
  [[nodiscard]] Result<std::int64_t> Execute(std::string_view sql,
                                             std::span<const SqlParam> params) {
    return DoExecute(sql, params);
  }
  // Several statements without parameters (migrations).
  [[nodiscard]] virtual Status ExecuteScript(std::string_view sql) = 0;

  virtual SqlDialect Dialect() const = 0;

 protected:
  virtual Result<std::vector<SqlRow>> DoQuery(std::string_view sql,
                                              std::span<const SqlParam> params) = 0;
  virtual Result<std::int64_t> DoExecute(std::string_view sql,
                                         std::span<const SqlParam> params) = 0;
};

enum class TxMode {
  kRead,   // a consistent snapshot; may run in parallel with other reads and a write
  kWrite,  // changes; serialized per row (PostgreSQL) or per database (SQLite)
  // A change made by exactly one statement: PostgreSQL runs it in its own implicit
  // transaction, one round trip instead of BEGIN, statement, COMMIT. SQLite: as kWrite.
  kWriteOne,
};

// A pool of connections to one database. Thread-safe; shared by the stores.
class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;

  // Runs `work` in one transaction on a pooled connection: committed when `work`
  // succeeds, rolled back when it fails (its error is returned) or the commit fails.
  // `work` uses only the connection it is given and must not call Transact again
  // (on SQLite a nested write would wait for itself). Blocks while the pool is busy.
  [[nodiscard]] virtual Status Transact(TxMode mode,
                                        const std::function<Status(SqlConnection&)>& work) = 0;
  virtual SqlDialect Dialect() const = 0;
  // "sqlite" or "postgres".
  virtual std::string_view Backend() const = 0;
};

// Transact for a unit of work that produces a value.
template <class T, class Work>
[[nodiscard]] Result<T> TransactFor(SqlDatabase& database, TxMode mode, Work&& work) {
  std::optional<T> value;
  const auto keep_value = [&](SqlConnection& connection) -> Status {
    value = I8C_TRY_VALUE(work(connection));
    return {};
  };
  I8C_TRY(database.Transact(mode, keep_value));
  return std::move(*value);
}

// Opens the database a store URL names (store/store_url.hpp), without migrating.
// kInvalidArgument for a malformed URL, kUnavailable when it cannot be opened.
[[nodiscard]] Result<std::shared_ptr<SqlDatabase>> OpenSqlDatabase(
    std::string_view url, const StoreOptions& options = {});

}  // namespace integr8scode
