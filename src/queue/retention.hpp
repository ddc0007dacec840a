#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "common/error.hpp"
#include "domain/stores.hpp"

namespace integr8scode {

// Deletes the finished executions older than `retention` (finished before now −
// retention); with `anonymous_only`, only those without an owner. A zero retention
// keeps everything and deletes nothing. Returns how many were deleted.
Result<std::size_t> SweepFinishedExecutions(ExecutionStore& store,
                                            std::chrono::milliseconds retention,
                                            std::int64_t now_ms, bool anonymous_only = false);

}  // namespace integr8scode
