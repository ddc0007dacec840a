#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "domain/cluster_queue.hpp"
#include "domain/executor.hpp"
#include "domain/limits.hpp"
#include "domain/runtime.hpp"
#include "domain/stores.hpp"
#include "queue/execution_queue.hpp"
#include "service/auth_service.hpp"
#include "service/event_hub.hpp"
#include "service/execution_observer.hpp"
#include "service/execution_service.hpp"
#include "service/memory_event_hub.hpp"
#include "service/password_hasher.hpp"
#include "service/script_service.hpp"
#include "service/storage_quota.hpp"

namespace integr8scode {

struct AuthOptions {
  // HS256 key. Empty: read from `<data_dir>/jwt_secret`, generated (mode 0600) on first start.
  std::string jwt_secret;
  std::filesystem::path data_dir;
  std::chrono::seconds token_lifetime{std::chrono::hours(24)};
  PasswordHashCost password_hash = PasswordHashCost::Interactive();
  // Failed logins in a row for one username from one client address that lock that
  // address out of that username (only), and for how long.
  int lockout_failures = 5;
  std::chrono::milliseconds lockout_duration{std::chrono::minutes(15)};
  // When admin_username is set, the account is created at start if missing (with
  // admin_password, required then); an existing admin gets admin_password if it has
  // another; a user who registered the name is never promoted (start fails, saying so).
  // The name, in any case, is refused to registration.
  std::string admin_username;
  std::string admin_password;
  std::string admin_email;  // empty: "<admin_username>@admin.invalid"

  friend bool operator==(const AuthOptions&, const AuthOptions&) = default;
};

// Everything the services can be configured with; defaults make a working laptop setup.
struct ServiceOptions {
  Limits default_limits;                          // must lie within maximum_limits
  Limits maximum_limits = kDefaultMaximumLimits;  // the most a request may ask for
  std::size_t max_script_bytes = 1ull << 20;      // larger → kTooLarge, field "script"
  std::size_t max_stdin_bytes = 1ull << 20;       // larger → kTooLarge, field "stdin"
  QueueOptions queue;
  // Finished anonymous executions are deleted after this (0: as queue.retention says).
  std::chrono::milliseconds anonymous_retention{std::chrono::hours(24)};
  QuotaOptions quotas;
  AuthOptions auth;
  EventOptions events;
  // Wall clock in Unix milliseconds; empty = the system clock. Tests inject one to move
  // time for token expiry, lockout and retention.
  std::function<std::int64_t()> now_ms;
};

// The storage the services run on (the same members as store/open_store.hpp's Stores,
// so wiring is a member-wise copy). Shared ownership: the services keep them alive.
struct ServiceStores {
  std::shared_ptr<ExecutionStore> executions;
  std::shared_ptr<UserStore> users;
  std::shared_ptr<ScriptStore> scripts;
  std::shared_ptr<TokenStore> tokens;
  std::function<Status()> check;  // database reachable (for /health/ready); may be empty
  // Given (PostgreSQL): the queue and the live events go through the database, so that
  // any number of processes share them (docs/scale-out.md). Null: all in this process.
  std::shared_ptr<ClusterQueueStore> cluster;
  ChangeFeedFactory change_feed;
  std::shared_ptr<SharedRateLimits> rate_limits;        // null: each process limits on its own
  std::shared_ptr<SharedLoginAttempts> login_attempts;  // null: each process counts its own
};

// One named readiness check ("store", "sandbox", "queue", "listener") and its outcome.
struct ReadinessCheck {
  std::string name;
  Status status;
};

// The running service layer: use cases, the worker pool and the event hub.
// The accessors are thread-safe and valid until destruction. Destruction shuts down
// with no grace period if Shutdown was not called.
class Services {
 public:
  virtual ~Services() = default;
  virtual ExecutionService& Executions() = 0;
  virtual AuthService& Auth() = 0;
  virtual ScriptService& Scripts() = 0;
  virtual EventHub& Events() = 0;
  // Rate limits shared with other API replicas (PostgreSQL), or null.
  virtual SharedRateLimits* RateLimits() { return nullptr; }
  // Every check, in a fixed order; ready when all are ok.
  virtual std::vector<ReadinessCheck> CheckReady() = 0;
  // Stops taking new work (Submit answers kUnavailable), lets running executions finish
  // within `grace`, cancels the rest and puts them back to queued so the next start runs
  // them, then stops the workers. Blocks until done; idempotent.
  virtual void Shutdown(std::chrono::milliseconds grace) = 0;
};

// Starts the services: validates the options, loads or creates the JWT secret, ensures
// the admin account, recovers executions left running by a crash, re-enqueues queued ones
// (oldest first), and starts the workers and the retention sweep.
// `executor` must outlive the returned object; `observer` may be null, else it must too.
// Fails with kInvalidArgument for bad options, kUnavailable when the store or the data
// directory cannot be used.
Result<std::unique_ptr<Services>> StartServices(ServiceStores stores, Executor& executor,
                                                RuntimeCatalog catalog,
                                                std::vector<RuntimeAvailability> availability,
                                                ServiceOptions options,
                                                ExecutionObserver* observer);
// As above; a null `executor` runs no workers here (the `api` role: executions are run by
// worker processes, which needs `stores.cluster`).
Result<std::unique_ptr<Services>> StartServices(ServiceStores stores, Executor* executor,
                                                RuntimeCatalog catalog,
                                                std::vector<RuntimeAvailability> availability,
                                                ServiceOptions options,
                                                ExecutionObserver* observer);

}  // namespace integr8scode
