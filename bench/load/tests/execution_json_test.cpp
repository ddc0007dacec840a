#include "load/execution_json.hpp"

#include <gtest/gtest.h>
#include <time.h>

namespace integr8scode {
namespace {

// The execution object as docs/api.md gives it.
constexpr const char* kFinished = R"json({
  "execution_id": "7d0e1b2c-0000-4000-8000-000000000001", "status": "completed",
  "lang": "python", "lang_version": "3.11", "exit_code": 0, "signal": null,
  "stdout": "hi 3 17\n", "stderr": "", "stdout_truncated": false, "stderr_truncated": false,
  "message": null,
  "resource_usage": {"wall_time_ms": 31, "cpu_time_ms": 24, "peak_memory_bytes": 9617408},
  "limits": {"memory_bytes": 134217728, "cpu_millicores": 1000, "timeout_ms": 5000},
  "script": "print('hi', 3, 17)", "stdin": "", "owner_id": null, "attempts": 1, "retry_of": null,
  "created_at": "2026-11-27T17:20:01.123Z", "started_at": "2026-11-27T17:20:01.200Z",
  "finished_at": "2026-11-27T17:20:01.231Z"})json";

std::int64_t TimegmMillis(int year, int month, int day, int hour, int minute, int second,
                          int millis) {
  tm parts{};
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  return static_cast<std::int64_t>(::timegm(&parts)) * 1000 + millis;
}

TEST(ParseRfc3339, AgreesWithTimegm) {
  EXPECT_EQ(*ParseRfc3339Milliseconds("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(*ParseRfc3339Milliseconds("2026-11-27T17:20:01.123Z"),
            TimegmMillis(2026, 11, 27, 17, 20, 1, 123));
  EXPECT_EQ(*ParseRfc3339Milliseconds("2024-02-29T23:59:59Z"),
            TimegmMillis(2024, 2, 29, 23, 59, 59, 0));
  EXPECT_EQ(*ParseRfc3339Milliseconds("2000-03-01T00:00:00.5Z"),
            TimegmMillis(2000, 3, 1, 0, 0, 0, 500));
  EXPECT_EQ(*ParseRfc3339Milliseconds("2031-12-31T12:00:00.123456789Z"),
            TimegmMillis(2031, 12, 31, 12, 0, 0, 123));
}

TEST(ParseRfc3339, RefusesWhatIsNotAUtcTimestamp) {
  for (const char* text :
       {"", "2026-11-27", "2026-11-27T17:20:01.123", "2026-11-27T17:20:01.123+01:00",
        "2026-13-01T00:00:00Z", "2026-11-27 17:20:01Z", "2026-11-27T17:20:01.Z",
        "2026-11-27T25:00:00Z", "2026-11-27T17:20:01.123Zjunk", "abcd-11-27T17:20:01Z"}) {
    EXPECT_FALSE(ParseRfc3339Milliseconds(text)) << text;
  }
}

TEST(ParseExecution, ReadsStatusStdoutAndTimestamps) {
  auto view = ParseExecution(kFinished);
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_EQ(view->execution_id, "7d0e1b2c-0000-4000-8000-000000000001");
  EXPECT_EQ(view->status, ExecutionStatus::kCompleted);
  EXPECT_EQ(view->stdout_text, "hi 3 17\n");
  ASSERT_TRUE(view->created_ms && view->started_ms && view->finished_ms);
  EXPECT_EQ(*view->started_ms - *view->created_ms, 77);
  EXPECT_EQ(*view->finished_ms - *view->started_ms, 31);
  EXPECT_EQ(view->cpu_time_ms, 24);
}

TEST(ParseExecution, QueuedExecutionHasNoStartOrFinish) {
  auto view = ParseExecution(
      R"({"execution_id": "x", "status": "queued", "stdout": "", "created_at": "2026-11-27T17:20:01.123Z",
          "started_at": null, "finished_at": null, "resource_usage": null})");
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_EQ(view->status, ExecutionStatus::kQueued);
  EXPECT_FALSE(IsTerminal(view->status));
  EXPECT_TRUE(view->created_ms);
  EXPECT_FALSE(view->started_ms);
  EXPECT_FALSE(view->finished_ms);
  EXPECT_FALSE(view->cpu_time_ms);
}

TEST(ParseExecution, RefusesUnreadableAnswers) {
  EXPECT_FALSE(ParseExecution("not json"));
  EXPECT_FALSE(ParseExecution("[1, 2]"));
  EXPECT_FALSE(ParseExecution(R"({"status": "completed"})"));                      // no id
  EXPECT_FALSE(ParseExecution(R"({"execution_id": "x", "status": "finished"})"));  // unknown status
  EXPECT_FALSE(ParseExecution(R"({"execution_id": "x", "status": 3})"));           // wrong type
  EXPECT_FALSE(
      ParseExecution(R"({"execution_id": "x", "status": "queued", "created_at": "yesterday"})"));
}

TEST(ParseSubmitReply, ReadsTheAcceptedAnswer) {
  auto reply = ParseSubmitReply(R"({"execution_id": "abc", "status": "queued"})");
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->execution_id, "abc");
  EXPECT_EQ(reply->status, ExecutionStatus::kQueued);
  EXPECT_FALSE(ParseSubmitReply(R"({"type": "about:blank", "status": 503})"));
}

}  // namespace
}  // namespace integr8scode
