#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

#include "common/try.hpp"
#include "store/sql_stores.hpp"

namespace integr8scode {
namespace {

// Column order of DecodeUser.
constexpr std::string_view kColumns =
    "id, username, email, password_hash, role, failed_logins, locked_until, created_at";

// The key uniqueness and lookups use. Usernames are ASCII by the API's rules; emails
// are folded the same way, so "Ann@Example.org" and "ann@example.org" are one address.
// Folding here rather than with SQL lower() keeps both backends identical.
std::string FoldCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<User> DecodeUser(const SqlRow& row) {
  RowReader in(row);
  User user;
  user.id = in.Int();
  user.username = in.Text();
  user.email = in.Text();
  user.password_hash = in.Text();
  const std::string role = in.Text();
  user.failed_logins = static_cast<int>(in.Int());
  user.locked_until_ms = in.OptInt();
  user.created_at_ms = in.Int();
  I8C_TRY(in.Finish());
  const std::optional<Role> parsed = ParseRole(role);
  if (!parsed) {
    return Fail(ErrorCode::kInternal,
                fmt::format("user {} has an unknown role '{}'", user.id, role));
  }
  user.role = *parsed;
  return user;
}

Result<User> FirstUser(Result<std::vector<SqlRow>> rows, std::string_view missing) {
  I8C_TRY(rows);
  if (rows->empty()) return Fail(ErrorCode::kNotFound, std::string(missing));
  return DecodeUser(rows->front());
}

Error Taken(std::string_view field, std::string message) {
  Error error = MakeError(ErrorCode::kAlreadyExists, std::move(message));
  error.field = std::string(field);
  return error;
}

std::string NoUser(std::int64_t id) { return fmt::format("no user with id {}", id); }

class SqlUserStore final : public UserStore {
 public:
  explicit SqlUserStore(std::shared_ptr<SqlDatabase> database)
      : database_(std::move(database)), select_(fmt::format("SELECT {} FROM users", kColumns)) {}

  Result<User> Create(const User& user) override {
    const std::string username_key = FoldCase(user.username);
    const std::string email_key = FoldCase(user.email);
    return TransactFor<User>(*database_, TxMode::kWrite, [&](SqlConnection& db) -> Result<User> {
      // Checked first to say which one is taken; the unique constraints still decide
      // a race between two registrations.
      auto taken =
          I8C_TRY_VALUE(db.Query("SELECT username_key = $1, email_key = $2 FROM users"
                                 " WHERE username_key = $1 OR email_key = $2",
                                 {SqlParam::Text(username_key), SqlParam::Text(email_key)}));
      for (const SqlRow& row : taken) {
        RowReader in(row);
        const bool same_username = in.Bool();
        const bool same_email = in.Bool();
        I8C_TRY(in.Finish());
        if (same_username) {
          return Fail(
              Taken("username", fmt::format("the username '{}' is already taken", user.username)));
        }
        if (same_email) {
          return Fail(Taken("email", "an account with this email address already exists"));
        }
      }
      auto rows = db.Query(
          "INSERT INTO users (username, username_key, email, email_key, password_hash, role,"
          " failed_logins, locked_until, created_at)"
          " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
          {SqlParam::Text(user.username), SqlParam::Text(username_key), SqlParam::Text(user.email),
           SqlParam::Text(email_key), SqlParam::Text(user.password_hash),
           SqlParam::Text(RoleName(user.role)), SqlParam::Int(user.failed_logins),
           SqlParam::OptInt(user.locked_until_ms), SqlParam::Int(user.created_at_ms)});
      if (!rows) {
        Error error = std::move(rows).error();
        if (error.code == ErrorCode::kAlreadyExists) {
          error.message = "the username or email address is already taken";
        }
        return Fail(std::move(error));
      }
      if (rows->empty()) return Fail(ErrorCode::kInternal, "insert user returned no id");
      RowReader in(rows->front());
      User created = user;
      created.id = in.Int();
      I8C_TRY(in.Finish());
      return created;
    });
  }

