#include "store/sqlite/sqlite_pool.hpp"

#include <fmt/format.h>

#include <charconv>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "common/private_files.hpp"
#include "common/try.hpp"
#include "store/sqlite/sqlite_handle.hpp"

namespace integr8scode {
namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

// A connection with its prepared statements, adapted to SqlConnection.
class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(SqliteDatabase db) : db_(std::move(db)) {}

  SqliteDatabase& Database() { return db_; }

  Status ExecuteScript(std::string_view sql) override { return db_.Exec(sql); }
  SqlDialect Dialect() const override { return SqlDialect::kSqlite; }

 protected:
  Result<std::vector<SqlRow>> DoQuery(std::string_view sql,
                                      std::span<const SqlParam> params) override {
    auto statement = I8C_TRY_VALUE(Bound(sql, params));
    SqliteStatement& s = *statement;
    std::vector<SqlRow> rows;
    while (true) {
      Result<bool> step = s.Step();
      if (!step) {
        s.Reset();
        return Fail(std::move(step).error());
      }
      if (!*step) break;
      SqlRow row;
      const int columns = s.ColumnCount();
      row.values.reserve(static_cast<std::size_t>(columns));
      for (int column = 0; column < columns; ++column) row.values.push_back(s.Column(column));
      rows.push_back(std::move(row));
    }
    s.Reset();
    return rows;
  }

  Result<std::int64_t> DoExecute(std::string_view sql, std::span<const SqlParam> params) override {
    auto statement = I8C_TRY_VALUE(Bound(sql, params));
    SqliteStatement& s = *statement;
    Result<bool> step;
    do {
      step = s.Step();
    } while (step && *step);
    s.Reset();
    if (!step) return Fail(std::move(step).error());
    return db_.Changes();
  }

 private:
  // The cached statement for `sql` with `params` bound to its `$N` placeholders.
  Result<SqliteStatement*> Bound(std::string_view sql, std::span<const SqlParam> params) {
    auto found = statements_.find(sql);
    if (found == statements_.end()) {
      SqliteStatement prepared = I8C_TRY_VALUE(db_.Prepare(sql, /*persistent=*/true));
      found = statements_.emplace(std::string(sql), std::move(prepared)).first;
    }
    SqliteStatement& statement = found->second;
    const int count = statement.ParameterCount();
    for (int index = 1; index <= count; ++index) {
      const std::string_view name = statement.ParameterName(index);
      std::size_t number = 0;
      const bool numbered =
          name.size() > 1 && name[0] == '$' &&
          std::from_chars(name.data() + 1, name.data() + name.size(), number).ec == std::errc{};
      if (!numbered || number == 0 || number > params.size()) {
        statement.Reset();
        return Fail(
            ErrorCode::kInternal,
            fmt::format("SQL placeholder '{}' has no parameter ({} given)", name, params.size()));
      }
      const SqlParam& param = params[number - 1];
      Status bound;
      switch (param.kind) {
        case SqlParam::Kind::kNull:
          bound = statement.BindNull(index);
          break;
        case SqlParam::Kind::kInt:
          bound = statement.BindInt(index, param.int_value);
          break;
        case SqlParam::Kind::kText:
          bound = statement.BindText(index, param.bytes);
          break;
        case SqlParam::Kind::kBlob:
          bound = statement.BindBlob(index, param.bytes);
          break;
      }
      if (!bound) {
        statement.Reset();
        return Fail(std::move(bound).error());
      }
    }
    return &statement;
  }

  SqliteDatabase db_;
  std::unordered_map<std::string, SqliteStatement, StringHash, std::equal_to<>> statements_;
};

class SqlitePool final : public SqlDatabase {
 public:
  SqlitePool(std::unique_ptr<SqliteConnection> writer,
             std::vector<std::unique_ptr<SqliteConnection>> readers)
      : writer_(std::move(writer)), idle_readers_(std::move(readers)) {
    reader_count_ = idle_readers_.size();
  }

  ~SqlitePool() override {
    // SQLite's advice for long-lived connections: refresh the planner's statistics
    // where the queries of this session showed they would help, before closing.
    std::lock_guard lock(writer_mutex_);
    IgnoreResult(writer_->Database().Exec("PRAGMA optimize"),
                 "statistics only: the data is unaffected, and closing goes on either way");
  }

