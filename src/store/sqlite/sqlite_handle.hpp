#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "store/sql_database.hpp"

// sqlite3.h stays inside store/sqlite/*.cpp.
struct sqlite3;
struct sqlite3_stmt;

namespace integr8scode {

// A thin RAII layer over the sqlite3 C API. Each object is move-only and owned by
// one thread at a time (connections are opened in SQLite's multi-thread mode: the
// pool, not SQLite, keeps a connection on one thread). Errors map SQLite's result
// codes onto ErrorCode (SqliteError below).

// A prepared statement: finalized on destruction.
class SqliteStatement {
 public:
  SqliteStatement() = default;
  SqliteStatement(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  ~SqliteStatement();

  // Parameters are numbered from 1. Text and blob bytes are copied by SQLite.
  [[nodiscard]] Status BindNull(int index);
  [[nodiscard]] Status BindInt(int index, std::int64_t value);
  [[nodiscard]] Status BindText(int index, std::string_view value);
  [[nodiscard]] Status BindBlob(int index, std::string_view value);
  int ParameterCount() const;
  // "$1" for the placeholder `$1`; empty for an anonymous `?`.
  std::string_view ParameterName(int index) const;

  // Runs one step: true when a row is ready to be read, false when done.
  [[nodiscard]] Result<bool> Step();

  // Columns are numbered from 0 and valid after Step() returned true.
  int ColumnCount() const;
  bool ColumnIsNull(int column) const;
  std::int64_t ColumnInt(int column) const;
  // Text or blob bytes, NUL included.
  std::string ColumnBytes(int column) const;
  // Whatever the column holds, as an owned value.
  SqlValue Column(int column) const;

  // Ready to run again, bindings cleared.
  void Reset();

 private:
  Status Check(int rc, std::string_view what) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* statement_ = nullptr;
};

// One connection: closed on destruction.
class SqliteDatabase {
 public:
  struct OpenOptions {
    bool create = true;
    int busy_timeout_ms = 5000;
  };

  SqliteDatabase() = default;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;
  SqliteDatabase(SqliteDatabase&& other) noexcept;
  SqliteDatabase& operator=(SqliteDatabase&& other) noexcept;
  ~SqliteDatabase();

  // kUnavailable when the file cannot be opened or created.
  [[nodiscard]] static Result<SqliteDatabase> Open(const std::string& path,
                                                   const OpenOptions& options);

  // Runs statements without parameters, e.g. a migration script or a PRAGMA.
  [[nodiscard]] Status Exec(std::string_view sql);
  // `persistent`: the statement will be kept and reused (SQLITE_PREPARE_PERSISTENT).
  [[nodiscard]] Result<SqliteStatement> Prepare(std::string_view sql, bool persistent);
  // Rows changed by the last INSERT, UPDATE or DELETE.
  std::int64_t Changes() const;

  sqlite3* Handle() const { return db_; }

 private:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}

  sqlite3* db_ = nullptr;
};

// A transaction on one connection: rolled back on destruction unless committed.
class SqliteTransaction {
 public:
  enum class Kind {
    kDeferred,   // a reader: the snapshot starts at the first read
    kImmediate,  // a writer: takes the write lock now, so it never fails to upgrade later
  };

  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  SqliteTransaction(SqliteTransaction&& other) noexcept;
  SqliteTransaction& operator=(SqliteTransaction&&) = delete;
  ~SqliteTransaction();

  [[nodiscard]] static Result<SqliteTransaction> Begin(SqliteDatabase& db, Kind kind);
  [[nodiscard]] Status Commit();

 private:
  explicit SqliteTransaction(SqliteDatabase* db) : db_(db) {}

  SqliteDatabase* db_ = nullptr;  // null once committed or rolled back
};

// Maps a SQLite result code to an Error: constraint violations to kAlreadyExists or
// kNotFound, busy/locked/I-O/open failures to kUnavailable, the rest to kInternal.
// `db` (may be null) supplies the detailed message.
Error SqliteError(sqlite3* db, int rc, std::string_view context);

}  // namespace integr8scode
