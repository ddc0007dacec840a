#include "common/log.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <string>

#include "common/json_escape.hpp"

namespace integr8scode {
namespace {

std::atomic<LogLevel> g_min_level{LogLevel::kInfo};
std::atomic<LogFormat> g_format{LogFormat::kJson};

std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

void AppendValue(std::string& line, const LogField& field, bool json) {
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string_view>) {
          if (json) {
            AppendJsonString(line, v);
          } else {
            line.append(v);
          }
        } else if constexpr (std::is_same_v<V, bool>) {
          line.append(v ? "true" : "false");
        } else {
          line.append(fmt::format("{}", v));
        }
      },
      field.value);
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void ConfigureLogging(LogLevel min_level, LogFormat format) {
  g_min_level.store(min_level);
  g_format.store(format);
}

bool LogEnabled(LogLevel level) { return level >= g_min_level.load(std::memory_order_relaxed); }

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  std::string line;
  line.reserve(128);
  if (g_format.load(std::memory_order_relaxed) == LogFormat::kJson) {
    line.append("{\"ts\":\"").append(Timestamp()).append("\",\"level\":\"");
    line.append(LogLevelName(level)).append("\",\"msg\":");
    AppendJsonString(line, message);
    for (const LogField& field : fields) {
      line.push_back(',');
      AppendJsonString(line, field.key);
      line.push_back(':');
      AppendValue(line, field, true);
    }
    line.append("}\n");
  } else {
    line.append(Timestamp()).append(" ").append(LogLevelName(level)).append(" ").append(message);
    for (const LogField& field : fields) {
      line.append(" ").append(field.key).append("=");
      AppendValue(line, field, false);
    }
    line.push_back('\n');
  }
  // One write per line; a short write on a pipe under load is retried for the rest.
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (n <= 0) break;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace integr8scode
