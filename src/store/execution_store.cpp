#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "common/try.hpp"
#include "store/sql_stores.hpp"

namespace integr8scode {
namespace {

// Column order shared by every SELECT and the INSERT below; DecodeExecution and
// EncodeExecution follow it.
constexpr std::string_view kColumns =
    "id, owner_id, owner_key, language, version, script, stdin_data, "
    "limit_memory_bytes, limit_cpu_millicores, limit_timeout_ms, limit_pids, "
    "limit_output_bytes, limit_tmpfs_bytes, limit_file_size_bytes, limit_open_files, "
    "status, exit_code, term_signal, stdout_text, stderr_text, stdout_truncated, "
    "stderr_truncated, wall_time_ms, cpu_time_ms, peak_memory_bytes, message, "
    "idempotency_key, request_hash, attempts, worker_id, retry_of, created_at, started_at, "
    "finished_at, is_public, compile_time_ms";
constexpr int kColumnCount = 36;

// The same columns for listings (ExecutionQuery::with_output = false): the large ones
// are cut in the database, keeping their types, so a page never carries whole outputs.
// (SQLite's substr() of an empty BLOB is NULL: coalesce gives the empty value back.)
std::string ListingColumns() {
  std::string columns(kColumns);
  const auto cut = [&](std::string_view column, std::size_t bytes) {
    const std::size_t at = columns.find(column);
    columns.replace(at, column.size(),
                    fmt::format("coalesce(substr({0}, 1, {1}), {0})", column, bytes));
  };
  cut("stdin_data", 0);
  cut("script", 0);
  cut("stdout_text", kListedOutputBytes);
  cut("stderr_text", kListedOutputBytes);
  return columns;
}

// Unsigned quantities are stored in signed 64-bit columns; the cast round-trips.
std::int64_t ToSql(std::uint64_t value) { return static_cast<std::int64_t>(value); }

std::optional<std::int64_t> ToSql(const std::optional<int>& value) {
  if (!value) return std::nullopt;
  return *value;
}

std::vector<SqlParam> EncodeExecution(const Execution& e) {
  const RunResult& r = e.result;
  const Limits& l = e.limits;
  return {
      SqlParam::Text(e.id),
      SqlParam::OptInt(e.owner_id),
      SqlParam::Text(e.owner_key),
      SqlParam::Text(e.language),
      SqlParam::Text(e.version),
      SqlParam::Blob(e.script),
      SqlParam::Blob(e.stdin_data),
      SqlParam::Int(ToSql(l.memory_bytes)),
      SqlParam::Int(l.cpu_millicores),
      SqlParam::Int(l.timeout.count()),
      SqlParam::Int(l.pids),
      SqlParam::Int(ToSql(l.output_bytes)),
      SqlParam::Int(ToSql(l.tmpfs_bytes)),
      SqlParam::Int(ToSql(l.file_size_bytes)),
      SqlParam::Int(l.open_files),
      SqlParam::Text(StatusName(e.status)),
      SqlParam::OptInt(ToSql(r.exit_code)),
      SqlParam::OptInt(ToSql(r.signal)),
      SqlParam::Blob(r.stdout_text),
      SqlParam::Blob(r.stderr_text),
      SqlParam::Int(r.stdout_truncated ? 1 : 0),
      SqlParam::Int(r.stderr_truncated ? 1 : 0),
      SqlParam::Int(r.usage.wall_time_ms),
      SqlParam::Int(r.usage.cpu_time_ms),
      SqlParam::Int(ToSql(r.usage.peak_memory_bytes)),
      SqlParam::Text(r.message),
      SqlParam::Text(e.idempotency_key),
      SqlParam::Text(e.request_hash),
      SqlParam::Int(e.attempts),
      SqlParam::Text(e.worker_id),
      SqlParam::OptText(e.retry_of),
      SqlParam::Int(e.created_at_ms),
      SqlParam::OptInt(e.started_at_ms),
      SqlParam::OptInt(e.finished_at_ms),
      SqlParam::Int(e.is_public ? 1 : 0),
      SqlParam::OptInt(r.compile_time_ms),
  };
}

Result<Execution> DecodeExecution(const SqlRow& row) {
  RowReader in(row);
  Execution e;
  e.id = in.Text();
  e.owner_id = in.OptInt();
  e.owner_key = in.Text();
  e.language = in.Text();
  e.version = in.Text();
  e.script = in.Text();
  e.stdin_data = in.Text();
  e.limits.memory_bytes = static_cast<std::uint64_t>(in.Int());
  e.limits.cpu_millicores = static_cast<std::uint32_t>(in.Int());
  e.limits.timeout = std::chrono::milliseconds(in.Int());
  e.limits.pids = static_cast<std::uint32_t>(in.Int());
  e.limits.output_bytes = static_cast<std::uint64_t>(in.Int());
  e.limits.tmpfs_bytes = static_cast<std::uint64_t>(in.Int());
  e.limits.file_size_bytes = static_cast<std::uint64_t>(in.Int());
  e.limits.open_files = static_cast<std::uint32_t>(in.Int());
  const std::string status = in.Text();
  RunResult& r = e.result;
  if (auto exit_code = in.OptInt()) r.exit_code = static_cast<int>(*exit_code);
  if (auto signal = in.OptInt()) r.signal = static_cast<int>(*signal);
  r.stdout_text = in.Text();
  r.stderr_text = in.Text();
  r.stdout_truncated = in.Bool();
  r.stderr_truncated = in.Bool();
  r.usage.wall_time_ms = in.Int();
  r.usage.cpu_time_ms = in.Int();
  r.usage.peak_memory_bytes = static_cast<std::uint64_t>(in.Int());
  r.message = in.Text();
  e.idempotency_key = in.Text();
  e.request_hash = in.Text();
  e.attempts = static_cast<int>(in.Int());
  e.worker_id = in.Text();
  e.retry_of = in.OptText();
  e.created_at_ms = in.Int();
  e.started_at_ms = in.OptInt();
  e.finished_at_ms = in.OptInt();
  e.is_public = in.Bool();
  r.compile_time_ms = in.OptInt();
  I8C_TRY(in.Finish());
  const std::optional<ExecutionStatus> parsed = ParseStatus(status);
  if (!parsed) {
    return Fail(ErrorCode::kInternal,
                fmt::format("execution {} has an unknown status '{}'", e.id, status));
  }
  e.status = *parsed;
  // One status column serves both: the result's status is the execution's once it
  // is terminal, and the default before.
  r.status = IsTerminal(e.status) ? e.status : RunResult{}.status;
  return e;
}

Result<std::vector<Execution>> DecodeExecutions(const std::vector<SqlRow>& rows) {
  std::vector<Execution> out;
  out.reserve(rows.size());
  for (const SqlRow& row : rows) {
    Execution execution = I8C_TRY_VALUE(DecodeExecution(row));
    out.push_back(std::move(execution));
  }
  return out;
}

Result<std::int64_t> ReadCount(const Result<std::vector<SqlRow>>& rows) {
  I8C_TRY(rows);
  if (rows->empty()) return Fail(ErrorCode::kInternal, "count returned no row");
  RowReader in(rows->front());
  const std::int64_t count = in.Int();
  I8C_TRY(in.Finish());
  return count;
}

std::int64_t ClampToSql(std::size_t value) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(value, std::numeric_limits<std::int64_t>::max()));
}

