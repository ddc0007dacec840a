#include "load/virtual_user.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <string>

#include "load/execution_json.hpp"
#include "load/http_connection.hpp"
#include "load/script_variant.hpp"

namespace integr8scode {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kSubmitRoute = "POST /execute";
constexpr std::string_view kReadRoute = "GET /executions/{id}";

// What one user holds while it runs: its connection and its timer.
struct UserContext {
  ProfileRun& run;
  HttpConnection& connection;
  asio::steady_timer& timer;
};

asio::awaitable<void> Sleep(asio::steady_timer& timer, std::chrono::milliseconds duration) {
  timer.expires_after(duration);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

std::string SubmitBody(const LoadSettings& settings, const ScriptVariant& variant) {
  return boost::json::serialize(boost::json::object{{"script", variant.script},
                                                    {"lang", settings.lang},
                                                    {"lang_version", settings.lang_version}});
}

void CountTransportError(ProfileStats& stats, std::string_view route, const Error& error) {
  ++stats.transport_errors[fmt::format("{} {}", route, error.message)];
}

void CountHttpError(ProfileStats& stats, std::string_view route, int status) {
  ++stats.http_errors[fmt::format("{} {}", route, status)];
}

std::chrono::nanoseconds Milliseconds(std::int64_t ms) { return std::chrono::milliseconds(ms); }

void RecordTerminal(ProfileRun& run, const ExecutionView& view, const ScriptVariant& variant,
                    Clock::time_point sent, Clock::time_point seen) {
  ProfileStats& stats = run.stats;
  const bool in_window = seen <= run.deadline;
  ++stats.finished;
  if (in_window) {
    ++stats.finished_in_window;
    if (view.cpu_time_ms) stats.sandbox_cpu_s += static_cast<double>(*view.cpu_time_ms) / 1000.0;
  }
  stats.end_to_end.Add(seen - sent);
  if (view.created_ms && view.finished_ms)
    stats.server_end_to_end.Add(Milliseconds(*view.finished_ms - *view.created_ms));
  if (view.created_ms && view.started_ms)
    stats.server_queue_wait.Add(Milliseconds(*view.started_ms - *view.created_ms));
  if (view.started_ms && view.finished_ms)
    stats.server_run.Add(Milliseconds(*view.finished_ms - *view.started_ms));
  if (view.status != ExecutionStatus::kCompleted) {
    ++stats.execution_errors[std::string(StatusName(view.status))];
  } else if (view.stdout_text != variant.expected_stdout) {
    ++stats.execution_errors["wrong stdout"];
  } else {
    ++stats.completed;
    if (in_window) ++stats.completed_in_window;
  }
}

// Reads GET /executions/{id} with a growing gap until the status is terminal, as a
// polite API client would. Transport and HTTP errors are counted and the reading goes
// on: the execution exists and the user still wants its result.
asio::awaitable<bool> Follow(UserContext& user, const std::string& execution_id,
                             const ScriptVariant& variant, Clock::time_point sent) {
  ProfileRun& run = user.run;
  const LoadSettings& settings = run.settings;
  const std::string target = fmt::format("/api/v1/executions/{}", execution_id);
  const Clock::time_point give_up = sent + settings.follow_timeout;
  std::chrono::milliseconds gap = settings.poll_initial;
  bool clean = true;
  for (;;) {
    if (Clock::now() >= give_up) {
      ++run.stats.execution_errors["unfinished"];
      co_return false;
    }
    co_await Sleep(user.timer, gap);
    gap = std::min(gap * 3 / 2 + std::chrono::milliseconds(1), settings.poll_max);
    const Clock::time_point read_sent = Clock::now();
    auto reply = co_await user.connection.Send(HttpMethod::kGet, target, std::string(),
                                               settings.request_timeout);
    const Clock::time_point read_answered = Clock::now();
    if (!reply) {
      CountTransportError(run.stats, kReadRoute, reply.error());
      clean = false;
      continue;
    }
    if (reply->status != 200) {
      CountHttpError(run.stats, kReadRoute, reply->status);
      clean = false;
      continue;
    }
    ++run.stats.result_reads;
    run.stats.result_read.Add(read_answered - read_sent);
    auto view = ParseExecution(reply->body);
    if (!view || view->execution_id != execution_id) {
      ++run.stats.execution_errors["unreadable answer"];
      co_return false;
    }
    if (IsTerminal(view->status)) {
      RecordTerminal(run, *view, variant, sent, read_answered);
      co_return clean && view->status == ExecutionStatus::kCompleted;
    }
  }
}

// One execution from submission to result. Returns false when anything went wrong, so
// that the user pauses before the next one instead of hammering a failing server.
asio::awaitable<bool> RunOnce(UserContext& user, const ScriptVariant& variant) {
  ProfileRun& run = user.run;
  const LoadSettings& settings = run.settings;
  const bool wait = run.stats.spec.mode == FollowMode::kWait;
  // A waiting request lasts as long as the execution: queue wait and run included.
  const std::chrono::milliseconds timeout =
      wait ? settings.request_timeout + settings.follow_timeout : settings.request_timeout;
  const Clock::time_point sent = Clock::now();
  auto reply = co_await user.connection.Send(HttpMethod::kPost,
                                             wait ? "/api/v1/execute?wait=true" : "/api/v1/execute",
                                             SubmitBody(settings, variant), timeout);
  const Clock::time_point answered = Clock::now();
  if (!reply) {
    CountTransportError(run.stats, kSubmitRoute, reply.error());
    co_return false;
  }
  if (wait && reply->status == 200) {
    auto view = ParseExecution(reply->body);
    if (!view) {
      ++run.stats.execution_errors["unreadable answer"];
      co_return false;
    }
    ++run.stats.submitted;
    if (!IsTerminal(view->status)) {
      ++run.stats.execution_errors["unreadable answer"];
      co_return false;
    }
    RecordTerminal(run, *view, variant, sent, answered);
    co_return view->status == ExecutionStatus::kCompleted;
  }
  // Without wait, and with wait when the execution outlived the server's wait: 202.
  if (reply->status != 202) {
    CountHttpError(run.stats, kSubmitRoute, reply->status);
    co_return false;
  }
  auto accepted = ParseSubmitReply(reply->body);
  if (!accepted) {
    ++run.stats.execution_errors["unreadable answer"];
    co_return false;
  }
  ++run.stats.submitted;
  if (!wait) run.stats.submit.Add(answered - sent);
  co_return co_await Follow(user, accepted->execution_id, variant, sent);
}

}  // namespace

asio::awaitable<void> RunVirtualUser(ProfileRun& run, std::uint64_t user_index) {
  const auto executor = co_await asio::this_coro::executor;
  HttpConnection connection(executor, run.settings.endpoint);
  asio::steady_timer timer(executor);
  UserContext user{run, connection, timer};
  std::uint64_t sequence = 0;
  // At least one execution per user, however short the profile.
  do {
    const ScriptVariant variant = MakeScriptVariant(user_index, sequence++);
    if (!co_await RunOnce(user, variant)) co_await Sleep(timer, run.settings.error_pause);
  } while (Clock::now() < run.deadline);
  run.stats.connections += connection.Connects();
}

}  // namespace integr8scode
