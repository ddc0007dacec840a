#include "api/result_json.hpp"

#include <signal.h>

#include <boost/json.hpp>
#include <string>

#include "domain/status.hpp"

namespace integr8scode {

std::string SignalName(int signal) {
  // sigabbrev_np (glibc 2.32+) gives the name without the SIG prefix.
  if (const char* name = ::sigabbrev_np(signal)) return std::string("SIG") + name;
  return "SIG" + std::to_string(signal);
}

boost::json::object LimitsToJson(const Limits& limits) {
  return {
      {"memory_bytes", limits.memory_bytes},       {"cpu_millicores", limits.cpu_millicores},
      {"timeout_ms", limits.timeout.count()},      {"pids", limits.pids},
      {"output_bytes", limits.output_bytes},       {"tmpfs_bytes", limits.tmpfs_bytes},
      {"file_size_bytes", limits.file_size_bytes}, {"open_files", limits.open_files},
  };
}

boost::json::object ResourceUsageToJson(const ResourceUsage& usage,
                                        std::optional<std::int64_t> compile_time_ms) {
  boost::json::object out{
      {"wall_time_ms", usage.wall_time_ms},
      {"cpu_time_ms", usage.cpu_time_ms},
      {"peak_memory_bytes", usage.peak_memory_bytes},
  };
  if (compile_time_ms) out["compile_time_ms"] = *compile_time_ms;
  return out;
}

boost::json::object RunResultToJson(const RunResult& result, std::string_view language,
                                    std::string_view version, const Limits& limits) {
  boost::json::object out;
  out["status"] = StatusName(result.status);
  out["lang"] = language;
  out["lang_version"] = version;
  out["exit_code"] = result.exit_code ? boost::json::value(*result.exit_code) : nullptr;
  out["signal"] = result.signal ? boost::json::value(SignalName(*result.signal)) : nullptr;
  out["stdout"] = result.stdout_text;
  out["stderr"] = result.stderr_text;
  out["stdout_truncated"] = result.stdout_truncated;
  out["stderr_truncated"] = result.stderr_truncated;
  out["message"] =
      result.message.empty() ? boost::json::value(nullptr) : boost::json::value(result.message);
  out["resource_usage"] = ResourceUsageToJson(result.usage, result.compile_time_ms);
  out["limits"] = LimitsToJson(limits);
  return out;
}

}  // namespace integr8scode