Error NotFound(std::string_view id) {
  return MakeError(ErrorCode::kNotFound, fmt::format("no execution with id {}", id));
}

Result<std::vector<std::string>> SortedIds(const std::vector<SqlRow>& rows) {
  std::vector<std::string> ids;
  ids.reserve(rows.size());
  for (const SqlRow& row : rows) {
    RowReader in(row);
    ids.push_back(in.Text());
    I8C_TRY(in.Finish());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string InsertSql() {
  std::string placeholders;
  for (int i = 1; i <= kColumnCount; ++i) {
    placeholders += fmt::format("{}${}", i == 1 ? "" : ", ", i);
  }
  return fmt::format("INSERT INTO executions ({}) VALUES ({})", kColumns, placeholders);
}

class SqlExecutionStore final : public ExecutionStore {
 public:
  explicit SqlExecutionStore(std::shared_ptr<SqlDatabase> database)
      : database_(std::move(database)),
        select_(fmt::format("SELECT {} FROM executions", kColumns)),
        insert_(InsertSql()) {}

  Status Insert(const Execution& execution) override {
    const std::vector<SqlParam> params = EncodeExecution(execution);
    const TxMode mode = execution.idempotency_key.empty() ? TxMode::kWriteOne : TxMode::kWrite;
    return database_->Transact(mode, [&](SqlConnection& db) -> Status {
      if (!execution.idempotency_key.empty()) {
        // Checked first for a clear message; the unique index still decides a race.
        auto taken = I8C_TRY_VALUE(db.Query(
            "SELECT id FROM executions WHERE owner_key = $1 AND idempotency_key = $2"
            " AND idempotency_key <> ''",
            {SqlParam::Text(execution.owner_key), SqlParam::Text(execution.idempotency_key)}));
        if (!taken.empty()) {
          return Fail(MakeError(ErrorCode::kAlreadyExists,
                                "this idempotency key was already used for another execution"));
        }
      }
      auto inserted = db.Execute(insert_, params);
      if (!inserted) {
        Error error = std::move(inserted).error();
        if (error.code == ErrorCode::kAlreadyExists) {
          error.message = fmt::format("execution {} or its idempotency key already exists ({})",
                                      execution.id, error.message);
        }
        return Fail(std::move(error));
      }
      return {};
    });
  }

  Result<Execution> Get(std::string_view id) override {
    return TransactFor<Execution>(
        *database_, TxMode::kRead, [&](SqlConnection& db) -> Result<Execution> {
          auto rows = I8C_TRY_VALUE(db.Query(select_ + " WHERE id = $1", {SqlParam::Text(id)}));
          if (rows.empty()) return Fail(NotFound(id));
          return DecodeExecution(rows.front());
        });
  }

  Result<std::optional<Execution>> FindByIdempotencyKey(std::string_view owner_key,
                                                        std::string_view key) override {
    using Found = std::optional<Execution>;
    if (key.empty()) return Found();
    return TransactFor<Found>(*database_, TxMode::kRead, [&](SqlConnection& db) -> Result<Found> {
      auto rows = I8C_TRY_VALUE(db.Query(select_ + " WHERE owner_key = $1 AND idempotency_key = $2"
                                                   " AND idempotency_key <> ''",
                                         {SqlParam::Text(owner_key), SqlParam::Text(key)}));
      if (rows.empty()) return Found();
      Execution execution = I8C_TRY_VALUE(DecodeExecution(rows.front()));
      return Found(std::move(execution));
    });
  }

  Result<ExecutionPage> List(const ExecutionQuery& query) override {
    // Only fixed fragments are joined; every value is a bound parameter.
    std::string where;
    std::vector<SqlParam> params;
    auto add = [&](std::string_view column, SqlParam param) {
      params.push_back(param);
      where += fmt::format("{} {} = ${}", where.empty() ? " WHERE" : " AND", column, params.size());
    };
    if (query.owner_id) add("owner_id", SqlParam::Int(*query.owner_id));
    if (query.status) add("status", SqlParam::Text(StatusName(*query.status)));
    if (query.language) add("language", SqlParam::Text(*query.language));
    const std::string count_sql = "SELECT count(*) FROM executions" + where;
    const std::size_t filter_count = params.size();
    params.push_back(SqlParam::Int(ClampToSql(query.limit)));
    params.push_back(SqlParam::Int(ClampToSql(query.offset)));
    static const std::string listing_select =
        fmt::format("SELECT {} FROM executions", ListingColumns());
    const std::string page_sql = fmt::format(
        "{}{} ORDER BY created_at DESC, id DESC LIMIT ${} OFFSET ${}",
        query.with_output ? select_ : listing_select, where, filter_count + 1, filter_count + 2);

    return TransactFor<ExecutionPage>(
        *database_, TxMode::kRead, [&](SqlConnection& db) -> Result<ExecutionPage> {
          ExecutionPage page;
          std::int64_t total =
              I8C_TRY_VALUE(ReadCount(db.Query(count_sql, std::span(params.data(), filter_count))));
          page.total = static_cast<std::size_t>(total);
          if (query.limit == 0) return page;
          auto rows = I8C_TRY_VALUE(db.Query(page_sql, params));
          page.items = I8C_TRY_VALUE(DecodeExecutions(rows));
          return page;
        });
  }

  Result<std::vector<Execution>> ListQueued() override {
    using List = std::vector<Execution>;
    return TransactFor<List>(*database_, TxMode::kRead, [&](SqlConnection& db) -> Result<List> {
      auto rows =
          I8C_TRY_VALUE(db.Query(select_ + " WHERE status = 'queued' ORDER BY created_at, id"));
      return DecodeExecutions(rows);
    });
  }

  Result<bool> MarkRunning(std::string_view id, std::string_view worker_id,
                           std::int64_t started_at_ms) override {
    return Transition(
        id,
        "UPDATE executions SET status = 'running', attempts = attempts + 1,"
        " worker_id = $2, started_at = $3 WHERE id = $1 AND status = 'queued'",
        {SqlParam::Text(id), SqlParam::Text(worker_id), SqlParam::Int(started_at_ms)});
  }

  Result<bool> Finish(std::string_view id, const RunResult& result,
                      std::int64_t finished_at_ms) override {
    if (!IsTerminal(result.status)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("cannot finish execution {} with status '{}', which is not final", id,
                              StatusName(result.status)));
    }
    return Transition(
        id,
        "UPDATE executions SET status = $2, exit_code = $3, term_signal = $4,"
        " stdout_text = $5, stderr_text = $6, stdout_truncated = $7, stderr_truncated = $8,"
        " wall_time_ms = $9, cpu_time_ms = $10, peak_memory_bytes = $11, message = $12,"
        " finished_at = $13, compile_time_ms = $14 WHERE id = $1 AND status = 'running'",
        {SqlParam::Text(id), SqlParam::Text(StatusName(result.status)),
         SqlParam::OptInt(ToSql(result.exit_code)), SqlParam::OptInt(ToSql(result.signal)),
         SqlParam::Blob(result.stdout_text), SqlParam::Blob(result.stderr_text),
         SqlParam::Int(result.stdout_truncated ? 1 : 0),
         SqlParam::Int(result.stderr_truncated ? 1 : 0), SqlParam::Int(result.usage.wall_time_ms),
         SqlParam::Int(result.usage.cpu_time_ms),
         SqlParam::Int(ToSql(result.usage.peak_memory_bytes)), SqlParam::Text(result.message),
         SqlParam::Int(finished_at_ms), SqlParam::OptInt(result.compile_time_ms)});
  }

  Result<bool> Cancel(std::string_view id, std::int64_t finished_at_ms) override {
    return Transition(id,
                      "UPDATE executions SET status = 'cancelled', finished_at = $2"
                      " WHERE id = $1 AND status IN ('queued', 'running')",
                      {SqlParam::Text(id), SqlParam::Int(finished_at_ms)});
  }

  Result<bool> SetPublic(std::string_view id, bool is_public) override {
    return Transition(id, "UPDATE executions SET is_public = $2 WHERE id = $1",
                      {SqlParam::Text(id), SqlParam::Int(is_public ? 1 : 0)});
  }

  Result<bool> Requeue(std::string_view id) override {
    // A graceful shutdown stopped it: it goes back as if never started, and the attempt
    // it had used is given back (the platform stopped it, not the program).
    return Transition(id,
                      "UPDATE executions SET status = 'queued', worker_id = '', started_at = NULL,"
                      " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
                      " WHERE id = $1 AND status = 'running'",
                      {SqlParam::Text(id)});
  }

  Result<RecoveryReport> RecoverInterrupted(int max_attempts, std::string_view reason,
                                            std::int64_t now_ms) override {
    return TransactFor<RecoveryReport>(
        *database_, TxMode::kWrite, [&](SqlConnection& db) -> Result<RecoveryReport> {
          RecoveryReport report;
          // A requeued execution looks as if it had never started; `attempts` remembers.
          auto requeued = I8C_TRY_VALUE(
              db.Query("UPDATE executions SET status = 'queued', worker_id = '', started_at = NULL"
                       " WHERE status = 'running' AND attempts < $1 RETURNING id",
                       {SqlParam::Int(max_attempts)}));
          report.requeued = I8C_TRY_VALUE(SortedIds(requeued));
          auto failed = I8C_TRY_VALUE(
              db.Query("UPDATE executions SET status = 'error', message = $1, finished_at = $2"
                       " WHERE status = 'running' RETURNING id",
                       {SqlParam::Text(reason), SqlParam::Int(now_ms)}));
          report.failed = I8C_TRY_VALUE(SortedIds(failed));
          return report;
        });
  }

  Result<std::size_t> DeleteFinishedBefore(std::int64_t cutoff_ms, bool anonymous_only) override {
    const std::string sql = fmt::format(
        "DELETE FROM executions WHERE finished_at < $1 AND status NOT IN ('queued', 'running'){}",
        anonymous_only ? " AND owner_id IS NULL" : "");
    return TransactFor<std::size_t>(
        *database_, TxMode::kWrite, [&](SqlConnection& db) -> Result<std::size_t> {
          auto deleted = I8C_TRY_VALUE(db.Execute(sql, {SqlParam::Int(cutoff_ms)}));
          return static_cast<std::size_t>(deleted);
        });
  }

  Status Delete(std::string_view id) override {
    const std::string key(id);
    return database_->Transact(TxMode::kWrite, [&](SqlConnection& db) -> Status {
      auto deleted = I8C_TRY_VALUE(
          db.Execute("DELETE FROM executions WHERE id = $1 AND status NOT IN ('queued', 'running')",
                     {SqlParam::Text(key)}));
      if (deleted == 1) return {};
      auto rows = I8C_TRY_VALUE(
          db.Query("SELECT status FROM executions WHERE id = $1", {SqlParam::Text(key)}));
      if (rows.empty()) {
        return Fail(MakeError(ErrorCode::kNotFound, "not_found",
                              fmt::format("no execution with id '{}'", id)));
      }
      return Fail(MakeError(ErrorCode::kConflict, "conflict",
                            "the execution has not finished; cancel it first, then delete it"));
    });
  }

  Result<StoredUsage> UsageOf(std::string_view owner_key) override {
    const std::string key(owner_key);
    return TransactFor<StoredUsage>(
        *database_, TxMode::kRead, [&](SqlConnection& db) -> Result<StoredUsage> {
          // length() of a BLOB/BYTEA is its size from the row header (SQLite) or the
          // TOAST pointer (PostgreSQL): the bytes themselves are not read.
          return ReadUsage(
              db.Query("SELECT count(*), coalesce(sum(length(script) + length(stdin_data)"
                       " + length(stdout_text) + length(stderr_text)), 0)"
                       " FROM executions WHERE owner_key = $1",
                       {SqlParam::Text(key)}));
        });
  }

  Result<std::map<ExecutionStatus, std::size_t>> CountByStatus() override {
    using Counts = std::map<ExecutionStatus, std::size_t>;
    return TransactFor<Counts>(*database_, TxMode::kRead, [&](SqlConnection& db) -> Result<Counts> {
      auto rows =
          I8C_TRY_VALUE(db.Query("SELECT status, count(*) FROM executions GROUP BY status"));
      Counts counts;
      for (const ExecutionStatus status : kAllStatuses) counts[status] = 0;
      for (const SqlRow& row : rows) {
        RowReader in(row);
        const std::string name = in.Text();
        const std::int64_t count = in.Int();
        I8C_TRY(in.Finish());
        const std::optional<ExecutionStatus> status = ParseStatus(name);
        if (!status) {
          return Fail(ErrorCode::kInternal, fmt::format("unknown execution status '{}'", name));
        }
        counts[*status] = static_cast<std::size_t>(count);
      }
      return counts;
    });
  }

 private:
  // A compare-and-set UPDATE: true when it moved the row, false when the row was no
  // longer in a state it may leave that way, kNotFound when there is no such row.
  Result<bool> Transition(std::string_view id, std::string_view sql,
                          std::initializer_list<SqlParam> params) {
    return TransactFor<bool>(*database_, TxMode::kWrite, [&](SqlConnection& db) -> Result<bool> {
      auto changed = I8C_TRY_VALUE(db.Execute(sql, std::span(params.begin(), params.size())));
      if (changed > 0) return true;
      auto exists =
          I8C_TRY_VALUE(db.Query("SELECT 1 FROM executions WHERE id = $1", {SqlParam::Text(id)}));
      if (exists.empty()) return Fail(NotFound(id));
      return false;
    });
  }

  std::shared_ptr<SqlDatabase> database_;
  const std::string select_;
  const std::string insert_;
};

}  // namespace

std::shared_ptr<ExecutionStore> MakeSqlExecutionStore(std::shared_ptr<SqlDatabase> database) {
  return std::make_shared<SqlExecutionStore>(std::move(database));
}

std::string_view ExecutionColumns() { return kColumns; }

Result<Execution> DecodeExecutionRow(const SqlRow& row) { return DecodeExecution(row); }

}  // namespace integr8scode
