// Routes of executions: submit (with ?wait=true), read, list, cancel, retry, events.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <limits>

#include "api/api_context.hpp"
#include "api/event_stream.hpp"
#include "api/json_request.hpp"
#include "api/resource_json.hpp"
#include "common/try.hpp"
#include "domain/idempotency_key.hpp"
#include "service/services.hpp"

namespace integr8scode {
namespace {

ExecutionService& Executions(const Call& call) { return call.Api().services->Executions(); }

std::string Location(std::string_view id) { return fmt::format("/api/v1/executions/{}", id); }

HttpResponse Accepted(int status, const Execution& execution) {
  HttpResponse response =
      JsonResponse(status, boost::json::object{{"execution_id", execution.id},
                                               {"status", StatusName(execution.status)}});
  response.SetHeader("Location", Location(execution.id));
  return response;
}

Result<LimitOverrides> ReadLimits(const boost::json::object& object) {
  JsonFields fields(object, "limits");
  LimitOverrides limits;
  constexpr std::uint64_t kMax64 = std::numeric_limits<std::int64_t>::max();
  constexpr std::uint64_t kMax32 = std::numeric_limits<std::uint32_t>::max();
  auto memory = I8C_TRY_VALUE(fields.OptionalUnsigned("memory_bytes", kMax64));
  auto cpu = I8C_TRY_VALUE(fields.OptionalUnsigned("cpu_millicores", kMax32));
  auto timeout = I8C_TRY_VALUE(fields.OptionalUnsigned("timeout_ms", kMax32));
  auto pids = I8C_TRY_VALUE(fields.OptionalUnsigned("pids", kMax32));
  auto output = I8C_TRY_VALUE(fields.OptionalUnsigned("output_bytes", kMax64));
  I8C_TRY(fields.Finish());
  if (memory) limits.memory_bytes = *memory;
  if (cpu) limits.cpu_millicores = static_cast<std::uint32_t>(*cpu);
  if (timeout) limits.timeout = std::chrono::milliseconds(*timeout);
  if (pids) limits.pids = static_cast<std::uint32_t>(*pids);
  if (output) limits.output_bytes = *output;
  return limits;
}

Result<SubmitRequest> ReadSubmitRequest(const Call& call) {
  auto body = I8C_TRY_VALUE(ParseJsonObject(call.Request().body));
  JsonFields fields(body);
  SubmitRequest request;
  auto script = I8C_TRY_VALUE(fields.RequiredString("script"));
  auto lang = I8C_TRY_VALUE(fields.RequiredString("lang"));
  auto version = I8C_TRY_VALUE(fields.RequiredString("lang_version"));
  auto stdin_data = I8C_TRY_VALUE(fields.OptionalString("stdin"));
  auto limits = I8C_TRY_VALUE(fields.OptionalObject("limits"));
  I8C_TRY(fields.Finish());
  request.script = std::move(script);
  request.language = std::move(lang);
  request.version = std::move(version);
  request.stdin_data = stdin_data.value_or("");
  if (limits != nullptr) {
    request.limits = I8C_TRY_VALUE(ReadLimits(*limits));
  }
  if (call.Request().HasHeader("idempotency-key")) {
    const std::string_view key = call.Request().Header("idempotency-key");
    I8C_TRY(ValidateIdempotencyKey(key, !call.GetCaller().Authenticated()));
    request.idempotency_key = std::string(key);
  }
  return request;
}

Result<bool> ReadFlag(const Call& call, std::string_view name) {
  const auto value = call.Query(name);
  if (!value || value->empty() || *value == "false" || *value == "0") return false;
  if (*value == "true" || *value == "1") return true;
  return Fail(FieldError(ErrorCode::kInvalidArgument, std::string(name),
                         fmt::format("query parameter '{}' must be true or false", name)));
}

// ?wait=true: waits for the result event without holding a thread. Whichever comes
// first — the result or the deadline — answers; the rest is released.
class Waiter : public std::enable_shared_from_this<Waiter> {
 public:
  Waiter(std::shared_ptr<Call> call, std::string id) : call_(std::move(call)), id_(std::move(id)) {}

