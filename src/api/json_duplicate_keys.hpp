#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace integr8scode {

// RFC 8259 §4 leaves an object with a repeated name undefined, and parsers disagree
// (Boost.JSON keeps the last, others the first): a request whose meaning depends on the
// reader is refused rather than guessed at. Scans `json` (already known to be valid JSON)
// and returns the dotted path of the first name that repeats within one object
// ("limits.pids"), or nothing. Pure; thread-safe.
std::optional<std::string> FirstDuplicateKey(std::string_view json);

}  // namespace integr8scode
