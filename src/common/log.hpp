#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <variant>

namespace integr8scode {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// One key of a structured log line. Values are copied into the line at once.
struct LogField {
  std::string_view key;
  std::variant<std::string_view, std::int64_t, double, bool> value;

  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, std::int64_t v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(std::int64_t{v}) {}
  LogField(std::string_view k, unsigned v) : key(k), value(std::int64_t{v}) {}
  LogField(std::string_view k, std::uint64_t v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
};

enum class LogFormat { kJson, kText };

// Process-wide logger writing one line per call to stderr with a single write(2),
// so lines from threads never interleave. Thread-safe. Configure before threads start.
void ConfigureLogging(LogLevel min_level, LogFormat format);
bool LogEnabled(LogLevel level);
void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

std::string_view LogLevelName(LogLevel level);

}  // namespace integr8scode
