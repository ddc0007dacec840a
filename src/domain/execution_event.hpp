#pragma once

#include <cstdint>
#include <string>

namespace integr8scode {

// One event of an execution's live stream (GET /executions/{id}/events).
struct ExecutionEvent {
  enum class Kind { kStatus, kStdout, kStderr, kResult };
  std::uint64_t seq = 0;  // 1, 2, 3… within one execution; the SSE id
  Kind kind = Kind::kStatus;
  // kStatus: the status name; kStdout/kStderr: the chunk (valid UTF-8);
  // kResult: empty — the subscriber reads the final record from the store.
  std::string data;
};

}  // namespace integr8scode
