#include "service/login_throttle.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace integr8scode {

std::string LoginThrottle::Key(std::string_view username, std::string_view source) {
  // Usernames are one name in any ASCII case; '\n' cannot occur in either part.
  std::string key;
  key.reserve(username.size() + 1 + source.size());
  for (const char c : username) {
    key.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  key.push_back('\n');
  key.append(source);
  return key;
}

bool LoginThrottle::Finished(const Entry& entry, std::int64_t now_ms) const {
  return now_ms >= entry.locked_until_ms &&
         now_ms - entry.last_failure_ms >= options_.lock_duration.count();
}

void LoginThrottle::Restart(Entry& entry, std::int64_t now_ms) const {
  // Rather than re-locking at the next failure after a lock ran out.
  if (Finished(entry, now_ms) || (entry.locked_until_ms != 0 && now_ms >= entry.locked_until_ms)) {
    entry = Entry{};
  }
}

std::optional<std::int64_t> LoginThrottle::AdmitEntry(Entry& entry, std::int64_t now_ms) const {
  Restart(entry, now_ms);
  if (now_ms < entry.locked_until_ms) return entry.locked_until_ms;
  if (entry.failures >= options_.max_failures) {
    // The limit is taken by attempts still being checked: one more would pass it.
    entry.locked_until_ms = now_ms + options_.lock_duration.count();
    return entry.locked_until_ms;
  }
  ++entry.failures;
  entry.last_failure_ms = now_ms;
  return std::nullopt;
}

std::optional<std::int64_t> LoginThrottle::FailEntry(Entry& entry, std::int64_t now_ms) const {
  Restart(entry, now_ms);
  // Evicted or restarted since it was admitted: the attempt still counts.
  if (entry.failures == 0) entry.failures = 1;
  entry.last_failure_ms = now_ms;
  if (entry.failures < options_.max_failures) return std::nullopt;
  entry.locked_until_ms = now_ms + options_.lock_duration.count();
  return entry.locked_until_ms;
}

std::optional<std::optional<std::int64_t>> LoginThrottle::UpdateShared(
    std::string_view username, std::string_view source,
    const std::function<std::optional<std::int64_t>(Entry&)>& rule) {
  if (!shared_) return std::nullopt;
  std::optional<std::int64_t> outcome;
  Status updated = shared_->Update(Key(username, source),
                                   [&](LoginAttempts& attempts) { outcome = rule(attempts); });
  if (!updated) {
    Log(LogLevel::kWarn, "cannot count failed logins in the database; counting in this process",
        {{"error", updated.error().Describe()}});
    return std::nullopt;
  }
  return outcome;
}

LoginThrottle::Entry& LoginThrottle::Current(std::string_view username, std::string_view source,
                                             std::int64_t now_ms) {
  std::string key = Key(username, source);
  auto found = entries_.find(key);
  if (found == entries_.end()) {
    if (entries_.size() >= options_.max_entries) Evict(now_ms);
    found = entries_.emplace(std::move(key), Entry{}).first;
  }
  return found->second;
}

std::optional<std::int64_t> LoginThrottle::Admit(std::string_view username, std::string_view source,
                                                 std::int64_t now_ms) {
  if (auto shared =
          UpdateShared(username, source, [&](Entry& entry) { return AdmitEntry(entry, now_ms); })) {
    return *shared;
  }
  std::lock_guard lock(mutex_);
  return AdmitEntry(Current(username, source, now_ms), now_ms);
}

std::optional<std::int64_t> LoginThrottle::RecordFailure(std::string_view username,
                                                         std::string_view source,
                                                         std::int64_t now_ms) {
  if (auto shared =
          UpdateShared(username, source, [&](Entry& entry) { return FailEntry(entry, now_ms); })) {
    return *shared;
  }
  std::lock_guard lock(mutex_);
  return FailEntry(Current(username, source, now_ms), now_ms);
}

void LoginThrottle::RecordSuccess(std::string_view username, std::string_view source) {
  if (shared_) {
    if (Status forgotten = shared_->Forget(Key(username, source)); !forgotten) {
      Log(LogLevel::kWarn, "cannot reset failed logins in the database",
          {{"error", forgotten.error().Describe()}});
    }
  }
  std::lock_guard lock(mutex_);
  entries_.erase(Key(username, source));
}

std::size_t LoginThrottle::Size() {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

Result<std::size_t> LoginThrottle::SweepShared(std::int64_t now_ms) {
  if (!shared_) return std::size_t{0};
  return shared_->DeleteFinished(now_ms, options_.lock_duration.count());
}

void LoginThrottle::Evict(std::int64_t now_ms) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = Finished(it->second, now_ms) ? entries_.erase(it) : std::next(it);
  }
  if (entries_.size() < options_.max_entries) return;
  // Locks go last: flooding the table with new names must not unlock an address.
  const auto oldest =
      std::min_element(entries_.begin(), entries_.end(), [now_ms](const auto& a, const auto& b) {
        const bool a_locked = now_ms < a.second.locked_until_ms;
        const bool b_locked = now_ms < b.second.locked_until_ms;
        if (a_locked != b_locked) return b_locked;
        return a.second.last_failure_ms < b.second.last_failure_ms;
      });
  entries_.erase(oldest);
}

}  // namespace integr8scode
