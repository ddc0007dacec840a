#include "api/problem.hpp"

#include <boost/json.hpp>

#include "common/utf8.hpp"

namespace integr8scode {
namespace {

struct ProblemRow {
  ErrorCode error;
  std::string_view reason;  // empty: the default for `error`
  ProblemKind kind;
};

// The one place where failures become HTTP statuses. Rows with a reason refine the
// default row of their ErrorCode.
constexpr ProblemRow kTable[] = {
    {ErrorCode::kInvalidArgument, "", {422, "invalid_field", "Invalid request"}},
    {ErrorCode::kInvalidArgument, "malformed_json", {400, "malformed_json", "Malformed JSON"}},
    {ErrorCode::kInvalidArgument, "invalid_utf8", {400, "invalid_utf8", "Invalid UTF-8"}},
    {ErrorCode::kInvalidArgument, "bad_request", {400, "bad_request", "Bad request"}},
    {ErrorCode::kInvalidArgument, "unknown_runtime", {422, "unknown_runtime", "Unknown runtime"}},
    {ErrorCode::kInvalidArgument,
     "limit_exceeded",
     {422, "limit_exceeded", "Limit above the maximum"}},
    {ErrorCode::kInvalidArgument,
     "unsupported_media_type",
     {415, "unsupported_media_type", "Unsupported media type"}},
    {ErrorCode::kInvalidArgument,
     "method_not_allowed",
     {405, "method_not_allowed", "Method not allowed"}},
    {ErrorCode::kNotFound, "", {404, "not_found", "Not found"}},
    // A runtime that is missing from the catalog is the caller's mistake, not a missing resource.
    {ErrorCode::kNotFound, "unknown_runtime", {422, "unknown_runtime", "Unknown runtime"}},
    {ErrorCode::kAlreadyExists, "", {409, "already_exists", "Already exists"}},
    {ErrorCode::kConflict, "", {409, "conflict", "Conflict"}},
    {ErrorCode::kUnauthenticated, "", {401, "unauthenticated", "Authentication required"}},
    {ErrorCode::kUnauthenticated, "token_expired", {401, "token_expired", "Session expired"}},
    {ErrorCode::kUnauthenticated, "invalid_token", {401, "invalid_token", "Invalid token"}},
    {ErrorCode::kPermissionDenied, "", {403, "forbidden", "Forbidden"}},
    {ErrorCode::kPermissionDenied, "csrf_failed", {403, "csrf_failed", "CSRF check failed"}},
    {ErrorCode::kPermissionDenied,
     "quota_exceeded",
     {403, "quota_exceeded", "Storage quota exceeded"}},
    {ErrorCode::kLocked, "", {423, "account_locked", "Account locked"}},
    {ErrorCode::kTooLarge, "", {413, "payload_too_large", "Payload too large"}},
    {ErrorCode::kRateLimited, "", {429, "rate_limited", "Too many requests"}},
    {ErrorCode::kResourceExhausted, "", {503, "queue_full", "Queue full"}},
    {ErrorCode::kUnavailable, "", {503, "unavailable", "Service unavailable"}},
    {ErrorCode::kInternal, "", {500, "internal", "Internal error"}},
};

}  // namespace

ProblemKind ProblemFor(const Error& error) {
  const ProblemKind* fallback = nullptr;
  for (const ProblemRow& row : kTable) {
    if (row.error != error.code) continue;
    if (!error.reason.empty() && row.reason == error.reason) return row.kind;
    if (row.reason.empty()) fallback = &row.kind;
  }
  if (fallback != nullptr) return *fallback;
  return {500, "internal", "Internal error"};
}

std::vector<std::string_view> ProblemCodes() {
  std::vector<std::string_view> codes;
  for (const ProblemRow& row : kTable) {
    if (std::find(codes.begin(), codes.end(), row.kind.code) == codes.end())
      codes.push_back(row.kind.code);
  }
  return codes;
}

HttpResponse ProblemResponse(const Error& error, std::string_view request_id) {
  const ProblemKind kind = ProblemFor(error);
  std::string type = "https://integr8scode.dev/problems/";
  for (char c : kind.code) type.push_back(c == '_' ? '-' : c);
  std::string detail = error.message;
  if (kind.status >= 500 && error.code == ErrorCode::kInternal) {
    detail =
        "The server failed to handle this request; try again, and report the request id "
        "if it keeps failing.";
  }
  if (detail.empty()) detail = std::string(kind.title) + ".";
  boost::json::object body{
      {"type", type},          {"title", kind.title},
      {"status", kind.status}, {"detail", SanitizeUtf8(detail)},
      {"code", kind.code},     {"request_id", request_id},
  };
  if (!error.field.empty()) body["field"] = SanitizeUtf8(error.field);
  HttpResponse response;
  response.status = kind.status;
  response.body = boost::json::serialize(body);
  response.SetHeader("Content-Type", "application/problem+json");
  return response;
}

}  // namespace integr8scode
