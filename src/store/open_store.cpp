#include "store/open_store.hpp"

#include <utility>

#include "common/try.hpp"
#include "store/migrations.hpp"
#include "store/postgres/pg_change_feed.hpp"
#include "store/sql_database.hpp"
#include "store/sql_stores.hpp"
#include "store/store_url.hpp"

namespace integr8scode {

Result<Stores> OpenStores(std::string_view url) { return OpenStores(url, StoreOptions{}); }

Result<Stores> OpenStores(std::string_view url, const StoreOptions& options) {
  Result<std::shared_ptr<SqlDatabase>> database = OpenSqlDatabase(url, options);
  if (!database) {
    return Fail(std::move(database).error().WithContext("open database " + RedactStoreUrl(url)));
  }
  I8C_TRY(Migrate(**database, SchemaMigrations()));

  Stores stores;
  stores.executions = MakeSqlExecutionStore(*database);
  stores.users = MakeSqlUserStore(*database);
  stores.scripts = MakeSqlScriptStore(*database);
  stores.tokens = MakeSqlTokenStore(*database);
  stores.backend = std::string((*database)->Backend());
  if ((*database)->Dialect() == SqlDialect::kPostgres) {
    stores.cluster = MakeSqlClusterQueueStore(*database);
    stores.rate_limits = MakeSqlSharedRateLimits(*database);
    stores.login_attempts = MakeSqlSharedLoginAttempts(*database);
    stores.change_feed = [url = std::string(url),
                          timeout = options.connect_timeout_s](ChangeFeedCallbacks callbacks) {
      return StartPgChangeFeed(url, timeout, std::move(callbacks));
    };
  }
  stores.check = [database = *database]() -> Status {
    return database->Transact(TxMode::kRead, [](SqlConnection& db) -> Status {
      auto rows = db.Query("SELECT 1");
      if (!rows) return Fail(std::move(rows).error().WithContext("database check"));
      return {};
    });
  };
  return stores;
}

}  // namespace integr8scode
