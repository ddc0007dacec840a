#include <utility>

#include "common/try.hpp"
#include "store/sql_stores.hpp"

namespace integr8scode {
namespace {

class SqlTokenStore final : public TokenStore {
 public:
  explicit SqlTokenStore(std::shared_ptr<SqlDatabase> database) : database_(std::move(database)) {}

  Status Revoke(std::string_view token_id, std::int64_t expires_at_ms) override {
    // Revoking twice (two logouts racing) is not an error; the later expiry wins so
    // that the token stays refused for as long as any copy of it could be presented.
    return database_->Transact(TxMode::kWrite, [&](SqlConnection& db) -> Status {
      I8C_TRY(
          db.Execute("INSERT INTO revoked_tokens (token_id, expires_at) VALUES ($1, $2)"
                     " ON CONFLICT (token_id) DO UPDATE SET expires_at = excluded.expires_at"
                     " WHERE excluded.expires_at > revoked_tokens.expires_at",
                     {SqlParam::Text(token_id), SqlParam::Int(expires_at_ms)}));
      return {};
    });
  }

  Result<bool> IsRevoked(std::string_view token_id) override {
    return TransactFor<bool>(*database_, TxMode::kRead, [&](SqlConnection& db) -> Result<bool> {
      auto rows = I8C_TRY_VALUE(
          db.Query("SELECT 1 FROM revoked_tokens WHERE token_id = $1", {SqlParam::Text(token_id)}));
      return !rows.empty();
    });
  }

  Result<std::size_t> DeleteExpired(std::int64_t now_ms) override {
    return TransactFor<std::size_t>(
        *database_, TxMode::kWrite, [&](SqlConnection& db) -> Result<std::size_t> {
          auto deleted = I8C_TRY_VALUE(db.Execute(
              "DELETE FROM revoked_tokens WHERE expires_at <= $1", {SqlParam::Int(now_ms)}));
          return static_cast<std::size_t>(deleted);
        });
  }

 private:
  std::shared_ptr<SqlDatabase> database_;
};

}  // namespace

std::shared_ptr<TokenStore> MakeSqlTokenStore(std::shared_ptr<SqlDatabase> database) {
  return std::make_shared<SqlTokenStore>(std::move(database));
}

}  // namespace integr8scode
