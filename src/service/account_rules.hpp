#pragma once

#include <string_view>

#include "common/error.hpp"

namespace integr8scode {

// What a valid account looks like (docs/api.md, Accounts). Each fails with
// kInvalidArgument, reason "invalid_field", `field` set and a sentence saying the rule.

// 3–32 characters of [A-Za-z0-9_.-].
Status ValidateUsername(std::string_view username);
// One '@' with something before it, a domain with a dot inside it, at most 254 bytes,
// no spaces or control characters.
Status ValidateEmail(std::string_view email);
// 8–128 characters (Unicode code points), valid UTF-8.
Status ValidatePassword(std::string_view password);

// Usernames are one name whatever their ASCII case ("Admin" is "admin"), as the store
// keys them.
bool SameUsername(std::string_view a, std::string_view b);

// Counts code points of valid UTF-8 (each lead byte once).
std::size_t CountCodePoints(std::string_view utf8);

}  // namespace integr8scode
