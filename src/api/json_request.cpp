#include "api/json_request.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <cmath>

#include "api/json_duplicate_keys.hpp"
#include "api/problem.hpp"
#include "common/utf8.hpp"

namespace integr8scode {
namespace {

std::string_view KindName(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "a value";
}

}  // namespace

Result<boost::json::object> ParseJsonObject(std::string_view body) {
  if (!IsValidUtf8(body)) {
    return Fail(MakeError(ErrorCode::kInvalidArgument, "invalid_utf8",
                          "The request body is not valid UTF-8; send JSON encoded as UTF-8."));
  }
  boost::json::stream_parser parser;
  boost::system::error_code ec;
  const std::size_t used = parser.write_some(body.data(), body.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    // Point at the byte where parsing stopped, so the client can find the mistake.
    const std::size_t offset = std::min(used, body.size());
    std::string message =
        body.empty() ? "The request body is empty; send a JSON object."
                     : fmt::format("The request body is not valid JSON (error near byte {}: {}).",
                                   offset, ec.message());
    return Fail(MakeError(ErrorCode::kInvalidArgument, "malformed_json", std::move(message)));
  }
  if (auto duplicate = FirstDuplicateKey(body)) {
    Error error = MakeError(
        ErrorCode::kInvalidArgument,
        fmt::format("field '{}' appears more than once in the request; send each field once",
                    QuoteForDetail(*duplicate)));
    error.field = std::move(*duplicate);
    return Fail(std::move(error));
  }
  boost::json::value value = parser.release();
  if (!value.is_object()) {
    return Fail(
        MakeError(ErrorCode::kInvalidArgument,
                  fmt::format("The request body must be a JSON object, not {}.", KindName(value))));
  }
  return std::move(value.as_object());
}

JsonFields::JsonFields(const boost::json::object& object, std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {}

std::string JsonFields::Path(std::string_view name) const {
  return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
}

Error JsonFields::FieldError(std::string_view name, std::string message) const {
  Error error = MakeError(ErrorCode::kInvalidArgument, std::move(message));
  error.field = Path(name);
  return error;
}

const boost::json::value* JsonFields::Lookup(std::string_view name) {
  known_.emplace(name);
  const boost::json::value* value = object_.if_contains(name);
  return value;
}

Result<std::string> JsonFields::RequiredString(std::string_view name) {
  const boost::json::value* value = Lookup(name);
  if (value == nullptr) {
    return Fail(FieldError(name, fmt::format("field '{}' is required", Path(name))));
  }
  if (!value->is_string()) {
    return Fail(FieldError(
        name, fmt::format("field '{}' must be a string, not {}", Path(name), KindName(*value))));
  }
  return std::string(value->as_string());
}

Result<std::optional<std::string>> JsonFields::OptionalString(std::string_view name) {
  const boost::json::value* value = Lookup(name);
  if (value == nullptr || value->is_null()) return std::optional<std::string>();
  if (!value->is_string()) {
    return Fail(FieldError(
        name, fmt::format("field '{}' must be a string, not {}", Path(name), KindName(*value))));
  }
  return std::optional<std::string>(std::string(value->as_string()));
}

Result<std::optional<std::uint64_t>> JsonFields::OptionalUnsigned(std::string_view name,
                                                                  std::uint64_t maximum) {
  const boost::json::value* value = Lookup(name);
  if (value == nullptr || value->is_null()) return std::optional<std::uint64_t>();
  const auto bad = [&] {
    return Fail(FieldError(
        name, fmt::format("field '{}' must be a whole number from 0 to {}", Path(name), maximum)));
  };
  std::uint64_t number = 0;
  if (value->is_uint64()) {
    number = value->as_uint64();
  } else if (value->is_int64()) {
    if (value->as_int64() < 0) return bad();
    number = static_cast<std::uint64_t>(value->as_int64());
  } else if (value->is_double()) {
    const double d = value->as_double();
    if (!(d >= 0) || d != std::floor(d) || d > static_cast<double>(maximum)) return bad();
    number = static_cast<std::uint64_t>(d);
  } else {
    return Fail(FieldError(
        name, fmt::format("field '{}' must be a number, not {}", Path(name), KindName(*value))));
  }
  if (number > maximum) return bad();
  return std::optional<std::uint64_t>(number);
}

Result<const boost::json::object*> JsonFields::OptionalObject(std::string_view name) {
  const boost::json::value* value = Lookup(name);
  if (value == nullptr || value->is_null()) return static_cast<const boost::json::object*>(nullptr);
  if (!value->is_object()) {
    return Fail(FieldError(
        name, fmt::format("field '{}' must be an object, not {}", Path(name), KindName(*value))));
  }
  return &value->as_object();
}

Status JsonFields::Finish() const {
  for (const auto& entry : object_) {
    const std::string_view key = entry.key();
    if (known_.find(key) != known_.end()) continue;
    std::string allowed;
    for (const std::string& name : known_) allowed += (allowed.empty() ? "" : ", ") + name;
    return Fail(FieldError(
        key, fmt::format("unknown field '{}'; allowed: {}", QuoteForDetail(Path(key)), allowed)));
  }
  return {};
}

}  // namespace integr8scode
