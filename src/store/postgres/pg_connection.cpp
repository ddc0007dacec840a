#include "store/postgres/pg_connection.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <charconv>
#include <utility>

#include "common/log.hpp"
#include "common/try.hpp"
#include "store/postgres/libpq_api.hpp"

namespace integr8scode {
namespace {

// libpq is loaded by Connect() before any connection exists; every other call
// happens on a connection, so the table is there.
const LibpqApi& Pq() { return **LoadLibpq(); }

// Type OIDs from PostgreSQL's catalog (pg_type.dat); stable across versions.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kNameOid = 19;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kOidOid = 26;
constexpr Oid kUnknownOid = 705;
constexpr Oid kBpcharOid = 1042;
constexpr Oid kVarcharOid = 1043;
constexpr Oid kVoidOid = 2278;

constexpr int kTextFormat = 0;
constexpr int kBinaryFormat = 1;

bool IsTextLike(Oid type) {
  return type == kTextOid || type == kVarcharOid || type == kBpcharOid || type == kNameOid ||
         type == kUnknownOid;
}

// libpq's messages span lines ("FATAL: …\nserver closed the connection…\n\t…"); a log
// line and an error message want one.
std::string TrimmedMessage(const char* message) {
  std::string text;
  bool space = false;
  for (const char* c = message != nullptr ? message : ""; *c != '\0'; ++c) {
    if (*c == '\n' || *c == '\t' || *c == ' ') {
      space = !text.empty();
      continue;
    }
    if (space) text.push_back(' ');
    space = false;
    text.push_back(*c);
  }
  return text;
}

// Maps a failure to an ErrorCode by SQLSTATE (PostgreSQL docs, Appendix A).
Error PgError(PGconn* conn, const PGresult* result, std::string_view context) {
  const char* state =
      result != nullptr ? Pq().PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view sqlstate = state != nullptr ? state : "";
  ErrorCode code = ErrorCode::kInternal;
  if (sqlstate == "23505") {
    code = ErrorCode::kAlreadyExists;  // unique_violation
  } else if (sqlstate == "23503") {
    code = ErrorCode::kNotFound;  // foreign_key_violation
  } else if (sqlstate == "22021" || sqlstate == "22P05") {
    code = ErrorCode::kInvalidArgument;                     // bytes that are not valid text
  } else if (sqlstate.starts_with("08") ||                  // connection exception
             sqlstate == "57P01" || sqlstate == "57P02" ||  // admin/crash shutdown
             sqlstate == "57P03" || sqlstate == "53300" ||  // starting up; too many clients
             sqlstate == "40001" || sqlstate == "40P01") {  // serialization; deadlock
    code = ErrorCode::kUnavailable;
  } else if (conn == nullptr || Pq().PQstatus(conn) == CONNECTION_BAD) {
    code = ErrorCode::kUnavailable;
  }
  const char* primary =
      result != nullptr ? Pq().PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary != nullptr
                            ? TrimmedMessage(primary)
                            : TrimmedMessage(conn != nullptr ? Pq().PQerrorMessage(conn) : nullptr);
  if (message.empty()) message = "unknown PostgreSQL error";
  if (!sqlstate.empty()) message += fmt::format(" (SQLSTATE {})", sqlstate);
  return MakeError(code, fmt::format("{}: {}", context, message));
}

void AppendBigEndian(std::string& out, std::uint64_t value, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

std::int64_t ReadBigEndian(const char* data, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | static_cast<unsigned char>(data[i]);
  // Sign-extend from the field's width.
  const int unused = 64 - bytes * 8;
  if (unused == 0) return static_cast<std::int64_t>(value);
  return static_cast<std::int64_t>(value << unused) >> unused;
}

// The values of one statement's parameters in the wire form libpq sends.
class EncodedParams {
 public:
  Status Encode(std::span<const SqlParam> params, const std::vector<Oid>& types) {
    if (params.size() < types.size()) {
      return Fail(ErrorCode::kInternal, fmt::format("SQL has {} placeholders but {} values",
                                                    types.size(), params.size()));
    }
    // Reserved up front: values_ points into storage_, which must not reallocate.
    storage_.reserve(types.size());
    for (std::size_t i = 0; i < types.size(); ++i) {
      I8C_TRY(EncodeOne(params[i], types[i], i + 1));
    }
    return {};
  }

  int Count() const { return static_cast<int>(values_.size()); }
  const char* const* Values() const { return values_.data(); }
  const int* Lengths() const { return lengths_.data(); }
  const int* Formats() const { return formats_.data(); }

 private:
  Status EncodeOne(const SqlParam& param, Oid type, std::size_t number) {
    switch (param.kind) {
      case SqlParam::Kind::kNull:
        Push(nullptr, 0, kTextFormat);
        return {};
      case SqlParam::Kind::kInt:
        return EncodeInt(param.int_value, type, number);
      case SqlParam::Kind::kText:
      case SqlParam::Kind::kBlob:
        if (type == kByteaOid || IsTextLike(type)) {
          // The binary form of text and bytea is the bytes themselves; the server
          // still checks that text is valid in the database encoding.
          Push(param.bytes.data(), param.bytes.size(), kBinaryFormat);
          return {};
        }
        if (param.bytes.find('\0') != std::string_view::npos) break;
        storage_.emplace_back(param.bytes);
        Push(storage_.back().c_str(), storage_.back().size(), kTextFormat);
        return {};
    }
    return Fail(ErrorCode::kInternal,
                fmt::format("parameter ${} cannot be sent as type OID {}", number, type));
  }

  Status EncodeInt(std::int64_t value, Oid type, std::size_t number) {
    int bytes = 0;
    if (type == kInt8Oid) {
      bytes = 8;
    } else if (type == kInt4Oid || type == kOidOid) {
      bytes = 4;
    } else if (type == kInt2Oid) {
      bytes = 2;
    } else if (type == kBoolOid) {
      storage_.emplace_back(1, value != 0 ? '\1' : '\0');
      Push(storage_.back().data(), 1, kBinaryFormat);
      return {};
    } else {
      // Any other type (numeric, text…) parses the decimal form.
      storage_.emplace_back(std::to_string(value));
      Push(storage_.back().c_str(), storage_.back().size(), kTextFormat);
      return {};
    }
    if (bytes < 8) {
      const std::int64_t limit = std::int64_t{1} << (bytes * 8 - 1);
      if (value < -limit || value >= limit) {
        return Fail(
            ErrorCode::kInvalidArgument,
            fmt::format("value {} of parameter ${} does not fit the column", value, number));
      }
    }
    std::string encoded;
    AppendBigEndian(encoded, static_cast<std::uint64_t>(value), bytes);
    storage_.push_back(std::move(encoded));
    Push(storage_.back().data(), static_cast<std::size_t>(bytes), kBinaryFormat);
    return {};
  }

  void Push(const char* value, std::size_t length, int format) {
    values_.push_back(value);
    lengths_.push_back(static_cast<int>(length));
    formats_.push_back(format);
  }

  std::vector<std::string> storage_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

Result<SqlValue> DecodeValue(const PGresult* result, int row, int column) {
  if (Pq().PQgetisnull(result, row, column)) return SqlValue{};
  const char* data = Pq().PQgetvalue(result, row, column);
  const int length = Pq().PQgetlength(result, row, column);
  const Oid type = Pq().PQftype(result, column);
  auto integer = [&](int bytes) -> Result<SqlValue> {
    if (length != bytes) {
      return Fail(ErrorCode::kInternal, fmt::format("column {} has {} bytes for a {}-byte integer",
                                                    column, length, bytes));
    }
    return SqlValue{ReadBigEndian(data, bytes)};
  };
  switch (type) {
    case kInt8Oid:
      return integer(8);
    case kInt4Oid:
      return integer(4);
    case kInt2Oid:
      return integer(2);
    case kOidOid:
      return SqlValue{
          static_cast<std::int64_t>(static_cast<std::uint32_t>(ReadBigEndian(data, 4)))};
    case kBoolOid:
      return SqlValue{std::int64_t{length == 1 && data[0] != 0}};
    case kVoidOid:
      return SqlValue{};
    default:
      break;
  }
  if (type == kByteaOid || IsTextLike(type)) {
    return SqlValue{std::string(data, static_cast<std::size_t>(length))};
  }
  return Fail(
      ErrorCode::kInternal,
      fmt::format("column {} has type OID {}, which the store does not read", column, type));
}

}  // namespace

void PgConnection::ResultDeleter::operator()(pg_result* result) const {
  if (result != nullptr) Pq().PQclear(result);
}

PgConnection::PgConnection(PgConnection&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)),
      prepared_(std::move(other.prepared_)),
      statements_made_(other.statements_made_) {}

PgConnection& PgConnection::operator=(PgConnection&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) Pq().PQfinish(conn_);
    conn_ = std::exchange(other.conn_, nullptr);
    prepared_ = std::move(other.prepared_);
    statements_made_ = other.statements_made_;
  }
  return *this;
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) Pq().PQfinish(conn_);
}

