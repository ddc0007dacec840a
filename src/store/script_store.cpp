#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

#include "common/try.hpp"
#include "store/sql_stores.hpp"

namespace integr8scode {

Result<StoredUsage> ReadUsage(Result<std::vector<SqlRow>> rows) {
  I8C_TRY(rows);
  if (rows->size() != 1) return Fail(ErrorCode::kInternal, "a usage query returned no row");
  RowReader in(rows->front());
  StoredUsage usage;
  usage.count = static_cast<std::size_t>(in.Int());
  usage.bytes = static_cast<std::uint64_t>(in.Int());
  I8C_TRY(in.Finish());
  return usage;
}

namespace {

constexpr std::string_view kSelect =
    "SELECT id, owner_id, name, language, version, content, created_at, updated_at"
    " FROM scripts";

Result<Script> DecodeScript(const SqlRow& row) {
  RowReader in(row);
  Script script;
  script.id = in.Text();
  script.owner_id = in.Int();
  script.name = in.Text();
  script.language = in.Text();
  script.version = in.Text();
  script.content = in.Text();
  script.created_at_ms = in.Int();
  script.updated_at_ms = in.Int();
  I8C_TRY(in.Finish());
  return script;
}

// The same answer whether the script does not exist or belongs to someone else, so
// that ids of other users' scripts cannot be probed.
Error NotFound(std::string_view id) {
  return MakeError(ErrorCode::kNotFound, fmt::format("no saved script with id {}", id));
}

class SqlScriptStore final : public ScriptStore {
 public:
  explicit SqlScriptStore(std::shared_ptr<SqlDatabase> database) : database_(std::move(database)) {}

  Status Insert(const Script& script) override {
    return database_->Transact(TxMode::kWrite, [&](SqlConnection& db) -> Status {
      auto inserted = db.Execute(
          "INSERT INTO scripts (id, owner_id, name, language, version, content, created_at,"
          " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
          {SqlParam::Text(script.id), SqlParam::Int(script.owner_id), SqlParam::Text(script.name),
           SqlParam::Text(script.language), SqlParam::Text(script.version),
           SqlParam::Blob(script.content), SqlParam::Int(script.created_at_ms),
           SqlParam::Int(script.updated_at_ms)});
      if (!inserted) {
        Error error = std::move(inserted).error();
        if (error.code == ErrorCode::kNotFound) {
          error.message = fmt::format("no user with id {} to own the script", script.owner_id);
        } else if (error.code == ErrorCode::kAlreadyExists) {
          error.message = fmt::format("a saved script with id {} already exists", script.id);
        }
        return Fail(std::move(error));
      }
      return {};
    });
  }

  Result<Script> Get(std::int64_t owner_id, std::string_view id) override {
    return TransactFor<Script>(*database_, TxMode::kRead, [&](SqlConnection& db) -> Result<Script> {
      auto rows = I8C_TRY_VALUE(db.Query(std::string(kSelect) + " WHERE id = $1 AND owner_id = $2",
                                         {SqlParam::Text(id), SqlParam::Int(owner_id)}));
      if (rows.empty()) return Fail(NotFound(id));
      return DecodeScript(rows.front());
    });
  }

  Result<std::vector<Script>> List(std::int64_t owner_id) override {
    using Scripts = std::vector<Script>;
    return TransactFor<Scripts>(
        *database_, TxMode::kRead, [&](SqlConnection& db) -> Result<Scripts> {
          auto rows = I8C_TRY_VALUE(db.Query(
              std::string(kSelect) + " WHERE owner_id = $1 ORDER BY updated_at DESC, id DESC",
              {SqlParam::Int(owner_id)}));
          Scripts scripts;
          scripts.reserve(rows.size());
          for (const SqlRow& row : rows) {
            Script script = I8C_TRY_VALUE(DecodeScript(row));
            scripts.push_back(std::move(script));
          }
          return scripts;
        });
  }

  Status Update(const Script& script) override {
    // created_at stays as it was: it belongs to the first save.
    return ChangeOne(
        script.id,
        "UPDATE scripts SET name = $3, language = $4, version = $5, content = $6,"
        " updated_at = $7 WHERE id = $1 AND owner_id = $2",
        {SqlParam::Text(script.id), SqlParam::Int(script.owner_id), SqlParam::Text(script.name),
         SqlParam::Text(script.language), SqlParam::Text(script.version),
         SqlParam::Blob(script.content), SqlParam::Int(script.updated_at_ms)});
  }

  Status Delete(std::int64_t owner_id, std::string_view id) override {
    return ChangeOne(id, "DELETE FROM scripts WHERE id = $1 AND owner_id = $2",
                     {SqlParam::Text(id), SqlParam::Int(owner_id)});
  }

  Result<StoredUsage> UsageOf(std::int64_t owner_id) override {
    return TransactFor<StoredUsage>(
        *database_, TxMode::kRead, [&](SqlConnection& db) -> Result<StoredUsage> {
          return ReadUsage(
              db.Query("SELECT count(*), coalesce(sum(length(content)), 0)"
                       " FROM scripts WHERE owner_id = $1",
                       {SqlParam::Int(owner_id)}));
        });
  }

 private:
  Status ChangeOne(std::string_view id, std::string_view sql,
                   std::initializer_list<SqlParam> params) {
    return database_->Transact(TxMode::kWrite, [&](SqlConnection& db) -> Status {
      auto changed = I8C_TRY_VALUE(db.Execute(sql, std::span(params.begin(), params.size())));
      if (changed == 0) return Fail(NotFound(id));
      return {};
    });
  }

  std::shared_ptr<SqlDatabase> database_;
};

}  // namespace

std::shared_ptr<ScriptStore> MakeSqlScriptStore(std::shared_ptr<SqlDatabase> database) {
  return std::make_shared<SqlScriptStore>(std::move(database));
}

}  // namespace integr8scode
