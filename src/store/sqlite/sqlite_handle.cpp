#include "store/sqlite/sqlite_handle.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <string_view>
#include <utility>

namespace integr8scode {

Error SqliteError(sqlite3* db, int rc, std::string_view context) {
  ErrorCode code = ErrorCode::kInternal;
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        code = ErrorCode::kAlreadyExists;
      } else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        code = ErrorCode::kNotFound;
      }
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOTADB:
      code = ErrorCode::kUnavailable;
      break;
    default:
      break;
  }
  // errmsg describes the connection's last failure, which is the one being reported
  // whenever a connection is given; without one only the generic text is known.
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  Error error = MakeError(code, fmt::format("{}: {}", context, detail));
  if (db != nullptr && (code == ErrorCode::kUnavailable)) {
    error.sys_errno = sqlite3_system_errno(db);
  }
  return error;
}

// ---- SqliteStatement ----

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      statement_(std::exchange(other.statement_, nullptr)) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(statement_);
    db_ = std::exchange(other.db_, nullptr);
    statement_ = std::exchange(other.statement_, nullptr);
  }
  return *this;
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(statement_); }

Status SqliteStatement::Check(int rc, std::string_view what) const {
  if (rc == SQLITE_OK) return {};
  return Fail(SqliteError(db_, rc, what));
}

Status SqliteStatement::BindNull(int index) {
  return Check(sqlite3_bind_null(statement_, index), "bind null");
}

Status SqliteStatement::BindInt(int index, std::int64_t value) {
  return Check(sqlite3_bind_int64(statement_, index, value), "bind integer");
}

Status SqliteStatement::BindText(int index, std::string_view value) {
  return Check(sqlite3_bind_text64(statement_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                   SQLITE_UTF8),
               "bind text");
}

Status SqliteStatement::BindBlob(int index, std::string_view value) {
  // A zero-length blob needs a non-null pointer, or SQLite binds NULL instead.
  static constexpr char kEmpty = 0;
  const char* data = value.empty() ? &kEmpty : value.data();
  return Check(sqlite3_bind_blob64(statement_, index, data, value.size(), SQLITE_TRANSIENT),
               "bind blob");
}

int SqliteStatement::ParameterCount() const { return sqlite3_bind_parameter_count(statement_); }

std::string_view SqliteStatement::ParameterName(int index) const {
  const char* name = sqlite3_bind_parameter_name(statement_, index);
  return name != nullptr ? std::string_view(name) : std::string_view();
}

Result<bool> SqliteStatement::Step() {
  const int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail(SqliteError(db_, rc, "run statement"));
}

int SqliteStatement::ColumnCount() const { return sqlite3_column_count(statement_); }

bool SqliteStatement::ColumnIsNull(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

std::int64_t SqliteStatement::ColumnInt(int column) const {
  return sqlite3_column_int64(statement_, column);
}

std::string SqliteStatement::ColumnBytes(int column) const {
  // Per the SQLite docs, call the pointer function first, then the size.
  const void* data = sqlite3_column_blob(statement_, column);
  const int size = sqlite3_column_bytes(statement_, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

SqlValue SqliteStatement::Column(int column) const {
  switch (sqlite3_column_type(statement_, column)) {
    case SQLITE_NULL:
      return std::monostate{};
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
      return ColumnInt(column);
    default:
      return ColumnBytes(column);
  }
}

void SqliteStatement::Reset() {
  // sqlite3_reset repeats the last step's error, which was already reported.
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

// ---- SqliteDatabase ----

SqliteDatabase::SqliteDatabase(SqliteDatabase&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)) {}

SqliteDatabase& SqliteDatabase::operator=(SqliteDatabase&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

SqliteDatabase::~SqliteDatabase() {
  // close_v2 defers the close until every statement is finalized, so the order in
  // which a connection and its cached statements are destroyed does not matter.
  sqlite3_close_v2(db_);
}

Result<SqliteDatabase> SqliteDatabase::Open(const std::string& path, const OpenOptions& options) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (options.create) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // Even a failed open may allocate a handle, which carries the message.
  SqliteDatabase db(raw);
  if (rc != SQLITE_OK) {
    return Fail(SqliteError(raw, rc, fmt::format("open SQLite database {}", path)));
  }
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  return db;
}

Status SqliteDatabase::Exec(std::string_view sql) {
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Fail(SqliteError(db_, rc, "execute SQL"));
  return {};
}

Result<SqliteStatement> SqliteDatabase::Prepare(std::string_view sql, bool persistent) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    persistent ? SQLITE_PREPARE_PERSISTENT : 0, &raw, &tail);
  SqliteStatement statement(db_, raw);
  if (rc != SQLITE_OK) return Fail(SqliteError(db_, rc, "prepare SQL"));
  if (raw == nullptr) return Fail(ErrorCode::kInternal, "prepare SQL: no statement in the text");
  const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
  if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    return Fail(ErrorCode::kInternal, "prepare SQL: more than one statement in the text");
  }
  return statement;
}

std::int64_t SqliteDatabase::Changes() const { return sqlite3_changes64(db_); }

// ---- SqliteTransaction ----

SqliteTransaction::SqliteTransaction(SqliteTransaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)) {}

SqliteTransaction::~SqliteTransaction() {
  // Some failures (I/O, a full disk) already rolled the transaction back; then there
  // is nothing left to undo.
  if (db_ != nullptr && sqlite3_get_autocommit(db_->Handle()) == 0) {
    IgnoreResult(db_->Exec("ROLLBACK"),
                 "a failed ROLLBACK leaves nothing committed, and a destructor cannot report it");
  }
}

Result<SqliteTransaction> SqliteTransaction::Begin(SqliteDatabase& db, Kind kind) {
  if (Status begun = db.Exec(kind == Kind::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN"); !begun) {
    return Fail(std::move(begun).error().WithContext("begin transaction"));
  }
  return SqliteTransaction(&db);
}

Status SqliteTransaction::Commit() {
  if (Status committed = db_->Exec("COMMIT"); !committed) {
    return Fail(std::move(committed).error().WithContext("commit"));
  }
  db_ = nullptr;
  return {};
}

}  // namespace integr8scode