  void Start(std::chrono::milliseconds deadline) {
    ApiContext& api = call_->Api();
    auto timer = api.server->After(deadline, [self = shared_from_this()] {
      self->call_->Api().post([self] { self->Finish(); });
    });
    {
      std::lock_guard lock(mutex_);
      timer_ = std::move(timer);
    }
    auto subscription = Executions(*call_).Subscribe(
        call_->GetCaller(), id_, 0, [weak = weak_from_this()](const ExecutionEvent& event) {
          if (event.kind != ExecutionEvent::Kind::kResult) return;
          auto self = weak.lock();
          if (!self) return;
          // Not on the publisher's thread: answering reads the store.
          self->call_->Api().post([self] { self->Finish(); });
        });
    if (!subscription) {
      Release();
      return call_->ReplyError(subscription.error());
    }
    std::unique_lock lock(mutex_);
    if (done_) {
      lock.unlock();
      subscription->reset();
      return;
    }
    subscription_ = std::move(*subscription);
  }

 private:
  // Detaches from the hub and the timer; destroyed outside the lock, because a
  // subscription's destruction waits for a callback in progress.
  void Release() {
    std::unique_ptr<Subscription> subscription;
    std::unique_ptr<TimerHandle> timer;
    std::lock_guard lock(mutex_);
    done_ = true;
    subscription = std::move(subscription_);
    timer = std::move(timer_);
  }

  void Finish() {
    {
      std::lock_guard lock(mutex_);
      if (done_) return;
    }
    Release();
    auto execution = Executions(*call_).Get(call_->GetCaller(), id_);
    if (!execution) return call_->ReplyError(execution.error());
    if (IsTerminal(execution->status)) return call_->ReplyJson(200, ExecutionToJson(*execution));
    call_->Reply(Accepted(202, *execution));
  }

