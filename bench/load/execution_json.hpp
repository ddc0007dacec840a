#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "domain/status.hpp"

namespace integr8scode {

// The parts of the server's answers (docs/api.md) that the load generator follows.
// Parsers fail with kInvalidArgument and say what was wrong: an answer the generator
// cannot read is counted as an error of the server, not of the network.

// `202 {"execution_id", "status"}` of POST /execute.
struct SubmitReply {
  std::string execution_id;
  ExecutionStatus status = ExecutionStatus::kQueued;
};
Result<SubmitReply> ParseSubmitReply(std::string_view body);

// The execution object of GET /executions/{id} or of POST /execute?wait=true.
// Timestamps are Unix milliseconds; absent while the execution has not reached them.
struct ExecutionView {
  std::string execution_id;
  ExecutionStatus status = ExecutionStatus::kQueued;
  std::string stdout_text;
  std::optional<std::int64_t> created_ms;
  std::optional<std::int64_t> started_ms;
  std::optional<std::int64_t> finished_ms;
  std::optional<std::int64_t> cpu_time_ms;  // resource_usage.cpu_time_ms, once finished
};
Result<ExecutionView> ParseExecution(std::string_view body);

// "2026-11-27T17:20:01.123Z" → Unix milliseconds. Accepts what the server writes: UTC
// ("Z"), and 0 to 9 fraction digits (kept to milliseconds).
Result<std::int64_t> ParseRfc3339Milliseconds(std::string_view text);

}  // namespace integr8scode
