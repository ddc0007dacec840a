// The database queue (domain/cluster_queue.hpp) in PostgreSQL's SQL. docs/scale-out.md
// explains the claim's fairness, the leases and the events table.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/try.hpp"
#include "store/sql_stores.hpp"

namespace integr8scode {
namespace {

// Attempts of an event append that lost a race for a seq (a unique violation): another
// writer appended to the same execution between our read of the last seq and our insert.
constexpr int kAppendAttempts = 5;

// One statement picks and marks. Each owner's waiting executions are ranked 1, 2, 3… in
// FIFO order; an execution's turn is its rank plus its owner's running executions, and
// among equal turns the owner served least recently goes first (round-robin), then the
// oldest. So an owner with 1,000 waiting yields to another owner's single execution at the
// next claim, whether or not its own runs are still going. FOR UPDATE … SKIP LOCKED makes
// concurrent claimers take different rows and re-checks that a row is still queued.
std::string ClaimSql() {
  return fmt::format(
      "WITH RECURSIVE running AS ("
      "  SELECT owner_key, count(*) AS n FROM executions WHERE status = 'running'"
      "  GROUP BY owner_key"
      // The owners with waiting executions, one index probe each (a loose index scan):
      // a plain DISTINCT would read every waiting row on every claim.
      "), owner_walk AS ("
      "  (SELECT owner_key FROM executions WHERE status = 'queued'"
      "   ORDER BY owner_key LIMIT 1)"
      "  UNION ALL"
      "  SELECT (SELECT e.owner_key FROM executions e"
      "          WHERE e.status = 'queued' AND e.owner_key > w.owner_key"
      "          ORDER BY e.owner_key LIMIT 1)"
      "  FROM owner_walk w WHERE w.owner_key IS NOT NULL"
      "), owners AS ("
      "  SELECT owner_key FROM owner_walk WHERE owner_key IS NOT NULL"
      "), served AS ("
      "  SELECT o.owner_key, s.started_at AS last_start FROM owners o"
      "  LEFT JOIN LATERAL ("
      "    SELECT started_at FROM executions"
      "    WHERE owner_key = o.owner_key AND started_at IS NOT NULL"
      "    ORDER BY started_at DESC LIMIT 1"
      "  ) s ON true"
      "), ranked AS ("
      "  SELECT q.id AS pick_id FROM served o"
      "  CROSS JOIN LATERAL ("
      "    SELECT id, created_at, row_number() OVER (ORDER BY created_at, id) AS rank"
      "    FROM executions WHERE status = 'queued' AND owner_key = o.owner_key"
      "    ORDER BY created_at, id LIMIT $2"
      "  ) q"
      "  LEFT JOIN running r ON r.owner_key = o.owner_key"
      "  ORDER BY q.rank + coalesce(r.n, 0), o.last_start NULLS FIRST, q.created_at, q.id"
      "  LIMIT $2"
      // One primary-key probe per pick: as a join, the planner (whose statistics lag
      // behind a queue that fills and drains in seconds) read every waiting row to lock
      // a handful.
      "), picked AS ("
      "  SELECT l.id AS picked_id FROM ranked CROSS JOIN LATERAL ("
      "    SELECT e.id FROM executions e WHERE e.id = ranked.pick_id AND e.status = 'queued'"
      "    FOR UPDATE OF e SKIP LOCKED"
      "  ) l"
      ")"
      " UPDATE executions SET status = 'running', worker_id = $1, started_at = $3,"
      " attempts = attempts + 1, lease_expires_at = $4"
      " FROM picked WHERE executions.id = picked.picked_id"
      " RETURNING {}",
      ExecutionColumns());
}

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string joined;
  for (const std::string& id : ids) {
    if (!joined.empty()) joined += ',';
    joined += id;
  }
  return joined;
}

Result<std::vector<std::string>> ReadIds(const std::vector<SqlRow>& rows) {
  std::vector<std::string> ids;
  for (const SqlRow& row : rows) {
    RowReader in(row);
    ids.push_back(in.Text());
    I8C_TRY(in.Finish());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string_view KindName(ExecutionEvent::Kind kind) {
  switch (kind) {
    case ExecutionEvent::Kind::kStatus:
      return "status";
    case ExecutionEvent::Kind::kStdout:
      return "stdout";
    case ExecutionEvent::Kind::kStderr:
      return "stderr";
    case ExecutionEvent::Kind::kResult:
      return "result";
  }
  return "status";
}

std::optional<ExecutionEvent::Kind> ParseKind(std::string_view name) {
  if (name == "status") return ExecutionEvent::Kind::kStatus;
  if (name == "stdout") return ExecutionEvent::Kind::kStdout;
  if (name == "stderr") return ExecutionEvent::Kind::kStderr;
  if (name == "result") return ExecutionEvent::Kind::kResult;
  return std::nullopt;
}

class SqlClusterQueueStore final : public ClusterQueueStore {
 public:
  explicit SqlClusterQueueStore(std::shared_ptr<SqlDatabase> database)
      : database_(std::move(database)), claim_(ClaimSql()) {}

  Result<std::vector<Execution>> Claim(std::string_view worker_id, std::size_t max,
                                       std::int64_t now_ms, std::int64_t lease_until_ms) override {
    using List = std::vector<Execution>;
    if (max == 0) return List();
    return TransactFor<List>(*database_, TxMode::kWriteOne, [&](SqlConnection& db) -> Result<List> {
      auto rows = I8C_TRY_VALUE(db.Query(
          claim_, {SqlParam::Text(worker_id), SqlParam::Int(static_cast<std::int64_t>(max)),
                   SqlParam::Int(now_ms), SqlParam::Int(lease_until_ms)}));
      List claimed;
      for (const SqlRow& row : rows) {
        Execution execution = I8C_TRY_VALUE(DecodeExecutionRow(row));
        claimed.push_back(std::move(execution));
      }
      // FIFO among what this claim took (the statement returns rows in no set order).
      std::sort(claimed.begin(), claimed.end(), [](const Execution& a, const Execution& b) {
        return std::tie(a.created_at_ms, a.id) < std::tie(b.created_at_ms, b.id);
      });
      return claimed;
    });
  }

  Result<std::vector<std::string>> ExtendLeases(std::string_view worker_id,
                                                const std::vector<std::string>& ids,
                                                std::int64_t lease_until_ms) override {
    using Ids = std::vector<std::string>;
    if (ids.empty()) return Ids();
    const std::string joined = JoinIds(ids);
    auto held =
        TransactFor<Ids>(*database_, TxMode::kWriteOne, [&](SqlConnection& db) -> Result<Ids> {
          // Ids are UUIDs (no commas): one text parameter carries the list.
          auto rows = I8C_TRY_VALUE(db.Query(
              "UPDATE executions SET lease_expires_at = $3"
              " WHERE id = ANY(string_to_array($2, ',')) AND status = 'running' AND worker_id = $1"
              " RETURNING id",
              {SqlParam::Text(worker_id), SqlParam::Text(joined), SqlParam::Int(lease_until_ms)}));
          return ReadIds(rows);
        });
    if (!held) return Fail(std::move(held).error());
    const std::set<std::string> kept(held->begin(), held->end());
    Ids lost;
    for (const std::string& id : ids) {
      if (!kept.contains(id)) lost.push_back(id);
    }
    return lost;
  }

  Result<bool> FinishClaimed(std::string_view id, std::string_view worker_id,
                             const RunResult& result, std::int64_t finished_at_ms) override {
    if (!IsTerminal(result.status)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("cannot finish execution {} with status '{}', which is not final", id,
                              StatusName(result.status)));
    }
    const auto optional_int = [](const std::optional<int>& value) {
      return value ? SqlParam::Int(*value) : SqlParam::Null();
    };
    return Changed(
        "UPDATE executions SET status = $2, exit_code = $3, term_signal = $4,"
        " stdout_text = $5, stderr_text = $6, stdout_truncated = $7, stderr_truncated = $8,"
        " wall_time_ms = $9, cpu_time_ms = $10, peak_memory_bytes = $11, message = $12,"
        " finished_at = $13, lease_expires_at = NULL"
        " WHERE id = $1 AND status = 'running' AND worker_id = $14",
        {SqlParam::Text(id), SqlParam::Text(StatusName(result.status)),
         optional_int(result.exit_code), optional_int(result.signal),
         SqlParam::Blob(result.stdout_text), SqlParam::Blob(result.stderr_text),
         SqlParam::Int(result.stdout_truncated ? 1 : 0),
         SqlParam::Int(result.stderr_truncated ? 1 : 0), SqlParam::Int(result.usage.wall_time_ms),
         SqlParam::Int(result.usage.cpu_time_ms),
         SqlParam::Int(static_cast<std::int64_t>(result.usage.peak_memory_bytes)),
         SqlParam::Text(result.message), SqlParam::Int(finished_at_ms), SqlParam::Text(worker_id)});
  }

  Result<bool> HandBack(std::string_view id, std::string_view worker_id) override {
    return Changed(
        "UPDATE executions SET status = 'queued', worker_id = '', started_at = NULL,"
        " lease_expires_at = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
        " WHERE id = $1 AND status = 'running' AND worker_id = $2",
        {SqlParam::Text(id), SqlParam::Text(worker_id)});
  }

  Result<RecoveryReport> RescueExpired(int max_attempts, std::string_view reason,
                                       std::int64_t now_ms) override {
    return TransactFor<RecoveryReport>(
        *database_, TxMode::kWrite, [&](SqlConnection& db) -> Result<RecoveryReport> {
          RecoveryReport report;
          // A running row without a lease was started by a process without leases (an
          // older version): as good as expired.
          auto requeued = I8C_TRY_VALUE(
              db.Query("UPDATE executions SET status = 'queued', worker_id = '', started_at = NULL,"
                       " lease_expires_at = NULL"
                       " WHERE status = 'running' AND coalesce(lease_expires_at, 0) < $2"
                       " AND attempts < $1 RETURNING id",
                       {SqlParam::Int(max_attempts), SqlParam::Int(now_ms)}));
          report.requeued = I8C_TRY_VALUE(ReadIds(requeued));
          auto failed = I8C_TRY_VALUE(db.Query(
              "UPDATE executions SET status = 'error', message = $1, finished_at = $2,"
              " lease_expires_at = NULL"
              " WHERE status = 'running' AND coalesce(lease_expires_at, 0) < $2 RETURNING id",
              {SqlParam::Text(reason), SqlParam::Int(now_ms)}));
          report.failed = I8C_TRY_VALUE(ReadIds(failed));
          return report;
        });
  }

  Result<ClusterDepth> Depth() override {
    return TransactFor<ClusterDepth>(
        *database_, TxMode::kRead, [&](SqlConnection& db) -> Result<ClusterDepth> {
          auto rows = I8C_TRY_VALUE(
              db.Query("SELECT (SELECT count(*) FROM executions WHERE status = 'queued'),"
                       " (SELECT count(*) FROM executions WHERE status = 'running'),"
                       " (SELECT min(created_at) FROM executions WHERE status = 'queued')"));
          if (rows.empty()) return Fail(ErrorCode::kInternal, "queue depth returned no row");
          RowReader in(rows.front());
          ClusterDepth depth;
          depth.queued = static_cast<std::size_t>(in.Int());
          depth.running = static_cast<std::size_t>(in.Int());
          depth.oldest_queued_at_ms = in.OptInt();
          I8C_TRY(in.Finish());
          return depth;
        });
  }

  Status AppendEvents(std::span<const NewEvent> events, std::int64_t now_ms) override {
    if (events.empty()) return {};
    std::set<std::string_view> ids;
    for (const NewEvent& event : events) ids.insert(event.execution_id);
    Status status;
    for (int attempt = 1; attempt <= kAppendAttempts; ++attempt) {
      status = database_->Transact(TxMode::kWrite, [&](SqlConnection& db) -> Status {
        for (std::string_view id : ids) {
          // Waits for a status change in progress (its trigger appends too), and keeps
          // the next one out until this commits: the seqs below stay ours.
          I8C_TRY(
              db.Query("SELECT 1 FROM executions WHERE id = $1 FOR SHARE", {SqlParam::Text(id)}));
        }
        for (const NewEvent& event : events) {
          I8C_TRY(
              db.Execute("INSERT INTO execution_events (execution_id, seq, kind, data, created_at)"
                         " SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4 FROM execution_events"
                         " WHERE execution_id = $1",
                         {SqlParam::Text(event.execution_id), SqlParam::Text(KindName(event.kind)),
                          SqlParam::Blob(event.data), SqlParam::Int(now_ms)}));
        }
        // Only executions someone streams: NOTIFY takes a cluster-wide lock at commit.
        I8C_TRY(
            db.Query("SELECT pg_notify('integr8scode_events', w.execution_id) FROM ("
                     " SELECT DISTINCT execution_id FROM event_watchers"
                     " WHERE execution_id = ANY(string_to_array($1, ','))) w",
                     {SqlParam::Text(JoinIds(std::vector<std::string>(ids.begin(), ids.end())))}));
        return {};
      });
      if (status || status.error().code != ErrorCode::kAlreadyExists) return status;
    }
    return status;
  }

  Result<std::vector<ExecutionEvent>> ReadEvents(std::string_view execution_id,
                                                 std::uint64_t after_seq,
                                                 std::size_t limit) override {
    using List = std::vector<ExecutionEvent>;
    return TransactFor<List>(*database_, TxMode::kRead, [&](SqlConnection& db) -> Result<List> {
      auto rows = I8C_TRY_VALUE(db.Query(
          "SELECT seq, kind, data FROM execution_events WHERE execution_id = $1 AND seq > $2"
          " ORDER BY seq LIMIT $3",
          {SqlParam::Text(execution_id), SqlParam::Int(static_cast<std::int64_t>(after_seq)),
           SqlParam::Int(static_cast<std::int64_t>(limit))}));
      List events;
      for (const SqlRow& row : rows) {
        RowReader in(row);
        ExecutionEvent event;
        event.seq = static_cast<std::uint64_t>(in.Int());
        const std::string kind = in.Text();
        event.data = in.Text();
        I8C_TRY(in.Finish());
        const auto parsed = ParseKind(kind);
        if (!parsed) {
          return Fail(ErrorCode::kInternal, fmt::format("unknown event kind '{}'", kind));
        }
        event.kind = *parsed;
        events.push_back(std::move(event));
      }
      return events;
    });
  }

  Result<std::size_t> DeleteEventsBefore(std::int64_t cutoff_ms) override {
    return TransactFor<std::size_t>(
        *database_, TxMode::kWrite, [&](SqlConnection& db) -> Result<std::size_t> {
          auto deleted =
              I8C_TRY_VALUE(db.Execute("DELETE FROM execution_events WHERE execution_id IN ("
                                       " SELECT execution_id FROM execution_events"
                                       " WHERE kind = 'result' AND created_at < $1)",
                                       {SqlParam::Int(cutoff_ms)}));
          return static_cast<std::size_t>(deleted);
        });
  }

  Status WatchEvents(std::string_view watcher, const std::vector<std::string>& add,
                     const std::vector<std::string>& remove, std::int64_t now_ms) override {
    return database_->Transact(TxMode::kWrite, [&](SqlConnection& db) -> Status {
      if (!remove.empty()) {
        I8C_TRY(
            db.Execute("DELETE FROM event_watchers"
                       " WHERE watcher = $1 AND execution_id = ANY(string_to_array($2, ','))",
                       {SqlParam::Text(watcher), SqlParam::Text(JoinIds(remove))}));
      }
      I8C_TRY(db.Execute("UPDATE event_watchers SET seen_at = $2 WHERE watcher = $1",
                         {SqlParam::Text(watcher), SqlParam::Int(now_ms)}));
      if (!add.empty()) {
        I8C_TRY(db.Execute(
            "INSERT INTO event_watchers (execution_id, watcher, seen_at)"
            " SELECT unnest(string_to_array($2, ',')), $1, $3"
            " ON CONFLICT (execution_id, watcher) DO UPDATE SET seen_at = EXCLUDED.seen_at",
            {SqlParam::Text(watcher), SqlParam::Text(JoinIds(add)), SqlParam::Int(now_ms)}));
      }
      return {};
    });
  }

  Result<std::size_t> DeleteIdleWatchers(std::int64_t seen_before_ms) override {
    return TransactFor<std::size_t>(
        *database_, TxMode::kWrite, [&](SqlConnection& db) -> Result<std::size_t> {
          auto deleted = I8C_TRY_VALUE(db.Execute("DELETE FROM event_watchers WHERE seen_at < $1",
                                                  {SqlParam::Int(seen_before_ms)}));
          return static_cast<std::size_t>(deleted);
        });
  }

 private:
  Result<bool> Changed(std::string_view sql, std::initializer_list<SqlParam> params) {
    return TransactFor<bool>(*database_, TxMode::kWriteOne, [&](SqlConnection& db) -> Result<bool> {
      auto changed = I8C_TRY_VALUE(db.Execute(sql, params));
      return changed > 0;
    });
  }

  std::shared_ptr<SqlDatabase> database_;
  const std::string claim_;
};

// The refill since the last take, capped at the bucket size, in thousandths of a request.
constexpr std::string_view kRefilled =
    "least($2 * 1000, b.milli_tokens + greatest(0, "
    "(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT - b.updated_at) * $2 / 60)";

class SqlSharedRateLimits final : public SharedRateLimits {
 public:
  explicit SqlSharedRateLimits(std::shared_ptr<SqlDatabase> database)
      : database_(std::move(database)),
        take_(fmt::format(
            "INSERT INTO rate_buckets AS b (bucket_key, milli_tokens, updated_at, allowed)"
            " VALUES ($1, $2 * 1000 - 1000,"
            " (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT, 1)"
            " ON CONFLICT (bucket_key) DO UPDATE SET"
            " milli_tokens = CASE WHEN {0} >= 1000 THEN {0} - 1000 ELSE {0} END,"
            " allowed = CASE WHEN {0} >= 1000 THEN 1 ELSE 0 END,"
            " updated_at = (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT"
            " RETURNING allowed, milli_tokens",
            kRefilled)) {}

  Result<SharedRateTake> Take(std::string_view key, std::uint32_t per_minute) override {
    return TransactFor<SharedRateTake>(
        *database_, TxMode::kWrite, [&](SqlConnection& db) -> Result<SharedRateTake> {
          auto rows =
              I8C_TRY_VALUE(db.Query(take_, {SqlParam::Text(key), SqlParam::Int(per_minute)}));
          if (rows.empty()) return Fail(ErrorCode::kInternal, "rate bucket returned no row");
          RowReader in(rows.front());
          SharedRateTake take;
          take.allowed = in.Int() != 0;
          take.remaining = static_cast<std::uint32_t>(std::max<std::int64_t>(0, in.Int()) / 1000);
          I8C_TRY(in.Finish());
          return take;
        });
  }

  Result<std::size_t> DeleteIdle() override {
    return TransactFor<std::size_t>(
        *database_, TxMode::kWrite, [&](SqlConnection& db) -> Result<std::size_t> {
          auto deleted = I8C_TRY_VALUE(
              db.Execute("DELETE FROM rate_buckets WHERE updated_at <"
                         " (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT - 60000"));
          return static_cast<std::size_t>(deleted);
        });
  }

 private:
  std::shared_ptr<SqlDatabase> database_;
  const std::string take_;
};

}  // namespace

std::shared_ptr<SharedRateLimits> MakeSqlSharedRateLimits(std::shared_ptr<SqlDatabase> database) {
  return std::make_shared<SqlSharedRateLimits>(std::move(database));
}

std::shared_ptr<ClusterQueueStore> MakeSqlClusterQueueStore(std::shared_ptr<SqlDatabase> database) {
  return std::make_shared<SqlClusterQueueStore>(std::move(database));
}

}  // namespace integr8scode
