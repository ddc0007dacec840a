#include "service/login_throttle.hpp"

#include <algorithm>

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

LoginThrottle::Entry& LoginThrottle::Current(std::string_view username, std::string_view source,
                                             std::int64_t now_ms) {
  std::string key = Key(username, source);
  auto found = entries_.find(key);
  if (found == entries_.end()) {
    if (entries_.size() >= options_.max_entries) Evict(now_ms);
    found = entries_.emplace(std::move(key), Entry{}).first;
  }
  Entry& entry = found->second;
  // A count left alone long enough, or a lock that ran out, starts again (rather than
  // re-locking at the next failure).
  if (Finished(entry, now_ms) || (entry.locked_until_ms != 0 && now_ms >= entry.locked_until_ms)) {
    entry = Entry{};
  }
  return entry;
}

std::optional<std::int64_t> LoginThrottle::Admit(std::string_view username, std::string_view source,
                                                 std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  Entry& entry = Current(username, source, now_ms);
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

std::optional<std::int64_t> LoginThrottle::RecordFailure(std::string_view username,
                                                         std::string_view source,
                                                         std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  Entry& entry = Current(username, source, now_ms);
  // Evicted or restarted since it was admitted: the attempt still counts.
  if (entry.failures == 0) entry.failures = 1;
  entry.last_failure_ms = now_ms;
  if (entry.failures < options_.max_failures) return std::nullopt;
  entry.locked_until_ms = now_ms + options_.lock_duration.count();
  return entry.locked_until_ms;
}

void LoginThrottle::RecordSuccess(std::string_view username, std::string_view source) {
  std::lock_guard lock(mutex_);
  entries_.erase(Key(username, source));
}

std::size_t LoginThrottle::Size() {
  std::lock_guard lock(mutex_);
  return entries_.size();
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
