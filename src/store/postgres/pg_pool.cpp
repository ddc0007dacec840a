#include "store/postgres/pg_pool.hpp"

#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "common/try.hpp"
#include "store/postgres/pg_connection.hpp"

namespace integr8scode {
namespace {

// How long a transaction waits for a free connection before giving up.
constexpr std::chrono::seconds kAcquireTimeout{30};

class PgPool final : public SqlDatabase {
 public:
  PgPool(std::string url, const StoreOptions& options, PgConnection first)
      : url_(std::move(url)),
        max_open_(options.pool_size),
        connect_timeout_s_(options.connect_timeout_s) {
    idle_.push_back(std::move(first));
    open_ = 1;
  }

  Status Transact(TxMode mode, const std::function<Status(SqlConnection&)>& work) override {
    // READ COMMITTED for writes: every change is one compare-and-set statement, and
    // row locks decide races. Reads see one snapshot (a page and its total agree).
    if (mode == TxMode::kWriteOne) return RunOne(work);
    const char* begin =
        mode == TxMode::kWrite ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    // An idle connection may have died with a server restart; that is only noticed
    // when it is used. Nothing has happened yet at BEGIN, so one fresh try is safe.
    for (int attempt = 0;; ++attempt) {
      PgConnection connection = I8C_TRY_VALUE(Acquire());
      if (Status begun = connection.ExecuteScript(begin); !begun) {
        const bool broken = connection.Broken();
        Release(std::move(connection), !broken);
        if (broken && attempt == 0) continue;
        return Fail(std::move(begun).error().WithContext("begin transaction"));
      }
      Status outcome = work(connection);
      if (outcome) {
        outcome = connection.ExecuteScript("COMMIT");
        if (!outcome) outcome = Fail(std::move(outcome).error().WithContext("commit"));
      }
      bool healthy = !connection.Broken();
      if (!outcome && healthy) {
        // Leaves the connection clean for the next user; if even that fails, drop it.
        healthy = static_cast<bool>(connection.ExecuteScript("ROLLBACK")) && !connection.Broken();
      }
      Release(std::move(connection), healthy);
      return outcome;
    }
  }

  SqlDialect Dialect() const override { return SqlDialect::kPostgres; }
  std::string_view Backend() const override { return "postgres"; }

 private:
  // One statement in its own implicit transaction. Not retried on a broken connection:
  // unlike a BEGIN, the statement may have run. Acquire drops connections the server
  // closed while they were idle, the usual reason for one to break at first use.
  Status RunOne(const std::function<Status(SqlConnection&)>& work) {
    Result<PgConnection> leased = Acquire();
    if (!leased) return Fail(std::move(leased).error());
    PgConnection connection = std::move(*leased);
    Status outcome = work(connection);
    const bool healthy = !connection.Broken();
    Release(std::move(connection), healthy);
    return outcome;
  }

  Result<PgConnection> Acquire() {
    std::unique_lock lock(mutex_);
    const bool ready = available_.wait_for(lock, kAcquireTimeout,
                                           [&] { return !idle_.empty() || open_ < max_open_; });
    if (!ready) {
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("all {} database connections stayed busy for {} s", max_open_,
                              kAcquireTimeout.count()));
    }
    while (!idle_.empty()) {
      PgConnection connection = std::move(idle_.back());
      idle_.pop_back();
      if (!connection.Stale()) return connection;
      --open_;
    }
    ++open_;
    lock.unlock();
    // Connecting takes a round trip or more: never while holding the lock.
    Result<PgConnection> connected = PgConnection::Connect(url_, connect_timeout_s_);
    if (!connected) {
      lock.lock();
      --open_;
      lock.unlock();
      available_.notify_one();
    }
    return connected;
  }

  void Release(PgConnection connection, bool keep) {
    {
      std::lock_guard lock(mutex_);
      if (keep) {
        idle_.push_back(std::move(connection));
      } else {
        --open_;
      }
    }
    available_.notify_one();
    // A dropped connection is closed here, outside the lock, by its destructor.
  }

  const std::string url_;
  const std::size_t max_open_;
  const int connect_timeout_s_;

  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<PgConnection> idle_;  // guarded by mutex_
  std::size_t open_ = 0;            // idle + lent out; guarded by mutex_
};

}  // namespace

Result<std::shared_ptr<SqlDatabase>> OpenPostgresPool(const std::string& url,
                                                      const StoreOptions& options) {
  // One connection at once, so that a wrong URL or a server down fails at start.
  PgConnection first = I8C_TRY_VALUE(PgConnection::Connect(url, options.connect_timeout_s));
  return std::make_shared<PgPool>(url, options, std::move(first));
}

}  // namespace integr8scode
