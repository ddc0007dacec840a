#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "domain/execution.hpp"
#include "domain/limits.hpp"
#include "domain/runtime.hpp"
#include "domain/stores.hpp"
#include "service/caller.hpp"
#include "service/event_hub.hpp"

namespace integr8scode {

struct SubmitRequest {
  std::string script;
  std::string language;
  std::string version;
  std::string stdin_data;
  LimitOverrides limits;
  std::string idempotency_key;  // empty: none
};

struct SubmitOutcome {
  Execution execution;
  bool replayed = false;  // an earlier execution returned for the same idempotency key
};

struct QueueStats {
  std::size_t queued = 0;
  std::size_t running = 0;
  std::size_t workers = 0;
  std::size_t capacity = 0;  // most queued executions accepted
};

// The executions use cases. Thread-safe. Errors carry `reason` codes of docs/api.md
// (unknown_runtime, limit_exceeded, queue_full, conflict, not_found …) and `field`.
class ExecutionService {
 public:
  virtual ~ExecutionService() = default;

  // Validates (runtime known and available, limits within the maximum, sizes), stores
  // the execution as queued and enqueues it. The store write happens before returning.
  virtual Result<SubmitOutcome> Submit(const Caller& caller, SubmitRequest request) = 0;
  // kNotFound unless visible to the caller: own, anonymous, shared (public), or caller is
  // admin.
  virtual Result<Execution> Get(const Caller& caller, std::string_view id) = 0;
  // The owner (or an admin) makes a signed-in user's execution readable by anyone with its
  // id, or takes that back. kUnauthenticated for anonymous callers, kNotFound unless the
  // caller owns it (a shared execution is not the reader's to share), kConflict for an
  // anonymous run (readable by id already; nothing to revoke).
  virtual Result<Execution> SetShared(const Caller& caller, std::string_view id, bool shared) {
    (void)caller;
    (void)id;
    (void)shared;
    return Fail(ErrorCode::kUnavailable, "sharing is not available");
  }
  // The caller's own executions; `query.owner_id` is forced to the caller unless the
  // caller is admin and `all_users` is set. kUnauthenticated for anonymous callers.
  virtual Result<ExecutionPage> List(const Caller& caller, ExecutionQuery query,
                                     bool all_users) = 0;
  // Queued → cancelled at once; running → the sandbox is stopped and the execution ends
  // cancelled with the output so far. kConflict if already finished; kNotFound for an
  // execution the caller can only read because it is shared.
  virtual Result<Execution> Cancel(const Caller& caller, std::string_view id) = 0;
  // A new queued execution with the same script, runtime, stdin and limits.
  virtual Result<SubmitOutcome> Retry(const Caller& caller, std::string_view id) = 0;
  // Deletes a finished execution, freeing its owner's quota: its owner (an anonymous one:
  // from the same address) or an admin. kNotFound as for Get; kPermissionDenied for an
  // anonymous execution of another address; kConflict while it is queued or running.
  virtual Status Delete(const Caller& caller, std::string_view id) {
    (void)caller;
    (void)id;
    return Fail(ErrorCode::kUnavailable, "executions cannot be deleted here");
  }
  // Live events after `after_seq`. If the execution already finished (or its buffer is
  // gone) the callback gets one kResult event at once. kNotFound as for Get.
  virtual Result<std::unique_ptr<Subscription>> Subscribe(const Caller& caller, std::string_view id,
                                                          std::uint64_t after_seq,
                                                          EventCallback callback) = 0;

  virtual QueueStats Stats() = 0;
  // Everyone's executions counted by status (admin statistics). kPermissionDenied unless
  // the caller is admin.
  virtual Result<std::map<ExecutionStatus, std::size_t>> CountByStatus(const Caller& caller) {
    (void)caller;
    return Fail(ErrorCode::kUnavailable, "execution statistics are not available");
  }
  virtual const RuntimeCatalog& Catalog() const = 0;
  virtual const std::vector<RuntimeAvailability>& Availability() const = 0;
  virtual const Limits& DefaultLimits() const = 0;
  virtual const Limits& MaximumLimits() const = 0;
};

}  // namespace integr8scode
