#include "api/resource_json.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <ctime>

#include "api/result_json.hpp"
#include "domain/status.hpp"

namespace integr8scode {
namespace {

boost::json::value OptionalTime(const std::optional<std::int64_t>& unix_ms) {
  return unix_ms ? boost::json::value(Rfc3339(*unix_ms)) : boost::json::value(nullptr);
}

}  // namespace

std::string Rfc3339(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, unix_ms % 1000);
}

std::string Utf8Prefix(const std::string& text, std::size_t characters) {
  std::size_t end = 0;
  std::size_t count = 0;
  while (end < text.size() && count < characters) {
    ++end;
    // Continuation bytes (10xxxxxx) belong to the character before them.
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    ++count;
  }
  return text.substr(0, end);
}

boost::json::object ExecutionToJson(const Execution& execution, bool list_item) {
  boost::json::object out;
  out["execution_id"] = execution.id;
  const bool finished = IsTerminal(execution.status);
  if (finished) {
    for (auto& entry : RunResultToJson(execution.result, execution.language, execution.version,
                                       execution.limits)) {
      out[entry.key()] = std::move(entry.value());
    }
  } else {
    out["lang"] = execution.language;
    out["lang_version"] = execution.version;
    out["exit_code"] = nullptr;
    out["signal"] = nullptr;
    out["stdout"] = "";
    out["stderr"] = "";
    out["stdout_truncated"] = false;
    out["stderr_truncated"] = false;
    out["message"] = nullptr;
    out["resource_usage"] = nullptr;
    out["limits"] = LimitsToJson(execution.limits);
  }
  // The record's status is the truth (a cancelled run's result may say otherwise).
  out["status"] = StatusName(execution.status);
  out["script"] = execution.script;
  out["stdin"] = execution.stdin_data;
  out["owner_id"] =
      execution.owner_id ? boost::json::value(*execution.owner_id) : boost::json::value(nullptr);
  out["public"] = execution.is_public;
  out["attempts"] = execution.attempts;
  out["retry_of"] =
      execution.retry_of ? boost::json::value(*execution.retry_of) : boost::json::value(nullptr);
  out["created_at"] = Rfc3339(execution.created_at_ms);
  out["started_at"] = OptionalTime(execution.started_at_ms);
  out["finished_at"] = OptionalTime(execution.finished_at_ms);
  if (list_item) {
    out["stdout_preview"] = Utf8Prefix(execution.result.stdout_text, 200);
    out.erase("script");
    out.erase("stdin");
    out.erase("stdout");
    out.erase("stderr");
  }
  return out;
}

boost::json::object UserToJson(const User& user) {
  return {
      {"id", user.id},
      {"username", user.username},
      {"email", user.email},
      {"role", RoleName(user.role)},
      {"created_at", Rfc3339(user.created_at_ms)},
  };
}

boost::json::object ScriptToJson(const Script& script) {
  return {
      {"id", script.id},
      {"name", script.name},
      {"lang", script.language},
      {"lang_version", script.version},
      {"script", script.content},
      {"created_at", Rfc3339(script.created_at_ms)},
      {"updated_at", Rfc3339(script.updated_at_ms)},
  };
}

boost::json::object RuntimeToJson(const Runtime& runtime, const RuntimeAvailability& availability) {
  return {
      {"lang", runtime.language},
      {"version", runtime.version},
      {"display_name", runtime.display_name},
      {"implementation", runtime.implementation},
      {"file_extension", runtime.file_extension},
      {"editor_mode", runtime.editor_mode},
      {"available", availability.available},
      {"reason", availability.reason},
      {"has_compile", runtime.has_compile},
      {"source", runtime.rootfs.Empty() ? std::string("host") : "debian " + runtime.rootfs.suite},
  };
}

}  // namespace integr8scode
