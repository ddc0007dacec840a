#include "service/execution_service_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/log.hpp"
#include "common/try.hpp"
#include "common/units.hpp"
#include "domain/idempotency_key.hpp"
#include "service/crypto.hpp"

namespace integr8scode {
namespace {

// A cancelled sandbox stops within milliseconds; this only bounds how long a cancel
// request waits for the worker to record the outcome before answering with what is
// stored then.
constexpr std::chrono::seconds kCancelWait{10};
constexpr std::size_t kMaxIdBytes = 64;
constexpr std::size_t kDefaultPageSize = 20;
constexpr std::size_t kMaxPageSize = 100;

Error FieldError(ErrorCode code, std::string reason, std::string field, std::string message) {
  Error error = MakeError(code, std::move(reason), std::move(message));
  error.field = std::move(field);
  return error;
}

Error NotFound(std::string_view id) {
  return MakeError(ErrorCode::kNotFound, "not_found", fmt::format("no execution with id '{}'", id));
}

// Checks one override alone against the maximum, so the error names its field.
template <class T>
std::optional<Error> CheckOneLimit(std::string_view field, const std::optional<T>& value,
                                   std::optional<T> LimitOverrides::*member, T Limits::*limit,
                                   const Limits& defaults, const Limits& maximum) {
  if (!value) return std::nullopt;
  LimitOverrides single;
  single.*member = *value;
  auto applied = ApplyOverrides(defaults, single, maximum);
  if (applied) return std::nullopt;
  const bool above = *value > maximum.*limit;
  return FieldError(ErrorCode::kInvalidArgument, above ? "limit_exceeded" : "invalid_field",
                    fmt::format("limits.{}", field), applied.error().message);
}

// Hash of what the request asked for: the same body hashes the same, any difference in
// a field (not only in its bytes' concatenation: each field is length-prefixed) differs.
std::string RequestHash(const SubmitRequest& request) {
  std::string canonical = "execute/v1";
  auto add = [&canonical](std::string_view field) {
    canonical += fmt::format("|{}:", field.size());
    canonical += field;
  };
  auto add_limit = [&](const auto& value) {
    if (!value) {
      add("-");
    } else if constexpr (std::is_same_v<std::decay_t<decltype(*value)>,
                                        std::chrono::milliseconds>) {
      add(std::to_string(value->count()));
    } else {
      add(std::to_string(*value));
    }
  };
  add(request.language);
  add(request.version);
  add(request.script);
  add(request.stdin_data);
  const LimitOverrides& l = request.limits;
  add_limit(l.memory_bytes);
  add_limit(l.cpu_millicores);
  add_limit(l.timeout);
  add_limit(l.pids);
  add_limit(l.output_bytes);
  add_limit(l.tmpfs_bytes);
  add_limit(l.file_size_bytes);
  add_limit(l.open_files);
  return HexEncode(Blake2b256(canonical));
}

bool ManagedBy(const Execution& execution, const Caller& caller) {
  return !execution.owner_id || caller.IsAdmin() || caller.user_id == execution.owner_id;
}

// Handed back when the stream was already over: there is nothing to unsubscribe from.
class NoSubscription final : public Subscription {};

}  // namespace

ExecutionServiceImpl::ExecutionServiceImpl(std::shared_ptr<ExecutionStore> store,
                                           SubmitQueue& queue, EventHub& hub,
                                           EventPublisher& publisher, const RuntimeCatalog& catalog,
                                           const std::vector<RuntimeAvailability>& availability,
                                           const ServiceOptions& options, Clock now_ms)
    : store_(std::move(store)),
      queue_(queue),
      hub_(hub),
      publisher_(publisher),
      catalog_(catalog),
      availability_(availability),
      default_limits_(options.default_limits),
      maximum_limits_(options.maximum_limits),
      max_script_bytes_(options.max_script_bytes),
      max_stdin_bytes_(options.max_stdin_bytes),
      quotas_(options.quotas),
      retention_{options.queue.retention, options.anonymous_retention},
      now_ms_(std::move(now_ms)) {}

Result<const Runtime*> ExecutionServiceImpl::CheckRuntime(std::string_view language,
                                                          std::string_view version) const {
  auto runtime = catalog_.Find(language, version);
  if (!runtime) {
    const bool language_known =
        std::any_of(catalog_.All().begin(), catalog_.All().end(),
                    [&](const Runtime& r) { return r.language == language; });
    return Fail(FieldError(ErrorCode::kNotFound, "unknown_runtime",
                           language_known ? "lang_version" : "lang", runtime.error().message));
  }
  const auto index = static_cast<std::size_t>(*runtime - catalog_.All().data());
  if (index < availability_.size() && !availability_[index].available) {
    return Fail(FieldError(
        ErrorCode::kUnavailable, "unavailable", "lang_version",
        fmt::format("{} is not available on this server: {}",
                    (*runtime)->display_name.empty() ? (*runtime)->Key() : (*runtime)->display_name,
                    availability_[index].reason)));
  }
  return runtime;
}

Result<Limits> ExecutionServiceImpl::CheckLimits(const LimitOverrides& o) const {
  auto limits = ApplyOverrides(default_limits_, o, maximum_limits_);
  if (limits) return limits;
  const Limits& d = default_limits_;
  const Limits& m = maximum_limits_;
  for (auto error : {
           CheckOneLimit("memory_bytes", o.memory_bytes, &LimitOverrides::memory_bytes,
                         &Limits::memory_bytes, d, m),
           CheckOneLimit("cpu_millicores", o.cpu_millicores, &LimitOverrides::cpu_millicores,
                         &Limits::cpu_millicores, d, m),
           CheckOneLimit("timeout_ms", o.timeout, &LimitOverrides::timeout, &Limits::timeout, d, m),
           CheckOneLimit("pids", o.pids, &LimitOverrides::pids, &Limits::pids, d, m),
           CheckOneLimit("output_bytes", o.output_bytes, &LimitOverrides::output_bytes,
                         &Limits::output_bytes, d, m),
           CheckOneLimit("tmpfs_bytes", o.tmpfs_bytes, &LimitOverrides::tmpfs_bytes,
                         &Limits::tmpfs_bytes, d, m),
           CheckOneLimit("file_size_bytes", o.file_size_bytes, &LimitOverrides::file_size_bytes,
                         &Limits::file_size_bytes, d, m),
           CheckOneLimit("open_files", o.open_files, &LimitOverrides::open_files,
                         &Limits::open_files, d, m),
       }) {
    if (error) return Fail(std::move(*error));
  }
  return Fail(
      FieldError(ErrorCode::kInvalidArgument, "limit_exceeded", "limits", limits.error().message));
}

Result<std::optional<SubmitOutcome>> ExecutionServiceImpl::FindIdempotent(
    const std::string& owner_key, const std::string& key, const std::string& request_hash) {
  auto existing = I8C_TRY_VALUE(store_->FindByIdempotencyKey(owner_key, key));
  if (!existing) return std::optional<SubmitOutcome>();
  if (existing->request_hash != request_hash) {
    return Fail(FieldError(ErrorCode::kConflict, "idempotency_key_reused", "Idempotency-Key",
                           "this idempotency key was already used for a different request; "
                           "use a new key for a new request"));
  }
  return std::optional<SubmitOutcome>(SubmitOutcome{std::move(*existing), true});
}

Result<SubmitOutcome> ExecutionServiceImpl::Submit(const Caller& caller, SubmitRequest request) {
  return SubmitNew(caller, std::move(request), std::nullopt);
}

Result<SubmitOutcome> ExecutionServiceImpl::SubmitNew(const Caller& caller, SubmitRequest request,
                                                      std::optional<std::string> retry_of) {
  if (request.script.empty()) {
    return Fail(FieldError(ErrorCode::kInvalidArgument, "invalid_field", "script",
                           "script must not be empty"));
  }
  if (request.script.size() > max_script_bytes_) {
    return Fail(FieldError(
        ErrorCode::kTooLarge, "payload_too_large", "script",
        fmt::format("script is {}; the limit is {}", FormatByteSize(request.script.size()),
                    FormatByteSize(max_script_bytes_))));
  }
  if (request.stdin_data.size() > max_stdin_bytes_) {
    return Fail(FieldError(
        ErrorCode::kTooLarge, "payload_too_large", "stdin",
        fmt::format("stdin is {}; the limit is {}", FormatByteSize(request.stdin_data.size()),
                    FormatByteSize(max_stdin_bytes_))));
  }
  I8C_TRY(CheckRuntime(request.language, request.version));
  auto limits = I8C_TRY_VALUE(CheckLimits(request.limits));

  const std::string owner_key = caller.OwnerKey();
  std::string request_hash;
  if (!request.idempotency_key.empty()) {
    I8C_TRY(ValidateIdempotencyKey(request.idempotency_key, !caller.Authenticated()));
    request_hash = RequestHash(request);
    auto replay = I8C_TRY_VALUE(FindIdempotent(owner_key, request.idempotency_key, request_hash));
    if (replay) return std::move(*replay);
  }

  I8C_TRY(CheckExecutionQuota(*store_, caller, request.script.size() + request.stdin_data.size(),
                              quotas_, retention_));
  auto reservation = I8C_TRY_VALUE(queue_.Reserve());

  Execution execution;
  execution.id = NewUuidV4();
  execution.owner_id = caller.user_id;
  execution.owner_key = owner_key;
  execution.language = std::move(request.language);
  execution.version = std::move(request.version);
  execution.script = std::move(request.script);
  execution.stdin_data = std::move(request.stdin_data);
  execution.limits = limits;
  execution.status = ExecutionStatus::kQueued;
  execution.idempotency_key = std::move(request.idempotency_key);
  execution.request_hash = std::move(request_hash);
  execution.retry_of = std::move(retry_of);
  execution.created_at_ms = now_ms_();
  if (auto inserted = store_->Insert(execution); !inserted) {
    if (inserted.error().code == ErrorCode::kAlreadyExists && !execution.idempotency_key.empty()) {
      // Another request with the same key was stored between the lookup and the insert.
      auto replay = I8C_TRY_VALUE(
          FindIdempotent(owner_key, execution.idempotency_key, execution.request_hash));
      if (replay) return std::move(*replay);
    }
    return Fail(std::move(inserted.error()).WithContext("store the execution"));
  }
  publisher_.OnSubmitted(execution);
  queue_.Enqueue(std::move(reservation), owner_key, execution.id);
  return SubmitOutcome{std::move(execution), false};
}

Result<Execution> ExecutionServiceImpl::GetManaged(const Caller& caller, std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return Fail(NotFound(id.substr(0, kMaxIdBytes)));
  auto execution = store_->Get(id);
  if (!execution) {
    if (execution.error().code == ErrorCode::kNotFound) return Fail(NotFound(id));
    return Fail(std::move(execution.error()));
  }
  if (!ManagedBy(*execution, caller)) return Fail(NotFound(id));
  return execution;
}

Result<Execution> ExecutionServiceImpl::Get(const Caller& caller, std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return Fail(NotFound(id.substr(0, kMaxIdBytes)));
  auto execution = store_->Get(id);
  if (!execution) {
    if (execution.error().code == ErrorCode::kNotFound) return Fail(NotFound(id));
    return Fail(std::move(execution.error()));
  }
  if (!execution->is_public && !ManagedBy(*execution, caller)) return Fail(NotFound(id));
  return execution;
}

Result<Execution> ExecutionServiceImpl::SetShared(const Caller& caller, std::string_view id,
                                                  bool shared) {
  if (!caller.user_id) {
    return Fail(MakeError(ErrorCode::kUnauthenticated, "unauthenticated",
                          "log in to share your executions"));
  }
  auto execution = I8C_TRY_VALUE(GetManaged(caller, id));
  if (!execution.owner_id) {
    return Fail(MakeError(ErrorCode::kConflict, "conflict",
                          "an anonymous execution is readable by its id already; log in before "
                          "running code to share it and take the link back later"));
  }
  auto changed = store_->SetPublic(id, shared);
  if (!changed) return Fail(std::move(changed.error()).WithContext("share execution"));
  if (!*changed) return Fail(NotFound(id));
  execution.is_public = shared;
  return execution;
}

Result<ExecutionPage> ExecutionServiceImpl::List(const Caller& caller, ExecutionQuery query,
                                                 bool all_users) {
  if (!caller.Authenticated()) {
    return Fail(
        MakeError(ErrorCode::kUnauthenticated, "unauthenticated", "log in to see your executions"));
  }
  if (all_users && !caller.IsAdmin()) {
    return Fail(MakeError(ErrorCode::kPermissionDenied, "forbidden",
                          "only administrators can list everyone's executions"));
  }
  if (all_users) {
    query.owner_id.reset();
  } else {
    query.owner_id = caller.user_id;
  }
  if (query.limit == 0) query.limit = kDefaultPageSize;
  query.limit = std::min(query.limit, kMaxPageSize);
  query.with_output = false;  // listings show a preview; the full record is one GET away
  return store_->List(query);
}

Status ExecutionServiceImpl::Delete(const Caller& caller, std::string_view id) {
  // Being shared with the caller lets them read it, not delete it.
  auto execution = I8C_TRY_VALUE(GetManaged(caller, id));
  // Anyone with its id may read an anonymous execution; only its own address removes it.
  if (!caller.IsAdmin() && caller.OwnerKey() != execution.owner_key) {
    return Fail(MakeError(ErrorCode::kPermissionDenied, "forbidden",
                          "only the address that ran an anonymous execution may delete it"));
  }
  I8C_TRY(store_->Delete(id));
  return {};
}

Result<Execution> ExecutionServiceImpl::Cancel(const Caller& caller, std::string_view id) {
  auto execution = I8C_TRY_VALUE(GetManaged(caller, id));
  auto conflict = [](const Execution& e) {
    return MakeError(ErrorCode::kConflict, "conflict",
                     fmt::format("the execution already finished ({}); there is nothing to cancel",
                                 StatusName(e.status)));
  };
  if (IsTerminal(execution.status)) return Fail(conflict(execution));

  bool cancelled_here = false;
  switch (queue_.Cancel(id, kCancelWait)) {
    case QueueCancelOutcome::kSignalled:
      break;  // the worker records the outcome
    case QueueCancelOutcome::kRemoved:
    case QueueCancelOutcome::kNotHere: {
      auto cancelled = store_->Cancel(id, now_ms_());
      if (!cancelled) {
        // Still queued in the store: give it its place back rather than lose it.
        if (execution.status == ExecutionStatus::kQueued) queue_.Restore(execution.owner_key, id);
        return Fail(std::move(cancelled.error()).WithContext("cancel"));
      }
      cancelled_here = *cancelled;
      break;
    }
  }
  auto current = I8C_TRY_VALUE(store_->Get(id));
  if (cancelled_here) publisher_.OnFinished(current);
  if (IsTerminal(current.status) && current.status != ExecutionStatus::kCancelled) {
    return Fail(conflict(current));
  }
  return current;
}

Result<SubmitOutcome> ExecutionServiceImpl::Retry(const Caller& caller, std::string_view id) {
  auto original = I8C_TRY_VALUE(Get(caller, id));
  if (!IsTerminal(original.status)) {
    return Fail(MakeError(ErrorCode::kConflict, "conflict",
                          fmt::format("the execution is still {}; retry it once it has finished",
                                      StatusName(original.status))));
  }
  SubmitRequest request;
  request.script = std::move(original.script);
  request.language = std::move(original.language);
  request.version = std::move(original.version);
  request.stdin_data = std::move(original.stdin_data);
  const Limits& l = original.limits;
  request.limits =
      LimitOverrides{l.memory_bytes, l.cpu_millicores, l.timeout,         l.pids,
                     l.output_bytes, l.tmpfs_bytes,    l.file_size_bytes, l.open_files};
  return SubmitNew(caller, std::move(request), original.id);
}

Result<std::unique_ptr<Subscription>> ExecutionServiceImpl::Subscribe(const Caller& caller,
                                                                      std::string_view id,
                                                                      std::uint64_t after_seq,
                                                                      EventCallback callback) {
  auto execution = I8C_TRY_VALUE(Get(caller, id));
  if (!IsTerminal(execution.status)) {
    // Its events may still come (queued or running here): wait for them even if no event
    // was published yet.
    return hub_.SubscribeOrOpen(id, after_seq, std::move(callback));
  }
  if (auto live = hub_.Subscribe(id, after_seq, callback)) return live;
  // Finished and its buffer dropped: the stored record is the whole story.
  callback(ExecutionEvent{after_seq + 1, ExecutionEvent::Kind::kResult, {}});
  return std::unique_ptr<Subscription>(std::make_unique<NoSubscription>());
}

QueueStats ExecutionServiceImpl::Stats() {
  const QueueCounts counts = queue_.Counts();
  return QueueStats{counts.queued, counts.running, counts.workers, counts.capacity};
}

Result<std::map<ExecutionStatus, std::size_t>> ExecutionServiceImpl::CountByStatus(
    const Caller& caller) {
  if (!caller.IsAdmin()) {
    return Fail(MakeError(ErrorCode::kPermissionDenied, "forbidden",
                          "only administrators can see execution statistics"));
  }
  return store_->CountByStatus();
}

}  // namespace integr8scode
