#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/error.hpp"
#include "domain/cluster_queue.hpp"

namespace integr8scode {

// Failed logins counted per (username, client address): after `max_failures` in a row
// from one address, that address may not try that username again until `lock_duration`
// has passed. Other addresses keep trying (and the right password keeps working from
// them), so nobody can lock a user out from elsewhere. Names are counted whether or not
// an account exists, so the answers say nothing about which ones do. A count left alone
// for `lock_duration` starts again.
//
// Given SharedLoginAttempts (PostgreSQL), the counts live in the database and every API
// replica counts with the others: N replicas allow an address what one would. While the
// database cannot be reached the replica counts in its own memory (as without it).
//
// Memory is bounded: at most `max_entries` pairs; when full, finished entries go first,
// then the least recently failed (locked ones last). Kept in memory without a shared
// store: a restart (or another API process) starts from zero. Thread-safe.
class LoginThrottle {
 public:
  struct Options {
    int max_failures = 5;
    std::chrono::milliseconds lock_duration{std::chrono::minutes(15)};
    std::size_t max_entries = 100000;
  };

  explicit LoginThrottle(Options options, std::shared_ptr<SharedLoginAttempts> shared = nullptr)
      : options_(options), shared_(std::move(shared)) {}

  // Called before the password is checked: counts the attempt as a failure until
  // RecordSuccess says otherwise, so parallel attempts cannot pass the limit together.
  // Returns the time (Unix ms) until which `source` may not try `username` (then nothing
  // is counted); empty when it may go on.
  std::optional<std::int64_t> Admit(std::string_view username, std::string_view source,
                                    std::int64_t now_ms);
  // The admitted attempt failed; returns the end of the lock when it started one.
  std::optional<std::int64_t> RecordFailure(std::string_view username, std::string_view source,
                                            std::int64_t now_ms);
  // The admitted attempt succeeded: the pair's count is forgotten.
  void RecordSuccess(std::string_view username, std::string_view source);
  std::size_t Size();
  // Deletes the shared records that would start again anyway (none without a shared store).
  Result<std::size_t> SweepShared(std::int64_t now_ms);

 private:
  using Entry = LoginAttempts;

  // The rules, applied to an entry wherever it is kept. Restart: a count left alone long
  // enough, or a lock that ran out, starts again.
  void Restart(Entry& entry, std::int64_t now_ms) const;
  std::optional<std::int64_t> AdmitEntry(Entry& entry, std::int64_t now_ms) const;
  std::optional<std::int64_t> FailEntry(Entry& entry, std::int64_t now_ms) const;
  // Applies `rule` to the shared record of the pair; empty when the store failed.
  std::optional<std::optional<std::int64_t>> UpdateShared(
      std::string_view username, std::string_view source,
      const std::function<std::optional<std::int64_t>(Entry&)>& rule);

  static std::string Key(std::string_view username, std::string_view source);
  // The pair's entry in memory, created (making room) if missing; mutex_ held.
  Entry& Current(std::string_view username, std::string_view source, std::int64_t now_ms);
  // Makes room for one more entry; mutex_ held.
  void Evict(std::int64_t now_ms);
  bool Finished(const Entry& entry, std::int64_t now_ms) const;

  const Options options_;
  const std::shared_ptr<SharedLoginAttempts> shared_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mutex_
};

}  // namespace integr8scode
