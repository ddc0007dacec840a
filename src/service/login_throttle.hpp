#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace integr8scode {

// Failed logins counted per (username, client address): after `max_failures` in a row
// from one address, that address may not try that username again until `lock_duration`
// has passed. Other addresses keep trying (and the right password keeps working from
// them), so nobody can lock a user out from elsewhere. Names are counted whether or not
// an account exists, so the answers say nothing about which ones do. A count left alone
// for `lock_duration` starts again.
//
// Memory is bounded: at most `max_entries` pairs; when full, finished entries go first,
// then the least recently failed (locked ones last). Kept in memory: a restart (or another API
// process) starts from zero. Thread-safe.
class LoginThrottle {
 public:
  struct Options {
    int max_failures = 5;
    std::chrono::milliseconds lock_duration{std::chrono::minutes(15)};
    std::size_t max_entries = 100000;
  };

  explicit LoginThrottle(Options options) : options_(options) {}

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

 private:
  struct Entry {
    int failures = 0;  // admitted attempts not (yet) successful
    std::int64_t last_failure_ms = 0;
    std::int64_t locked_until_ms = 0;
  };

  static std::string Key(std::string_view username, std::string_view source);
  // The pair's entry, created (making room) or restarted when its count has run out;
  // mutex_ held.
  Entry& Current(std::string_view username, std::string_view source, std::int64_t now_ms);
  // Makes room for one more entry; mutex_ held.
  void Evict(std::int64_t now_ms);
  bool Finished(const Entry& entry, std::int64_t now_ms) const;

  const Options options_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mutex_
};

}  // namespace integr8scode