  std::shared_ptr<Call> call_;
  std::string id_;
  std::mutex mutex_;
  bool done_ = false;
  std::unique_ptr<Subscription> subscription_;
  std::unique_ptr<TimerHandle> timer_;
};

void Execute(const std::shared_ptr<Call>& call) {
  auto request = ReadSubmitRequest(*call);
  if (!request) return call->ReplyError(request.error());
  auto wait = ReadFlag(*call, "wait");
  if (!wait) return call->ReplyError(wait.error());
  auto outcome = Executions(*call).Submit(call->GetCaller(), std::move(*request));
  if (!outcome) return call->ReplyError(outcome.error());
  const Execution& execution = outcome->execution;
  call->SetExecutionId(execution.id);
  if (*wait) {
    if (IsTerminal(execution.status)) return call->ReplyJson(200, ExecutionToJson(execution));
    auto waiter = std::make_shared<Waiter>(call, execution.id);
    return waiter->Start(execution.limits.timeout + call->Api().options.wait_margin);
  }
  if (outcome->replayed) {
    HttpResponse response = Accepted(200, execution);
    response.SetHeader("Idempotent-Replayed", "true");
    return call->Reply(std::move(response));
  }
  call->Reply(Accepted(202, execution));
}

void GetExecution(const std::shared_ptr<Call>& call) {
  const std::string id(call->Param("id"));
  call->SetExecutionId(id);
  auto execution = Executions(*call).Get(call->GetCaller(), id);
  if (!execution) return call->ReplyError(execution.error());
  call->ReplyJson(200, ExecutionToJson(*execution));
}

void ListExecutions(const std::shared_ptr<Call>& call, bool all_users) {
  auto page = PageParameters(*call);
  if (!page) return call->ReplyError(page.error());
  ExecutionQuery query;
  query.limit = page->first;
  query.offset = page->second;
  if (auto status = call->Query("status"); status && !status->empty()) {
    query.status = ParseStatus(*status);
    if (!query.status) {
      return call->ReplyError(
          FieldError(ErrorCode::kInvalidArgument, "status",
                     fmt::format("query parameter 'status' must be a status such as "
                                 "'completed' or 'failed', not '{}'",
                                 *status)));
    }
  }
  if (auto lang = call->Query("lang"); lang && !lang->empty()) query.language = *lang;
  auto result = Executions(*call).List(call->GetCaller(), query, all_users);
  if (!result) return call->ReplyError(result.error());
  boost::json::array items;
  items.reserve(result->items.size());
  for (const Execution& execution : result->items)
    items.push_back(ExecutionToJson(execution, true));
  call->ReplyJson(200, boost::json::object{{"items", std::move(items)},
                                           {"total", result->total},
                                           {"limit", query.limit},
                                           {"offset", query.offset}});
}

void CancelExecution(const std::shared_ptr<Call>& call) {
  const std::string id(call->Param("id"));
  call->SetExecutionId(id);
  auto execution = Executions(*call).Cancel(call->GetCaller(), id);
  if (!execution) return call->ReplyError(execution.error());
  call->ReplyJson(200, ExecutionToJson(*execution));
}

void ShareExecution(const std::shared_ptr<Call>& call, bool shared) {
  const std::string id(call->Param("id"));
  call->SetExecutionId(id);
  auto execution = Executions(*call).SetShared(call->GetCaller(), id, shared);
  if (!execution) return call->ReplyError(execution.error());
  call->ReplyJson(200, ExecutionToJson(*execution));
}

void DeleteExecution(const std::shared_ptr<Call>& call) {
  const std::string id(call->Param("id"));
  call->SetExecutionId(id);
  if (auto deleted = Executions(*call).Delete(call->GetCaller(), id); !deleted) {
    return call->ReplyError(deleted.error());
  }
  HttpResponse response;
  response.status = 204;
  call->Reply(std::move(response));
}

void RetryExecution(const std::shared_ptr<Call>& call) {
  const std::string id(call->Param("id"));
  call->SetExecutionId(id);
  auto outcome = Executions(*call).Retry(call->GetCaller(), id);
  if (!outcome) return call->ReplyError(outcome.error());
  call->SetExecutionId(outcome->execution.id);
  call->Reply(Accepted(202, outcome->execution));
}

void StreamEvents(const std::shared_ptr<Call>& call) {
  const std::string id(call->Param("id"));
  call->SetExecutionId(id);
  std::uint64_t after = 0;
  std::string_view last = call->Request().Header("last-event-id");
  if (last.empty()) {
    if (auto query = call->Query("last_event_id"))
      last = *query;  // for clients that cannot set headers
  }
  if (!last.empty()) {
    const auto [end, ec] = std::from_chars(last.data(), last.data() + last.size(), after);
    if (ec != std::errc() || end != last.data() + last.size()) after = 0;
  }
  ApiContext& api = call->Api();
  auto stream = std::make_shared<SseStream>(
      api, call->GetCaller(), id, api.options.sse_buffer_bytes,
      SseStream::Coalesce{api.options.sse_coalesce_window, api.options.sse_coalesce_bytes});
  auto subscription = Executions(*call).Subscribe(
      call->GetCaller(), id, after,
      [weak = std::weak_ptr<SseStream>(stream)](const ExecutionEvent& event) {
        if (auto stream_alive = weak.lock()) stream_alive->OnEvent(event);
      });
  if (!subscription) return call->ReplyError(subscription.error());
  stream->Attach(std::move(*subscription));
  HttpResponse response;
  response.status = 200;
  response.SetHeader("Content-Type", "text/event-stream; charset=utf-8");
  response.SetHeader("Cache-Control", "no-cache, no-store");
  response.SetHeader("X-Accel-Buffering", "no");  // nginx: do not buffer the stream
  response.stream = std::move(stream);
  response.keepalive = ": ping\n\n";
  response.keepalive_interval = api.options.sse_ping_interval;
  call->Reply(std::move(response));
}

}  // namespace

void AddExecutionRoutes(std::vector<RouteSpec>& routes) {
  routes.push_back({"POST", "/api/v1/execute", Access::kPublic, RateGroup::kExecute, Execute});
  routes.push_back(
      {"GET", "/api/v1/result/{id}", Access::kPublic, RateGroup::kOther, GetExecution});
  routes.push_back({"GET", "/api/v1/executions", Access::kUser, RateGroup::kOther,
                    [](const std::shared_ptr<Call>& call) { ListExecutions(call, false); }});
  routes.push_back(
      {"GET", "/api/v1/executions/{id}", Access::kPublic, RateGroup::kOther, GetExecution});
  routes.push_back(
      {"DELETE", "/api/v1/executions/{id}", Access::kPublic, RateGroup::kOther, DeleteExecution});
  routes.push_back({"POST", "/api/v1/executions/{id}/cancel", Access::kPublic, RateGroup::kOther,
                    CancelExecution});
  routes.push_back({"POST", "/api/v1/executions/{id}/retry", Access::kPublic, RateGroup::kExecute,
                    RetryExecution});
  routes.push_back(
      {"GET", "/api/v1/executions/{id}/events", Access::kPublic, RateGroup::kOther, StreamEvents});
  routes.push_back({"PUT", "/api/v1/executions/{id}/share", Access::kUser, RateGroup::kOther,
                    [](const std::shared_ptr<Call>& call) { ShareExecution(call, true); }});
  routes.push_back({"DELETE", "/api/v1/executions/{id}/share", Access::kUser, RateGroup::kOther,
                    [](const std::shared_ptr<Call>& call) { ShareExecution(call, false); }});
  routes.push_back({"GET", "/api/v1/admin/executions", Access::kAdmin, RateGroup::kOther,
                    [](const std::shared_ptr<Call>& call) { ListExecutions(call, true); }});
}

}  // namespace integr8scode
