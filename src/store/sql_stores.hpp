#pragma once

#include <memory>
#include <string_view>

#include "domain/cluster_queue.hpp"
#include "domain/stores.hpp"
#include "store/sql_database.hpp"

namespace integr8scode {

// The store interfaces of domain/stores.hpp over a migrated SqlDatabase, one
// implementation for every backend. Each store shares ownership of `database`;
// all are thread-safe, and each method runs as one transaction.
std::shared_ptr<ExecutionStore> MakeSqlExecutionStore(std::shared_ptr<SqlDatabase> database);
std::shared_ptr<UserStore> MakeSqlUserStore(std::shared_ptr<SqlDatabase> database);
std::shared_ptr<ScriptStore> MakeSqlScriptStore(std::shared_ptr<SqlDatabase> database);
std::shared_ptr<TokenStore> MakeSqlTokenStore(std::shared_ptr<SqlDatabase> database);
// The database queue of domain/cluster_queue.hpp (PostgreSQL only).
std::shared_ptr<ClusterQueueStore> MakeSqlClusterQueueStore(std::shared_ptr<SqlDatabase> database);
std::shared_ptr<SharedRateLimits> MakeSqlSharedRateLimits(std::shared_ptr<SqlDatabase> database);
std::shared_ptr<SharedLoginAttempts> MakeSqlSharedLoginAttempts(
    std::shared_ptr<SqlDatabase> database);

// The executions table's columns in the order DecodeExecutionRow reads them.
std::string_view ExecutionColumns();
Result<Execution> DecodeExecutionRow(const SqlRow& row);

// The one row of a `SELECT count(*), coalesce(sum(...), 0)` usage query.
Result<StoredUsage> ReadUsage(Result<std::vector<SqlRow>> rows);

}  // namespace integr8scode
