#pragma once

#include <boost/json/object.hpp>
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
boost::json::object ResourceUsageToJson(const ResourceUsage& usage);
// "SIGKILL", "SIGSEGV", … or "SIG<n>" for numbers without a name.
std::string SignalName(int signal);

}  // namespace integr8scode
