#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "domain/cluster_queue.hpp"
#include "domain/stores.hpp"
#include "store/store_options.hpp"

namespace integr8scode {

// Every store over one database, sharing its connection pool. The stores are
// thread-safe and keep the database open for as long as any of them lives.
struct Stores {
  std::shared_ptr<ExecutionStore> executions;
  std::shared_ptr<UserStore> users;
  std::shared_ptr<ScriptStore> scripts;
  std::shared_ptr<TokenStore> tokens;
  // Runs a trivial query; kUnavailable when the database cannot answer (/health/ready).
  std::function<Status()> check;
  std::string backend;  // "sqlite" or "postgres"
  // PostgreSQL only (null/empty on SQLite): the database queue and its LISTEN feed.
  std::shared_ptr<ClusterQueueStore> cluster;
  ChangeFeedFactory change_feed;
  std::shared_ptr<SharedRateLimits> rate_limits;
  std::shared_ptr<SharedLoginAttempts> login_attempts;
};

// Opens the database named by `url` and migrates it to the schema this binary knows:
// `sqlite:///abs/path.db`, `sqlite:relative/path.db` or a plain file path → SQLite (the
// file is created; its directory must exist); `postgres://…` / `postgresql://…` →
// PostgreSQL (libpq URL syntax; `?options=-csearch_path%3Dname` selects a schema).
// Fails with kInvalidArgument for a malformed URL, kUnavailable when the database
// cannot be opened or reached, kInternal (reason "schema_too_new") when the database
// was migrated by a newer program.
[[nodiscard]] Result<Stores> OpenStores(std::string_view url);
[[nodiscard]] Result<Stores> OpenStores(std::string_view url, const StoreOptions& options);

}  // namespace integr8scode
