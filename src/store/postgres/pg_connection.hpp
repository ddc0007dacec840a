#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"
#include "store/sql_database.hpp"

// libpq-fe.h stays inside store/postgres/*.cpp; these are its own struct tags.
struct pg_conn;
struct pg_result;

namespace integr8scode {

// One libpq connection, adapted to SqlConnection. Move-only; used by one thread at
// a time (the pool lends it out). Statements run through the extended protocol:
// each distinct SQL text is prepared once per connection, its parameter types are
// learned from the server, and values travel in binary, so no value is ever part of
// the SQL text and bytes (NUL included) arrive unchanged. Results come back in
// binary and are decoded by column type (integers, booleans, text, bytea).
class PgConnection final : public SqlConnection {
 public:
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  PgConnection(PgConnection&& other) noexcept;
  PgConnection& operator=(PgConnection&& other) noexcept;
  ~PgConnection() override;

  // `url` is any libpq connection string or URL; the values given here are defaults
  // the URL may override. kUnavailable when the server cannot be reached or refuses.
  [[nodiscard]] static Result<PgConnection> Connect(const std::string& url, int connect_timeout_s);

  // The connection is lost (server gone, network cut): drop it, do not reuse it.
  bool Broken() const;
  // Checks an idle pooled connection without a round trip: a server that ended the
  // session (a restart) has sent its goodbye. True when it did, or the connection is
  // Broken: drop it.
  bool Stale();

  Status ExecuteScript(std::string_view sql) override;

  // LISTEN support (a connection kept for it alone): the socket to poll for input, and
  // the notifications received so far as (channel, payload). kUnavailable once broken.
  int Socket() const;
  struct Notification {
    std::string channel;
    std::string payload;
  };
  Result<std::vector<Notification>> ConsumeNotifications();
  SqlDialect Dialect() const override { return SqlDialect::kPostgres; }

 protected:
  Result<std::vector<SqlRow>> DoQuery(std::string_view sql,
                                      std::span<const SqlParam> params) override;
  Result<std::int64_t> DoExecute(std::string_view sql, std::span<const SqlParam> params) override;

 private:
  struct Prepared {
    std::string name;
    std::vector<unsigned int> param_types;  // Oid, as the server inferred them
  };

  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  Result<const Prepared*> Prepare(std::string_view sql);
  struct ResultDeleter {
    void operator()(pg_result* result) const;
  };
  using ResultPtr = std::unique_ptr<pg_result, ResultDeleter>;

  // Runs `sql` (prepared on first use) with `params`; the result succeeded.
  Result<ResultPtr> Run(std::string_view sql, std::span<const SqlParam> params);

  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };

  pg_conn* conn_ = nullptr;
  std::unordered_map<std::string, Prepared, StringHash, std::equal_to<>> prepared_;
  int statements_made_ = 0;  // names must stay unique even if a prepare half-failed
};

}  // namespace integr8scode
