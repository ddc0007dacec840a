#include "api/problem.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace integr8scode {
namespace {

struct Case {
  ErrorCode code;
  std::string reason;
  int status;
  std::string problem;
};

TEST(Problem, EveryErrorCodeAndReasonMapsToTheDocumentedStatus) {
  const std::vector<Case> cases = {
      {ErrorCode::kInvalidArgument, "", 422, "invalid_field"},
      {ErrorCode::kInvalidArgument, "malformed_json", 400, "malformed_json"},
      {ErrorCode::kInvalidArgument, "invalid_utf8", 400, "invalid_utf8"},
      {ErrorCode::kInvalidArgument, "unknown_runtime", 422, "unknown_runtime"},
      {ErrorCode::kInvalidArgument, "limit_exceeded", 422, "limit_exceeded"},
      {ErrorCode::kInvalidArgument, "unsupported_media_type", 415, "unsupported_media_type"},
      {ErrorCode::kInvalidArgument, "method_not_allowed", 405, "method_not_allowed"},
      {ErrorCode::kNotFound, "", 404, "not_found"},
      {ErrorCode::kNotFound, "unknown_runtime", 422, "unknown_runtime"},
      {ErrorCode::kAlreadyExists, "", 409, "already_exists"},
      {ErrorCode::kConflict, "", 409, "conflict"},
      {ErrorCode::kUnauthenticated, "", 401, "unauthenticated"},
      {ErrorCode::kUnauthenticated, "token_expired", 401, "token_expired"},
      {ErrorCode::kUnauthenticated, "invalid_token", 401, "invalid_token"},
      {ErrorCode::kPermissionDenied, "", 403, "forbidden"},
      {ErrorCode::kPermissionDenied, "csrf_failed", 403, "csrf_failed"},
      {ErrorCode::kPermissionDenied, "quota_exceeded", 403, "quota_exceeded"},
      {ErrorCode::kLocked, "", 423, "account_locked"},
      {ErrorCode::kTooLarge, "", 413, "payload_too_large"},
      {ErrorCode::kRateLimited, "", 429, "rate_limited"},
      {ErrorCode::kResourceExhausted, "", 503, "queue_full"},
      {ErrorCode::kResourceExhausted, "queue_full", 503, "queue_full"},
      {ErrorCode::kUnavailable, "", 503, "unavailable"},
      {ErrorCode::kInternal, "", 500, "internal"},
  };
  for (const Case& c : cases) {
    const ProblemKind kind = ProblemFor(MakeError(c.code, c.reason, "x"));
    EXPECT_EQ(kind.status, c.status) << ErrorCodeName(c.code) << "/" << c.reason;
    EXPECT_EQ(kind.code, c.problem) << ErrorCodeName(c.code) << "/" << c.reason;
  }
}

TEST(Problem, UnknownReasonFallsBackToTheCodesDefault) {
  const ProblemKind kind = ProblemFor(MakeError(ErrorCode::kConflict, "some_new_reason", "x"));
  EXPECT_EQ(kind.status, 409);
  EXPECT_EQ(kind.code, "conflict");
}

TEST(Problem, EveryCodeOfTheContractCanBeProduced) {
  // docs/api.md lists the stable codes in backticks after "`code` is stable".
  std::ifstream file(std::string(INTEGR8SCODE_SOURCE_DIR) + "/docs/api.md");
  ASSERT_TRUE(file) << "docs/api.md not found";
  std::stringstream text;
  text << file.rdbuf();
  const std::string doc = text.str();
  const std::size_t start = doc.find("`code` is stable");
  ASSERT_NE(start, std::string::npos);
  const std::size_t end = doc.find("Statuses:", start);
  const std::string list = doc.substr(start, end - start);
  const std::regex code_pattern("`([a-z0-9_]+)`");
  std::set<std::string> documented;
  for (auto it = std::sregex_iterator(list.begin(), list.end(), code_pattern);
       it != std::sregex_iterator(); ++it) {
    if ((*it)[1] != "code") documented.insert((*it)[1]);
  }
  ASSERT_GE(documented.size(), 15u);
  std::set<std::string> produced;
  for (std::string_view code : ProblemCodes()) produced.emplace(code);
  for (const std::string& code : documented)
    EXPECT_TRUE(produced.contains(code)) << code << " is never produced";
  for (const std::string& code : produced)
    EXPECT_TRUE(documented.contains(code)) << code << " is not in docs/api.md";
}

TEST(Problem, ResponseIsProblemJsonWithFieldAndRequestId) {
  Error error = MakeError(ErrorCode::kInvalidArgument, "field 'lang' must be a string");
  error.field = "lang";
  const HttpResponse response = ProblemResponse(error, "req-1");
  EXPECT_EQ(response.status, 422);
  EXPECT_EQ(response.Header("content-type"), "application/problem+json");
  const boost::json::object body = boost::json::parse(response.body).as_object();
  EXPECT_EQ(body.at("type"), "https://integr8scode.dev/problems/invalid-field");
  EXPECT_EQ(body.at("title"), "Invalid request");
  EXPECT_EQ(body.at("status"), 422);
  EXPECT_EQ(body.at("detail"), "field 'lang' must be a string");
  EXPECT_EQ(body.at("code"), "invalid_field");
  EXPECT_EQ(body.at("request_id"), "req-1");
  EXPECT_EQ(body.at("field"), "lang");
}

TEST(Problem, InternalErrorsDoNotLeakTheirMessage) {
  const HttpResponse response = ProblemResponse(
      MakeError(ErrorCode::kInternal, "sqlite3_step: disk I/O error at /var/lib/x.db"), "r");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("sqlite"), std::string::npos);
  EXPECT_EQ(response.body.find("/var/lib"), std::string::npos);
  const boost::json::object body = boost::json::parse(response.body).as_object();
  EXPECT_FALSE(body.contains("field"));
  EXPECT_NE(body.at("detail").as_string().find("request id"), boost::json::string::npos);
}

}  // namespace
}  // namespace integr8scode