  Result<User> Get(std::int64_t id) override {
    return TransactFor<User>(*database_, TxMode::kRead, [&](SqlConnection& db) {
      return FirstUser(db.Query(select_ + " WHERE id = $1", {SqlParam::Int(id)}), NoUser(id));
    });
  }

  Result<User> FindByUsername(std::string_view username) override {
    const std::string key = FoldCase(username);
    return TransactFor<User>(*database_, TxMode::kRead, [&](SqlConnection& db) {
      return FirstUser(db.Query(select_ + " WHERE username_key = $1", {SqlParam::Text(key)}),
                       fmt::format("no user named '{}'", username));
    });
  }

  Result<std::vector<User>> List(std::size_t limit, std::size_t offset) override {
    using Users = std::vector<User>;
    return TransactFor<Users>(*database_, TxMode::kRead, [&](SqlConnection& db) -> Result<Users> {
      auto rows = I8C_TRY_VALUE(db.Query(select_ + " ORDER BY id LIMIT $1 OFFSET $2",
                                         {SqlParam::Int(static_cast<std::int64_t>(limit)),
                                          SqlParam::Int(static_cast<std::int64_t>(offset))}));
      Users users;
      users.reserve(rows.size());
      for (const SqlRow& row : rows) {
        User user = I8C_TRY_VALUE(DecodeUser(row));
        users.push_back(std::move(user));
      }
      return users;
    });
  }

  Result<std::size_t> Count() override {
    return TransactFor<std::size_t>(
        *database_, TxMode::kRead, [&](SqlConnection& db) -> Result<std::size_t> {
          auto rows = I8C_TRY_VALUE(db.Query("SELECT count(*) FROM users"));
          RowReader in(rows.front());
          const std::int64_t count = in.Int();
          I8C_TRY(in.Finish());
          return static_cast<std::size_t>(count);
        });
  }

  Status UpdateRole(std::int64_t id, Role role) override {
    return UpdateOne(id, "UPDATE users SET role = $2 WHERE id = $1",
                     SqlParam::Text(RoleName(role)));
  }

  Status UpdatePasswordHash(std::int64_t id, std::string_view hash) override {
    return UpdateOne(id, "UPDATE users SET password_hash = $2 WHERE id = $1", SqlParam::Text(hash));
  }

  Result<User> RecordLoginFailure(std::int64_t id, int max_failures,
                                  std::int64_t lock_until_ms) override {
    // One statement: concurrent failures each count, and the lock is set by whichever
    // brings the count to the limit (and renewed by any failure past it).
    const std::string sql = fmt::format(
        "UPDATE users SET failed_logins = failed_logins + 1,"
        " locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END"
        " WHERE id = $1 RETURNING {}",
        kColumns);
    return TransactFor<User>(*database_, TxMode::kWrite, [&](SqlConnection& db) {
      return FirstUser(db.Query(sql, {SqlParam::Int(id), SqlParam::Int(max_failures),
                                      SqlParam::Int(lock_until_ms)}),
                       NoUser(id));
    });
  }

  Status ResetLoginFailures(std::int64_t id) override {
    return UpdateOne(id, "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1",
                     std::nullopt);
  }

 private:
  Status UpdateOne(std::int64_t id, std::string_view sql, std::optional<SqlParam> value) {
    return database_->Transact(TxMode::kWrite, [&](SqlConnection& db) -> Status {
      auto changed = I8C_TRY_VALUE(value ? db.Execute(sql, {SqlParam::Int(id), *value})
                                         : db.Execute(sql, {SqlParam::Int(id)}));
      if (changed == 0) return Fail(ErrorCode::kNotFound, NoUser(id));
      return {};
    });
  }

  std::shared_ptr<SqlDatabase> database_;
  const std::string select_;
};

}  // namespace

std::shared_ptr<UserStore> MakeSqlUserStore(std::shared_ptr<SqlDatabase> database) {
  return std::make_shared<SqlUserStore>(std::move(database));
}

}  // namespace integr8scode