Result<PgConnection> PgConnection::Connect(const std::string& url, int connect_timeout_s) {
  const std::string timeout = std::to_string(connect_timeout_s);
  // Keywords are applied in order and the expanded URL (dbname) comes last, so
  // whatever the URL says wins over these defaults.
  const char* const keywords[] = {"connect_timeout", "application_name", "client_encoding",
                                  "dbname", nullptr};
  const char* const values[] = {timeout.c_str(), "integr8scode", "UTF8", url.c_str(), nullptr};
  I8C_TRY(LoadLibpq());
  PgConnection connection(Pq().PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (connection.conn_ == nullptr) {
    return Fail(ErrorCode::kUnavailable, "connect to PostgreSQL: out of memory");
  }
  if (Pq().PQstatus(connection.conn_) != CONNECTION_OK) {
    Error error = MakeError(
        ErrorCode::kUnavailable,
        "connect to PostgreSQL: " + TrimmedMessage(Pq().PQerrorMessage(connection.conn_)));
    return Fail(std::move(error));
  }
  // Notices (e.g. "drop cascades to …") are for people at a terminal; libpq's default
  // would print them to stderr, around the structured log.
  Pq().PQsetNoticeProcessor(
      connection.conn_,
      [](void*, const char* message) {
        if (LogEnabled(LogLevel::kDebug)) {
          Log(LogLevel::kDebug, "PostgreSQL notice", {{"notice", TrimmedMessage(message)}});
        }
      },
      nullptr);
  return connection;
}

bool PgConnection::Broken() const {
  return conn_ == nullptr || Pq().PQstatus(conn_) != CONNECTION_OK;
}

bool PgConnection::Stale() {
  if (Broken()) return true;
  // A pooled connection listens to nothing and has no query out, so anything readable is
  // the server's goodbye (a FATAL "terminating connection" before the socket closes; libpq
  // reads it without noticing the end yet) — or, rarely, a notice: dropped all the same.
  pollfd input{Socket(), POLLIN, 0};
  return ::poll(&input, 1, 0) != 0;
}

Status PgConnection::ExecuteScript(std::string_view sql) {
  const std::string text(sql);
  ResultPtr result(Pq().PQexec(conn_, text.c_str()));
  const ExecStatusType status = Pq().PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Fail(PgError(conn_, result.get(), "execute SQL"));
  }
  return {};
}

