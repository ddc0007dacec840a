#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "domain/execution.hpp"
#include "domain/user.hpp"

namespace integr8scode {

// Storage interfaces. Implementations (store/sqlite, store/postgres) are thread-safe;
// every method is one transaction. Errors: kNotFound for a missing id, kAlreadyExists
// for a unique key taken, kUnavailable when the database cannot be reached,
// kInternal otherwise.

struct ExecutionQuery {
  std::optional<std::int64_t> owner_id;  // empty = everyone's (admin)
  std::optional<ExecutionStatus> status;
  std::optional<std::string> language;
  std::size_t limit = 20;
  std::size_t offset = 0;
  // false: a listing — script and stdin come back empty and stdout/stderr cut to their
  // first kListedOutputBytes, so a page of history does not read megabytes of output.
  bool with_output = true;
};

inline constexpr std::size_t kListedOutputBytes = 1024;

struct ExecutionPage {
  std::vector<Execution> items;  // newest first
  std::size_t total = 0;         // matching rows in all pages
};

// What one owner keeps in the store, for quotas: rows, and the bytes of the user's data
// in them (an execution's script, stdin, stdout and stderr; a saved script's name and
// content).
struct StoredUsage {
  std::size_t count = 0;
  std::uint64_t bytes = 0;
};

struct RecoveryReport {
  std::vector<std::string> requeued;  // were running, will run again
  std::vector<std::string> failed;    // were running and out of attempts: now kError
};

class ExecutionStore {
 public:
  virtual ~ExecutionStore() = default;

  // Inserts a queued execution. With an idempotency key, a second insert under the
  // same (owner_key, key) fails with kAlreadyExists.
  virtual Status Insert(const Execution& execution) = 0;
  virtual Result<Execution> Get(std::string_view id) = 0;
  virtual Result<std::optional<Execution>> FindByIdempotencyKey(std::string_view owner_key,
                                                                std::string_view key) = 0;
  virtual Result<ExecutionPage> List(const ExecutionQuery& query) = 0;
  // Queued executions, oldest first (to rebuild the in-memory queue at start).
  virtual Result<std::vector<Execution>> ListQueued() = 0;

  // queued → running; increments attempts. False when it was no longer queued
  // (cancelled meanwhile): the worker must not run it.
  virtual Result<bool> MarkRunning(std::string_view id, std::string_view worker_id,
                                   std::int64_t started_at_ms) = 0;
  // running → terminal status of `result`, exactly once. False if not running.
  virtual Result<bool> Finish(std::string_view id, const RunResult& result,
                              std::int64_t finished_at_ms) = 0;
  // queued or running → cancelled. False if already terminal.
  virtual Result<bool> Cancel(std::string_view id, std::int64_t finished_at_ms) = 0;
  // running → queued, giving the attempt back (attempts − 1; started_at and worker_id
  // cleared): a graceful shutdown stopped the run and the next start runs it again.
  // False if it was not running. A backend without it answers kUnavailable; the
  // execution then stays running until RecoverInterrupted at the next start.
  virtual Result<bool> Requeue(std::string_view id) {
    (void)id;
    return Fail(ErrorCode::kUnavailable, "this store cannot hand executions back to the queue");
  }
  // Sets whether anyone with the id may read the execution. False if there is no such
  // execution.
  virtual Result<bool> SetPublic(std::string_view id, bool is_public) {
    (void)id;
    (void)is_public;
    return Fail(ErrorCode::kUnavailable, "this store cannot share executions");
  }
  // After a crash: executions left running go back to queued when attempts <
  // max_attempts, else to kError with `reason`.
  virtual Result<RecoveryReport> RecoverInterrupted(int max_attempts, std::string_view reason,
                                                    std::int64_t now_ms) = 0;
  // Retention: deletes terminal executions finished before the cutoff (only those
  // without an owner when `anonymous_only`).
  virtual Result<std::size_t> DeleteFinishedBefore(std::int64_t cutoff_ms,
                                                   bool anonymous_only = false) = 0;
  // Deletes one finished execution (to free its owner's quota). kNotFound when there is
  // none with that id; kConflict while it is queued or running.
  virtual Status Delete(std::string_view id) {
    (void)id;
    return Fail(ErrorCode::kUnavailable, "this store cannot delete executions");
  }
  // The executions stored under an owner key ("user:7", "ip:203.0.113.9"), any status.
  virtual Result<StoredUsage> UsageOf(std::string_view owner_key) = 0;
  virtual Result<std::map<ExecutionStatus, std::size_t>> CountByStatus() = 0;
};

class UserStore {
 public:
  virtual ~UserStore() = default;
  // Assigns the id. kAlreadyExists when the username or email is taken (the message
  // says which).
  virtual Result<User> Create(const User& user) = 0;
  virtual Result<User> Get(std::int64_t id) = 0;
  virtual Result<User> FindByUsername(std::string_view username) = 0;
  virtual Result<std::vector<User>> List(std::size_t limit, std::size_t offset) = 0;
  virtual Result<std::size_t> Count() = 0;
  virtual Status UpdateRole(std::int64_t id, Role role) = 0;
  virtual Status UpdatePasswordHash(std::int64_t id, std::string_view hash) = 0;
  // Records a failed login; when failures reach `max_failures`, locks until
  // `lock_until_ms`. Returns the user after the update.
  virtual Result<User> RecordLoginFailure(std::int64_t id, int max_failures,
                                          std::int64_t lock_until_ms) = 0;
  virtual Status ResetLoginFailures(std::int64_t id) = 0;
};

class ScriptStore {
 public:
  virtual ~ScriptStore() = default;
  virtual Status Insert(const Script& script) = 0;
  // kNotFound unless the script exists and belongs to owner_id.
  virtual Result<Script> Get(std::int64_t owner_id, std::string_view id) = 0;
  virtual Result<std::vector<Script>> List(std::int64_t owner_id) = 0;  // newest update first
  virtual Status Update(const Script& script) = 0;                      // by (owner_id, id)
  virtual Status Delete(std::int64_t owner_id, std::string_view id) = 0;
  virtual Result<StoredUsage> UsageOf(std::int64_t owner_id) = 0;
};

// Revoked tokens (logout) until they expire.
class TokenStore {
 public:
  virtual ~TokenStore() = default;
  virtual Status Revoke(std::string_view token_id, std::int64_t expires_at_ms) = 0;
  virtual Result<bool> IsRevoked(std::string_view token_id) = 0;
  virtual Result<std::size_t> DeleteExpired(std::int64_t now_ms) = 0;
};

}  // namespace integr8scode
