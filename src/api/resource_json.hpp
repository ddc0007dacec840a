#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "domain/execution.hpp"
#include "domain/runtime.hpp"
#include "domain/user.hpp"

namespace integr8scode {

// The JSON shapes of docs/api.md for the stored records.

// "2026-11-27T17:20:01.123Z"
std::string Rfc3339(std::int64_t unix_ms);

// The execution object. Before the run ends the result fields are null/empty and
// resource_usage is null. `list_item` drops script, stdin, stdout and stderr and adds
// stdout_preview (the first 200 characters of stdout).
boost::json::object ExecutionToJson(const Execution& execution, bool list_item = false);
boost::json::object UserToJson(const User& user);
boost::json::object ScriptToJson(const Script& script);
boost::json::object RuntimeToJson(const Runtime& runtime, const RuntimeAvailability& availability);

// The first `characters` code points of valid UTF-8 text.
std::string Utf8Prefix(const std::string& text, std::size_t characters);

}  // namespace integr8scode
