// Failed logins shared by API replicas (domain/cluster_queue.hpp, SharedLoginAttempts):
// one row per (username, client address), changed under its row lock.
#include "common/try.hpp"
#include "store/sql_stores.hpp"

namespace integr8scode {
namespace {

class SqlSharedLoginAttempts final : public SharedLoginAttempts {
 public:
  explicit SqlSharedLoginAttempts(std::shared_ptr<SqlDatabase> database)
      : database_(std::move(database)) {}

  Status Update(std::string_view key, const std::function<void(LoginAttempts&)>& change) override {
    return database_->Transact(TxMode::kWrite, [&](SqlConnection& db) -> Status {
      // The row exists before it is locked, so that two replicas' first failures of a
      // key also take turns (a missing row has nothing to lock).
      I8C_TRY(db.Execute(
          "INSERT INTO login_attempts (attempt_key, failures, last_failure_at, locked_until)"
          " VALUES ($1, 0, 0, 0) ON CONFLICT (attempt_key) DO NOTHING",
          {SqlParam::Text(key)}));
      auto rows = I8C_TRY_VALUE(
          db.Query("SELECT failures, last_failure_at, locked_until FROM login_attempts"
                   " WHERE attempt_key = $1 FOR UPDATE",
                   {SqlParam::Text(key)}));
      if (rows.empty()) return Fail(ErrorCode::kInternal, "login attempts row vanished");
      RowReader in(rows.front());
      LoginAttempts attempts;
      attempts.failures = static_cast<int>(in.Int());
      attempts.last_failure_ms = in.Int();
      attempts.locked_until_ms = in.Int();
      I8C_TRY(in.Finish());
      change(attempts);
      I8C_TRY(db.Execute(
          "UPDATE login_attempts SET failures = $2, last_failure_at = $3, locked_until = $4"
          " WHERE attempt_key = $1",
          {SqlParam::Text(key), SqlParam::Int(attempts.failures),
           SqlParam::Int(attempts.last_failure_ms), SqlParam::Int(attempts.locked_until_ms)}));
      return {};
    });
  }

  Status Forget(std::string_view key) override {
    return database_->Transact(TxMode::kWriteOne, [&](SqlConnection& db) -> Status {
      I8C_TRY(
          db.Execute("DELETE FROM login_attempts WHERE attempt_key = $1", {SqlParam::Text(key)}));
      return {};
    });
  }

  Result<std::size_t> DeleteFinished(std::int64_t now_ms, std::int64_t idle_ms) override {
    return TransactFor<std::size_t>(
        *database_, TxMode::kWriteOne, [&](SqlConnection& db) -> Result<std::size_t> {
          auto deleted = I8C_TRY_VALUE(db.Execute(
              "DELETE FROM login_attempts WHERE locked_until <= $1 AND last_failure_at <= $2",
              {SqlParam::Int(now_ms), SqlParam::Int(now_ms - idle_ms)}));
          return static_cast<std::size_t>(deleted);
        });
  }

 private:
  std::shared_ptr<SqlDatabase> database_;
};

}  // namespace

std::shared_ptr<SharedLoginAttempts> MakeSqlSharedLoginAttempts(
    std::shared_ptr<SqlDatabase> database) {
  return std::make_shared<SqlSharedLoginAttempts>(std::move(database));
}

}  // namespace integr8scode
