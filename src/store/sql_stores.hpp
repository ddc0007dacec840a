#pragma once

#include <memory>

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

// The one row of a `SELECT count(*), coalesce(sum(...), 0)` usage query.
Result<StoredUsage> ReadUsage(Result<std::vector<SqlRow>> rows);

}  // namespace integr8scode
