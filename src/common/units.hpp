#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace integr8scode {

// Parses human quantities used by limits, the CLI and the config file.
// All return kInvalidArgument with a sentence naming the accepted forms.

// "128M", "128MiB", "64k", "1G", "1048576" (bytes); suffixes are binary (K = 1024).
Result<std::uint64_t> ParseByteSize(std::string_view text);
// "5s", "500ms", "2m", "1.5s"; a bare number is seconds.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);
// "1", "0.5", "100m" (millicores); returns millicores.
Result<std::uint32_t> ParseCpu(std::string_view text);

// Inverse forms for messages and JSON: "128 MiB", "5 s", "1000m".
std::string FormatByteSize(std::uint64_t bytes);
std::string FormatDuration(std::chrono::milliseconds duration);

}  // namespace integr8scode
