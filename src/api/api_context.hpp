#pragma once

// Internal to the api module: what route handlers share. Includes Boost.JSON; only
// the api .cpp files include it.

#include <atomic>
#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/api_server.hpp"
#include "api/http_server.hpp"
#include "api/rate_limiter.hpp"
#include "api/router.hpp"
#include "service/auth_service.hpp"
#include "service/caller.hpp"

namespace integr8scode {

class Metrics;
class Services;
class StaticFiles;

// Who may call a route.
enum class Access {
  kOpen,    // no credentials looked at (health, metrics, documents)
  kPublic,  // anonymous allowed; credentials, when sent, must be valid
  kUser,    // a signed-in user
  kAdmin,   // a signed-in admin
};

enum class RateGroup { kNone, kExecute, kAuth, kOther };
std::string_view RateGroupName(RateGroup group);

struct ApiContext {
  ApiOptions options;
  Services* services = nullptr;
  Metrics* metrics = nullptr;
  HttpServer* server = nullptr;
  std::unique_ptr<RateLimiter> rate_limiter;
  std::unique_ptr<StaticFiles> static_files;
  // Runs work on the handler pool.
  std::function<void(std::function<void()>)> post;
  std::atomic<bool> stopping{false};
};

// One routed API request being handled. Shared by async handlers until answered.
class Call {
 public:
  Call(ApiContext& api, std::shared_ptr<Exchange> exchange, RouteMatch match);

  ApiContext& Api() const { return api_; }
  const HttpRequest& Request() const { return exchange_->Request(); }
  Exchange& GetExchange() const { return *exchange_; }
  const std::string& RequestId() const { return exchange_->RequestId(); }
  std::string_view Param(std::string_view name) const { return match_.Param(name); }
  std::optional<std::string> Query(std::string_view name) const;

  const Caller& GetCaller() const { return caller_; }
  const std::optional<AuthContext>& Auth() const { return auth_; }

  void SetExecutionId(std::string id) { exchange_->execution_id = std::move(id); }

  // Answers (once); rate-limit headers of this request are added.
  void Reply(HttpResponse response);
  void ReplyJson(int status, const boost::json::value& body);
  void ReplyError(const Error& error);
  bool Replied() const { return exchange_->Responded(); }

  // Set by the pipeline before the handler runs.
  Caller caller_;
  std::optional<AuthContext> auth_;
  bool cookie_auth_ = false;
  std::vector<std::pair<std::string, std::string>> extra_headers_;  // rate limits
  // Runs just before the answer is handed to the connection (a pool slot is released
  // there, so that a client holding the answer knows the slot is free).
  std::function<void()> before_reply_;

 private:
  ApiContext& api_;
  std::shared_ptr<Exchange> exchange_;
  RouteMatch match_;
  std::vector<std::pair<std::string, std::string>> query_;
};

using RouteHandler = std::function<void(const std::shared_ptr<Call>&)>;

// Where a route's handler runs once the request passed its checks.
enum class Work {
  kQuick,         // the handler pool: store reads and writes, milliseconds
  kPasswordHash,  // the password pool: Argon2id, ~1 s and 64 MiB or more per call
};

struct RouteSpec {
  std::string method;
  std::string pattern;
  Access access = Access::kPublic;
  RateGroup group = RateGroup::kOther;
  RouteHandler handler;
  Work work = Work::kQuick;
};

// The route families, one file each.
void AddExecutionRoutes(std::vector<RouteSpec>& routes);
void AddAccountRoutes(std::vector<RouteSpec>& routes);
void AddInfoRoutes(std::vector<RouteSpec>& routes);

// The /metrics answer (with the bearer-token check of ApiOptions), for the API's
// listener and for the metrics listener alike.
HttpResponse MetricsAnswer(const ApiContext& api, const HttpRequest& request,
                           std::string_view request_id);

// Common response helpers.
HttpResponse JsonResponse(int status, const boost::json::value& body);
Error FieldError(ErrorCode code, std::string field, std::string message);
// Reads ?limit= and ?offset= (defaults 20 and 0; limit 1–100).
Result<std::pair<std::size_t, std::size_t>> PageParameters(const Call& call);

}  // namespace integr8scode
