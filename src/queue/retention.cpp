#include "queue/retention.hpp"

#include "common/log.hpp"

namespace integr8scode {

Result<std::size_t> SweepFinishedExecutions(ExecutionStore& store,
                                            std::chrono::milliseconds retention,
                                            std::int64_t now_ms, bool anonymous_only) {
  if (retention.count() <= 0) return std::size_t{0};
  auto deleted = store.DeleteFinishedBefore(now_ms - retention.count(), anonymous_only);
  if (!deleted) return Fail(std::move(deleted.error()).WithContext("retention sweep"));
  if (*deleted > 0) {
    Log(LogLevel::kInfo, "deleted old executions",
        {{"deleted", *deleted},
         {"anonymous_only", anonymous_only},
         {"retention_ms", static_cast<std::int64_t>(retention.count())}});
  }
  return deleted;
}

}  // namespace integr8scode