  Status Transact(TxMode mode, const std::function<Status(SqlConnection&)>& work) override {
    if (mode != TxMode::kRead || reader_count_ == 0) {
      std::lock_guard lock(writer_mutex_);
      return RunIn(*writer_, SqliteTransaction::Kind::kImmediate, work);
    }
    ReaderLease lease(*this);
    return RunIn(*lease.reader, SqliteTransaction::Kind::kDeferred, work);
  }

  SqlDialect Dialect() const override { return SqlDialect::kSqlite; }
  std::string_view Backend() const override { return "sqlite"; }

 private:
  static Status RunIn(SqliteConnection& connection, SqliteTransaction::Kind kind,
                      const std::function<Status(SqlConnection&)>& work) {
    SqliteTransaction transaction =
        I8C_TRY_VALUE(SqliteTransaction::Begin(connection.Database(), kind));
    I8C_TRY(work(connection));
    return transaction.Commit();
  }

  // A reader taken from the pool for one transaction, returned however it ends.
  struct ReaderLease {
    explicit ReaderLease(SqlitePool& owner) : pool(owner) {
      std::unique_lock lock(pool.readers_mutex_);
      pool.readers_free_.wait(lock, [&] { return !pool.idle_readers_.empty(); });
      reader = std::move(pool.idle_readers_.back());
      pool.idle_readers_.pop_back();
    }
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    ~ReaderLease() {
      {
        std::lock_guard lock(pool.readers_mutex_);
        pool.idle_readers_.push_back(std::move(reader));
      }
      pool.readers_free_.notify_one();
    }

    SqlitePool& pool;
    std::unique_ptr<SqliteConnection> reader;
  };

  std::mutex writer_mutex_;
  std::unique_ptr<SqliteConnection> writer_;  // guarded by writer_mutex_

  std::mutex readers_mutex_;
  std::condition_variable readers_free_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_readers_;  // guarded by readers_mutex_
  std::size_t reader_count_ = 0;
};

Result<std::string> QueryText(SqliteDatabase& db, std::string_view sql) {
  SqliteStatement statement = I8C_TRY_VALUE(db.Prepare(sql, /*persistent=*/false));
  bool row = I8C_TRY_VALUE(statement.Step());
  if (!row) return std::string();
  return statement.ColumnBytes(0);
}

// The database holds every password hash, script and output: 0600 whatever the umask.
// SQLite creates -wal, -shm and -journal with the main file's mode (os_unix.c,
// findCreateFileMode), so a private main file keeps them private; files left by an
// older start are tightened here too.
Status MakeDatabaseFilesPrivate(const std::string& path) {
  I8C_TRY(CreatePrivateFile(path));
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    I8C_TRY(EnsurePrivateFile(path + suffix));
  }
  return {};
}

}  // namespace

Result<std::shared_ptr<SqlDatabase>> OpenSqlitePool(const std::string& path,
                                                    const StoreOptions& options) {
  const bool in_memory = path == ":memory:";
  SqliteDatabase::OpenOptions open_options;
  open_options.busy_timeout_ms = options.busy_timeout_ms;

  if (!in_memory) {
    I8C_TRY(MakeDatabaseFilesPrivate(path));
  }
  SqliteDatabase writer = I8C_TRY_VALUE(SqliteDatabase::Open(path, open_options));
  // journal_mode=WAL is persistent in the file; the others hold per connection.
  Result<std::string> journal = QueryText(writer, "PRAGMA journal_mode=WAL");
  if (!journal) return Fail(std::move(journal).error().WithContext("enable WAL"));
  if (!in_memory && *journal != "wal") {
    Log(LogLevel::kWarn, "SQLite could not enable WAL mode; writers will block readers",
        {{"path", path}, {"journal_mode", *journal}});
  }
  I8C_TRY(writer.Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON"));

  std::vector<std::unique_ptr<SqliteConnection>> readers;
  if (!in_memory) {
    open_options.create = false;
    for (std::size_t i = 0; i < options.pool_size; ++i) {
      SqliteDatabase reader = I8C_TRY_VALUE(SqliteDatabase::Open(path, open_options));
      I8C_TRY(reader.Exec("PRAGMA foreign_keys=ON; PRAGMA query_only=ON"));
      readers.push_back(std::make_unique<SqliteConnection>(std::move(reader)));
    }
  }
  return std::make_shared<SqlitePool>(std::make_unique<SqliteConnection>(std::move(writer)),
                                      std::move(readers));
}

}  // namespace integr8scode
