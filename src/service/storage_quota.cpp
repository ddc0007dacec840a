#include "service/storage_quota.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/units.hpp"

namespace integr8scode {
namespace {

Error QuotaExceeded(std::string message) {
  return MakeError(ErrorCode::kPermissionDenied, "quota_exceeded", std::move(message));
}

// "1 day", "6 hours", "90 seconds": a retention as a person would say it.
std::string Spoken(std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count();
  for (const auto& [unit, name] : {std::pair<std::int64_t, std::string_view>{86'400'000, "day"},
                                   {3'600'000, "hour"},
                                   {60'000, "minute"},
                                   {1'000, "second"}}) {
    if (ms % unit == 0) return fmt::format("{} {}{}", ms / unit, name, ms == unit ? "" : "s");
  }
  return FormatDuration(duration);
}

std::string HowToFreeExecutions(const Caller& caller, const RetentionPolicy& retention) {
  std::chrono::milliseconds kept = retention.retention;
  if (!caller.Authenticated() && retention.anonymous_retention.count() > 0 &&
      (kept.count() == 0 || retention.anonymous_retention < kept)) {
    kept = retention.anonymous_retention;
  }
  std::string how =
      "delete finished executions you no longer need (DELETE /api/v1/executions/{id})";
  if (kept.count() > 0) {
    how += fmt::format(", or wait: they are deleted {} after they end", Spoken(kept));
  }
  if (!caller.Authenticated()) how += ", or sign in to use an account's own quota";
  return how;
}

}  // namespace

Status CheckExecutionQuota(ExecutionStore& store, const Caller& caller, std::uint64_t adding_bytes,
                           const QuotaOptions& quotas, const RetentionPolicy& retention) {
  const bool user = caller.Authenticated();
  const std::size_t max_count = user ? quotas.executions_per_user : quotas.executions_per_address;
  const std::uint64_t max_bytes =
      user ? quotas.execution_bytes_per_user : quotas.execution_bytes_per_address;
  if (max_count == 0 && max_bytes == 0) return {};
  auto usage = store.UsageOf(caller.OwnerKey());
  if (!usage) return Fail(std::move(usage.error()).WithContext("execution quota"));
  const std::string_view who =
      user ? "your account keeps" : "anonymous runs from your address keep";
  if (max_count != 0 && usage->count >= max_count) {
    return Fail(QuotaExceeded(fmt::format("{} {} executions, the most allowed; {}", who,
                                          usage->count, HowToFreeExecutions(caller, retention))));
  }
  if (max_bytes != 0 && usage->bytes + adding_bytes > max_bytes) {
    return Fail(QuotaExceeded(fmt::format(
        "{} {} of scripts, stdin and output; this run's {} more would pass the quota of {}; {}",
        who, FormatByteSize(usage->bytes), FormatByteSize(adding_bytes), FormatByteSize(max_bytes),
        HowToFreeExecutions(caller, retention))));
  }
  return {};
}

Status CheckScriptQuota(ScriptStore& store, std::int64_t owner_id, std::uint64_t new_bytes,
                        std::optional<std::uint64_t> replaced_bytes, const QuotaOptions& quotas) {
  if (quotas.scripts_per_user == 0 && quotas.script_bytes_per_user == 0) return {};
  auto usage = store.UsageOf(owner_id);
  if (!usage) return Fail(std::move(usage.error()).WithContext("script quota"));
  constexpr std::string_view kHow =
      "delete scripts you no longer need (DELETE /api/v1/scripts/{id})";
  if (!replaced_bytes && quotas.scripts_per_user != 0 && usage->count >= quotas.scripts_per_user) {
    return Fail(QuotaExceeded(fmt::format("you already keep {} saved scripts, the most allowed; {}",
                                          usage->count, kHow)));
  }
  const std::uint64_t kept = usage->bytes - std::min(usage->bytes, replaced_bytes.value_or(0));
  if (quotas.script_bytes_per_user != 0 && kept + new_bytes > quotas.script_bytes_per_user) {
    return Fail(QuotaExceeded(fmt::format(
        "your saved scripts take {}; with this one's {} that passes the quota of {}; {}",
        FormatByteSize(kept), FormatByteSize(new_bytes),
        FormatByteSize(quotas.script_bytes_per_user), kHow)));
  }
  return {};
}

}  // namespace integr8scode
