#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "domain/execution.hpp"
#include "domain/limits.hpp"

namespace integr8scode {

// The result shape shared by `integr8scode run --json` and the HTTP API (docs/api.md):
// status, lang, lang_version, exit_code, signal, stdout, stderr, *_truncated, message,
// resource_usage, limits. The API adds the record fields around it.
boost::json::object RunResultToJson(const RunResult& result, std::string_view language,
                                    std::string_view version, const Limits& limits);
boost::json::object LimitsToJson(const Limits& limits);
// `compile_time_ms` is added when set (compiled runtimes).
boost::json::object ResourceUsageToJson(const ResourceUsage& usage,
                                        std::optional<std::int64_t> compile_time_ms = {});
// "SIGKILL", "SIGSEGV", … or "SIG<n>" for numbers without a name.
std::string SignalName(int signal);

}  // namespace integr8scode