int PgConnection::Socket() const { return Pq().PQsocket(conn_); }

Result<std::vector<PgConnection::Notification>> PgConnection::ConsumeNotifications() {
  if (Pq().PQconsumeInput(conn_) == 0 || Broken()) {
    return Fail(ErrorCode::kUnavailable,
                "PostgreSQL listener: " + TrimmedMessage(Pq().PQerrorMessage(conn_)));
  }
  std::vector<Notification> received;
  while (PGnotify* notify = Pq().PQnotifies(conn_)) {
    received.push_back({notify->relname != nullptr ? notify->relname : "",
                        notify->extra != nullptr ? notify->extra : ""});
    Pq().PQfreemem(notify);
  }
  return received;
}

Result<const PgConnection::Prepared*> PgConnection::Prepare(std::string_view sql) {
  if (auto found = prepared_.find(sql); found != prepared_.end()) {
    return &found->second;
  }
  Prepared prepared;
  prepared.name = fmt::format("i8s_{}", ++statements_made_);
  const std::string text(sql);
  ResultPtr made(Pq().PQprepare(conn_, prepared.name.c_str(), text.c_str(), 0, nullptr));
  if (Pq().PQresultStatus(made.get()) != PGRES_COMMAND_OK) {
    return Fail(PgError(conn_, made.get(), "prepare SQL"));
  }
  ResultPtr described(Pq().PQdescribePrepared(conn_, prepared.name.c_str()));
  if (Pq().PQresultStatus(described.get()) != PGRES_COMMAND_OK) {
    return Fail(PgError(conn_, described.get(), "describe SQL"));
  }
  const int count = Pq().PQnparams(described.get());
  for (int i = 0; i < count; ++i)
    prepared.param_types.push_back(Pq().PQparamtype(described.get(), i));
  auto inserted = prepared_.emplace(text, std::move(prepared));
  return &inserted.first->second;
}

Result<PgConnection::ResultPtr> PgConnection::Run(std::string_view sql,
                                                  std::span<const SqlParam> params) {
  const Prepared* prepared = I8C_TRY_VALUE(Prepare(sql));
  EncodedParams encoded;
  I8C_TRY(encoded.Encode(params, prepared->param_types));
  ResultPtr result(Pq().PQexecPrepared(conn_, prepared->name.c_str(), encoded.Count(),
                                       encoded.Values(), encoded.Lengths(), encoded.Formats(),
                                       kBinaryFormat));
  const ExecStatusType status = Pq().PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Fail(PgError(conn_, result.get(), "run SQL"));
  }
  return result;
}

Result<std::vector<SqlRow>> PgConnection::DoQuery(std::string_view sql,
                                                  std::span<const SqlParam> params) {
  ResultPtr result = I8C_TRY_VALUE(Run(sql, params));
  const PGresult* r = result.get();
  const int rows = Pq().PQntuples(r);
  const int columns = Pq().PQnfields(r);
  std::vector<SqlRow> out(static_cast<std::size_t>(rows));
  for (int row = 0; row < rows; ++row) {
    out[static_cast<std::size_t>(row)].values.reserve(static_cast<std::size_t>(columns));
    for (int column = 0; column < columns; ++column) {
      SqlValue value = I8C_TRY_VALUE(DecodeValue(r, row, column));
      out[static_cast<std::size_t>(row)].values.push_back(std::move(value));
    }
  }
  return out;
}

Result<std::int64_t> PgConnection::DoExecute(std::string_view sql,
                                             std::span<const SqlParam> params) {
  ResultPtr result = I8C_TRY_VALUE(Run(sql, params));
  // PQcmdTuples is "" for commands that report no row count.
  const std::string_view tuples = Pq().PQcmdTuples(result.get());
  std::int64_t changed = 0;
  std::from_chars(tuples.data(), tuples.data() + tuples.size(), changed);
  return changed;
}

}  // namespace integr8scode
