#include "load/execution_json.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

namespace integr8scode {
namespace {

Result<boost::json::object> ParseObject(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  if (ec)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("answer is not JSON: {}", ec.message()));
  if (!value.is_object()) return Fail(ErrorCode::kInvalidArgument, "answer is not a JSON object");
  return std::move(value.as_object());
}

Result<std::string> StringField(const boost::json::object& object, std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("answer has no string '{}'", key));
  }
  return std::string(value->as_string());
}

Result<ExecutionStatus> StatusField(const boost::json::object& object) {
  auto name = StringField(object, "status");
  if (!name) return Fail(name.error());
  const auto status = ParseStatus(*name);
  if (!status)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("answer has an unknown status '{}'", *name));
  return *status;
}

// null or absent → nullopt; a string must be a timestamp.
Result<std::optional<std::int64_t>> TimeField(const boost::json::object& object,
                                              std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return std::optional<std::int64_t>();
  if (!value->is_string())
    return Fail(ErrorCode::kInvalidArgument, fmt::format("'{}' is not a string", key));
  auto ms = ParseRfc3339Milliseconds(value->as_string());
  if (!ms) return Fail(std::move(ms.error()).WithContext(key));
  return std::optional<std::int64_t>(*ms);
}

bool Digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

}  // namespace

Result<std::int64_t> ParseRfc3339Milliseconds(std::string_view text) {
  const auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("'{}' is not an RFC 3339 UTC time", text));
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' ||
      !Digits(text, 5, 2, month) || text[7] != '-' || !Digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !Digits(text, 11, 2, hour) || text[13] != ':' ||
      !Digits(text, 14, 2, minute) || text[16] != ':' || !Digits(text, 17, 2, second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return bad();
  std::size_t at = 19;
  int millis = 0;
  if (text[at] == '.') {
    ++at;
    const std::size_t start = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (at - start < 3) millis = millis * 10 + (text[at] - '0');
      ++at;
    }
    if (at == start || at - start > 9) return bad();
    for (std::size_t digits = at - start; digits < 3; ++digits) millis *= 10;
  }
  if (at + 1 != text.size() || (text[at] != 'Z' && text[at] != 'z')) return bad();
  const std::int64_t seconds =
      DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return seconds * 1000 + millis;
}

Result<SubmitReply> ParseSubmitReply(std::string_view body) {
  auto object = ParseObject(body);
  if (!object) return Fail(object.error());
  auto id = StringField(*object, "execution_id");
  if (!id) return Fail(id.error());
  auto status = StatusField(*object);
  if (!status) return Fail(status.error());
  return SubmitReply{std::move(*id), *status};
}

Result<ExecutionView> ParseExecution(std::string_view body) {
  auto object = ParseObject(body);
  if (!object) return Fail(object.error());
  ExecutionView view;
  auto id = StringField(*object, "execution_id");
  if (!id) return Fail(id.error());
  view.execution_id = std::move(*id);
  auto status = StatusField(*object);
  if (!status) return Fail(status.error());
  view.status = *status;
  if (const boost::json::value* out = object->if_contains("stdout");
      out != nullptr && out->is_string()) {
    view.stdout_text = std::string(out->as_string());
  }
  if (const boost::json::value* usage = object->if_contains("resource_usage");
      usage != nullptr && usage->is_object()) {
    if (const boost::json::value* cpu = usage->as_object().if_contains("cpu_time_ms");
        cpu != nullptr) {
      if (cpu->is_int64()) view.cpu_time_ms = cpu->as_int64();
      if (cpu->is_uint64()) view.cpu_time_ms = static_cast<std::int64_t>(cpu->as_uint64());
    }
  }
  auto created = TimeField(*object, "created_at");
  if (!created) return Fail(created.error());
  auto started = TimeField(*object, "started_at");
  if (!started) return Fail(started.error());
  auto finished = TimeField(*object, "finished_at");
  if (!finished) return Fail(finished.error());
  view.created_ms = *created;
  view.started_ms = *started;
  view.finished_ms = *finished;
  return view;
}

}  // namespace integr8scode
