#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "domain/execution.hpp"
#include "domain/execution_event.hpp"
#include "domain/stores.hpp"

namespace integr8scode {

// The queue kept in a shared database, for processes on many hosts (docs/scale-out.md):
// workers claim executions under a lease they keep extending, any process rescues
// expired leases, and events of every execution are kept in a table every API replica
// reads. Only the PostgreSQL store implements it. Thread-safe; one transaction a call.

struct ClusterDepth {
  std::size_t queued = 0;
  std::size_t running = 0;
  std::optional<std::int64_t> oldest_queued_at_ms;  // created_at of the oldest waiting
};

struct NewEvent {
  std::string execution_id;
  ExecutionEvent::Kind kind = ExecutionEvent::Kind::kStatus;
  std::string data;
};

class ClusterQueueStore {
 public:
  virtual ~ClusterQueueStore() = default;

  // queued → running for at most `max` executions, fair across owners (an owner with
  // fewer running and fewer ahead goes first; FIFO within an owner), in one statement
  // that skips rows other claimers hold. Each claimed one records `worker_id`, attempts
  // + 1, started_at and its lease.
  virtual Result<std::vector<Execution>> Claim(std::string_view worker_id, std::size_t max,
                                               std::int64_t now_ms,
                                               std::int64_t lease_until_ms) = 0;
  // Extends the leases of `ids` still running under `worker_id`; returns those of `ids`
  // that are not (cancelled elsewhere, or rescued after a lost lease): their runs stop.
  virtual Result<std::vector<std::string>> ExtendLeases(std::string_view worker_id,
                                                        const std::vector<std::string>& ids,
                                                        std::int64_t lease_until_ms) = 0;
  // running → the terminal status of `result`, only while `worker_id` holds it: a worker
  // whose lease was lost (and the execution rescued) cannot overwrite the next run's.
  virtual Result<bool> FinishClaimed(std::string_view id, std::string_view worker_id,
                                     const RunResult& result, std::int64_t finished_at_ms) = 0;
  // running → queued, giving the attempt back (a shutdown stopped it), while held.
  virtual Result<bool> HandBack(std::string_view id, std::string_view worker_id) = 0;
  // Running executions whose lease ended before `now_ms` go back to queued while
  // attempts < max_attempts, else to kError with `reason`.
  virtual Result<RecoveryReport> RescueExpired(int max_attempts, std::string_view reason,
                                               std::int64_t now_ms) = 0;
  virtual Result<ClusterDepth> Depth() = 0;

  // Appends events, each after the last one of its execution (seq = last + 1), and
  // notifies listeners of their execution ids at commit.
  virtual Status AppendEvents(std::span<const NewEvent> events, std::int64_t now_ms) = 0;
  // Events of `execution_id` with seq > after_seq, ascending, at most `limit`.
  virtual Result<std::vector<ExecutionEvent>> ReadEvents(std::string_view execution_id,
                                                         std::uint64_t after_seq,
                                                         std::size_t limit) = 0;
  // Deletes the events of executions whose result event is older than `cutoff_ms`.
  virtual Result<std::size_t> DeleteEventsBefore(std::int64_t cutoff_ms) = 0;

  // Event notifications go only to executions some `watcher` (an API replica's event
  // hub) streams: records `add`, forgets `remove` and marks every row of `watcher` seen at
  // `now_ms`, in one transaction. Rows a lost replica left behind only cost notifications
  // until DeleteIdleWatchers drops them.
  virtual Status WatchEvents(std::string_view watcher, const std::vector<std::string>& add,
                             const std::vector<std::string>& remove, std::int64_t now_ms) = 0;
  virtual Result<std::size_t> DeleteIdleWatchers(std::int64_t seen_before_ms) = 0;
};

// Token buckets kept in the database, so that API replicas limit a client in total:
// each holds up to `per_minute` requests and refills at per_minute/60 a second, by the
// database's clock (one clock for every replica).
struct SharedRateTake {
  bool allowed = false;
  std::uint32_t remaining = 0;  // whole requests left in the bucket
};

class SharedRateLimits {
 public:
  virtual ~SharedRateLimits() = default;
  virtual Result<SharedRateTake> Take(std::string_view key, std::uint32_t per_minute) = 0;
  // Drops buckets idle for a minute or more: they are full again, forgetting them
  // changes nothing.
  virtual Result<std::size_t> DeleteIdle() = 0;
};

// Failed logins of one (username, client address) pair, kept in the database so that
// API replicas count them together (service/login_throttle.hpp decides what they mean).
struct LoginAttempts {
  int failures = 0;  // admitted attempts not (yet) successful
  std::int64_t last_failure_ms = 0;
  std::int64_t locked_until_ms = 0;
};

class SharedLoginAttempts {
 public:
  virtual ~SharedLoginAttempts() = default;
  // Reads the record of `key` (all zero when there is none), lets `change` alter it and
  // stores the result, holding the row locked throughout: replicas changing one key
  // take turns. `change` runs once, and must not call back into this object.
  virtual Status Update(std::string_view key,
                        const std::function<void(LoginAttempts&)>& change) = 0;
  virtual Status Forget(std::string_view key) = 0;
  // Drops records neither locked at `now_ms` nor failed within `idle_ms` before it: they
  // would start again from zero anyway.
  virtual Result<std::size_t> DeleteFinished(std::int64_t now_ms, std::int64_t idle_ms) = 0;
};

// Channels a ChangeFeed hears (PostgreSQL LISTEN/NOTIFY): work was queued (payload
// empty), a running execution was cancelled (payload: its id), an execution has new
// events (payload: its id — never the event itself: NOTIFY payloads stop at 8000 bytes).
inline constexpr std::string_view kWorkChannel = "integr8scode_work";
inline constexpr std::string_view kCancelChannel = "integr8scode_cancel";
inline constexpr std::string_view kEventsChannel = "integr8scode_events";

struct ChangeFeedCallbacks {
  std::function<void(std::string_view channel, std::string_view payload)> on_notify;
  // (Re)connected: notifications sent while disconnected are lost, so resynchronise.
  std::function<void()> on_connected;
};

// A dedicated connection listening to the channels above on its own thread; it reconnects
// by itself. Destruction stops it (waits for a callback in progress).
class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;
  virtual bool Connected() const = 0;
};

using ChangeFeedFactory = std::function<std::unique_ptr<ChangeFeed>(ChangeFeedCallbacks)>;

}  // namespace integr8scode
