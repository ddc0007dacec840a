#pragma once

#include <string>
#include <string_view>

namespace integr8scode {

// Appends `text` as a JSON string literal (quotes included). Invalid UTF-8 is
// replaced by U+FFFD so the output is always valid JSON.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace integr8scode
