#include "api/api_server.hpp"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <thread>

#include "api/api_context.hpp"
#include "api/problem.hpp"
#include "api/request_auth.hpp"
#include "api/static_files.hpp"
#include "common/log.hpp"
#include "common/try.hpp"
#include "metrics/metrics.hpp"
#include "service/services.hpp"

namespace integr8scode {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<RouteSpec> BuildRoutes() {
  std::vector<RouteSpec> routes;
  AddExecutionRoutes(routes);
  AddAccountRoutes(routes);
  AddInfoRoutes(routes);
  return routes;
}

bool IsUnsafe(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

bool IsJsonMediaType(std::string_view content_type) {
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  std::string lower;
  for (char c : media) {
    if (c != ' ' && c != '\t')
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return lower == "application/json" ||
         (lower.starts_with("application/") && lower.ends_with("+json"));
}

class ApiServerImpl final : public ApiServer {
 public:
  ApiServerImpl(ApiOptions options, Services& services, Metrics& metrics)
      : routes_(BuildRoutes()),
        pool_(options.handler_threads != 0 ? options.handler_threads : DefaultHandlerThreads()),
        password_pool_(std::max<std::size_t>(1, options.password_threads)),
        password_capacity_(std::max<std::size_t>(1, options.password_threads) +
                           options.password_queue) {
    context_.options = std::move(options);
    context_.services = &services;
    context_.metrics = &metrics;
    context_.rate_limiter = std::make_unique<RateLimiter>(context_.options.rate_limits.max_keys);
    context_.static_files = std::make_unique<StaticFiles>(context_.options.web_root);
    context_.post = [this](std::function<void()> work) {
      boost::asio::post(pool_, [work = std::move(work)] {
        // An exception escaping here would end the process from a pool thread.
        try {
          work();
        } catch (const std::exception& error) {
          Log(LogLevel::kError, "background API task failed", {{"error", error.what()}});
        }
      });
    };
    for (const RouteSpec& route : routes_) router_.Add(route.method, route.pattern);
  }

  ~ApiServerImpl() override { Stop(Clock::now()); }

  Status Listen() {
    HttpCallbacks callbacks;
    callbacks.on_request = [this](std::shared_ptr<Exchange> exchange) {
      OnRequest(std::move(exchange));
    };
    callbacks.on_answered = [this](const Exchange& exchange, int status,
                                   std::chrono::nanoseconds latency) {
      OnAnswered(exchange, status, latency);
    };
    callbacks.on_connection_opened = [this] { context_.metrics->ConnectionOpened(); };
    callbacks.on_connection_closed = [this] { context_.metrics->ConnectionClosed(); };
    // An answer is only ever what its Content-Type says: a browser must not sniff a JSON
    // error or a user's program output into HTML or script.
    HttpServerOptions http = context_.options.http;
    http.default_headers.emplace_back("X-Content-Type-Options", "nosniff");
    server_ = I8C_TRY_VALUE(HttpServer::Bind(std::move(http), std::move(callbacks)));
    if (context_.options.metrics_listen) {
      I8C_TRY(ListenForMetrics());
    }
    // Handlers use the server (timers): set it before the first request can arrive.
    context_.server = server_.get();
    server_->Run();
    if (metrics_server_) metrics_server_->Run();
    return {};
  }

  // A listener of its own for the scraper: it can sit on an address the public cannot
  // reach, and it answers on its own I/O thread, rendering in place (no handler pool),
  // so that a busy API does not delay a scrape nor a scrape the API.
  Status ListenForMetrics() {
    HttpServerOptions http;
    http.host = context_.options.metrics_host;
    http.port = context_.options.metrics_port;
    http.io_threads = 1;
    http.max_body_bytes = 0;
    http.max_connections = 64;
    http.header_timeout = context_.options.http.header_timeout;
    http.body_timeout = context_.options.http.body_timeout;
    http.idle_timeout = context_.options.http.idle_timeout;
    http.default_headers.emplace_back("X-Content-Type-Options", "nosniff");
    HttpCallbacks callbacks;
    callbacks.on_request = [this](std::shared_ptr<Exchange> exchange) {
      OnMetricsRequest(*exchange);
    };
    callbacks.on_answered = [this](const Exchange& exchange, int status,
                                   std::chrono::nanoseconds latency) {
      context_.metrics->ObserveRequest(exchange.route, exchange.Request().method, status, latency);
    };
    auto server = HttpServer::Bind(std::move(http), std::move(callbacks));
    if (!server) return Fail(std::move(server.error()).WithContext("the metrics listener"));
    metrics_server_ = std::move(*server);
    return {};
  }

  void OnMetricsRequest(Exchange& exchange) {
    const HttpRequest& request = exchange.Request();
    if (request.path != "/metrics") {
      return exchange.Respond(
          ProblemResponse(MakeError(ErrorCode::kNotFound, "This listener serves /metrics only."),
                          exchange.RequestId()));
    }
    exchange.route = "/metrics";
    if (request.method != "GET" && request.method != "HEAD") {
      HttpResponse response =
          ProblemResponse(MakeError(ErrorCode::kInvalidArgument, "method_not_allowed",
                                    fmt::format("{} /metrics is not allowed; use GET, HEAD.",
                                                QuoteForDetail(request.method, 32))),
                          exchange.RequestId());
      response.SetHeader("Allow", "GET, HEAD");
      return exchange.Respond(std::move(response));
    }
    exchange.Respond(MetricsAnswer(context_, request, exchange.RequestId()));
  }

  std::uint16_t Port() const override { return server_->Port(); }
  std::uint16_t MetricsPort() const override {
    return metrics_server_ ? metrics_server_->Port() : 0;
  }

  void StopAccepting() override {
    context_.stopping.store(true);
    if (server_) server_->StopAccepting();
    if (metrics_server_) metrics_server_->StopAccepting();
  }

  void Stop(Clock::time_point deadline) override {
    std::lock_guard lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = true;
    context_.stopping.store(true);
    if (server_) server_->Stop(deadline);
    if (metrics_server_) metrics_server_->Stop(deadline);
    // Handlers still running finish; their answers go nowhere now.
    pool_.join();
    password_pool_.join();
  }

 private:
  void OnRequest(std::shared_ptr<Exchange> exchange) {
    const HttpRequest& request = exchange->Request();
    const bool api = request.path.starts_with("/api/") || request.path == "/metrics";
    if (context_.options.health_only && request.path != "/api/v1/health/live" &&
        request.path != "/api/v1/health/ready" && request.path != "/metrics") {
      exchange->route = "other";
      return exchange->Respond(ProblemResponse(
          MakeError(ErrorCode::kNotFound,
                    fmt::format("{} is not served by a worker process; only health and metrics "
                                "are. Send API requests to an api or all process.",
                                request.path)),
          exchange->RequestId()));
    }
    RouteMatch match = router_.Match(request.method, request.path);
    if (request.path == "/metrics" && context_.options.metrics_listen) {
      match = RouteMatch{};  // served by the metrics listener only
    }
    if (!api) {
      exchange->route = "static";
      if (request.method != "GET" && request.method != "HEAD") {
        HttpResponse response = ProblemResponse(
            MakeError(ErrorCode::kInvalidArgument, "method_not_allowed",
                      fmt::format("{} is not allowed here; the web UI answers GET and HEAD.",
                                  QuoteForDetail(request.method, 32))),
            exchange->RequestId());
        response.SetHeader("Allow", "GET, HEAD");
        return exchange->Respond(std::move(response));
      }
      context_.post([this, exchange] { Guarded(*exchange, [&] { ServeStatic(*exchange); }); });
      return;
    }
    if (match.kind == RouteMatch::Kind::kNotFound) {
      return exchange->Respond(ProblemResponse(
          MakeError(ErrorCode::kNotFound,
                    fmt::format("There is no API route {}; see /api/v1/openapi.json.",
                                QuoteForDetail(request.path, 256))),
          exchange->RequestId()));
    }
    if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
      HttpResponse response = ProblemResponse(
          MakeError(ErrorCode::kInvalidArgument, "method_not_allowed",
                    fmt::format("{} {} is not allowed; use {}.", QuoteForDetail(request.method, 32),
                                QuoteForDetail(request.path, 256), match.allowed)),
          exchange->RequestId());
      response.SetHeader("Allow", match.allowed);
      return exchange->Respond(std::move(response));
    }
    const RouteSpec& route = routes_[match.index];
    exchange->route = route.pattern;
    auto call = std::make_shared<Call>(context_, exchange, std::move(match));
    context_.post(
        [this, call, &route] { Guarded(call->GetExchange(), [&] { Handle(call, route); }); });
  }

  // Handlers report expected failures as Results; anything thrown is a bug or memory
  // exhaustion, answered 500 with the details only in the log.
  template <class Function>
  void Guarded(Exchange& exchange, Function&& function) {
    try {
      function();
    } catch (const std::exception& error) {
      Log(LogLevel::kError, "request handler failed",
          {{"request_id", exchange.RequestId()},
           {"route", exchange.route},
           {"error", error.what()}});
      exchange.Respond(
          ProblemResponse(MakeError(ErrorCode::kInternal, error.what()), exchange.RequestId()));
    }
  }

  void ServeStatic(Exchange& exchange) {
    exchange.Respond(context_.static_files->Serve(exchange.Request()));
  }

  void Handle(const std::shared_ptr<Call>& call, const RouteSpec& route) {
    const HttpRequest& request = call->Request();
    call->caller_.ip = ClientAddress(request, context_.options.trust_proxy);
    if (route.access != Access::kOpen) {
      if (auto status = Authenticate(*call, route); !status)
        return call->ReplyError(status.error());
    }
    if (route.group != RateGroup::kNone && context_.options.rate_limits.enabled) {
      if (!AllowRate(*call, route.group)) return;
    }
    // A body without a Content-Type is refused too: it is what a cross-site "no-cors"
    // fetch or form can send without a CORS preflight, so accepting it would let any web
    // page submit work from its visitors' browsers.
    if (IsUnsafe(request.method) && !request.body.empty() &&
        !IsJsonMediaType(request.Header("content-type"))) {
      return call->ReplyError(
          MakeError(ErrorCode::kInvalidArgument, "unsupported_media_type",
                    request.HasHeader("content-type")
                        ? "Send the request body as JSON with Content-Type: application/json."
                        : "The request has a body but no Content-Type; send it as JSON with "
                          "Content-Type: application/json."));
    }
    if (route.work == Work::kPasswordHash) return HashOnPasswordPool(call, route);
    route.handler(call);
  }

  // Admission is counted, not left to the pool's queue: a queue without a bound would
  // let a flood of logins hold memory and make every later one wait behind it.
  void HashOnPasswordPool(const std::shared_ptr<Call>& call, const RouteSpec& route) {
    if (password_admitted_.fetch_add(1) >= password_capacity_) {
      password_admitted_.fetch_sub(1);
      return call->ReplyError(
          MakeError(ErrorCode::kResourceExhausted, "password_hashing_busy",
                    "Too many sign-ins and registrations are being checked right now; try "
                    "again in a few seconds."));
    }
    auto released = std::make_shared<std::atomic<bool>>(false);
    auto release = [this, released] {
      if (!released->exchange(true)) password_admitted_.fetch_sub(1);
    };
    call->before_reply_ = release;
    boost::asio::post(password_pool_, [this, call, &route, release] {
      Guarded(call->GetExchange(), [&] { route.handler(call); });
      release();  // the handler answered without Reply (an exception), or not at all
    });
  }

  Status Authenticate(Call& call, const RouteSpec& route) {
    const HttpRequest& request = call.Request();
    auto credentials = I8C_TRY_VALUE(ReadCredentials(request));
    AuthService& auth = context_.services->Auth();
    if (!credentials.token.empty()) {
      auto context = auth.Authenticate(credentials.token);
      if (context) {
        call.auth_ = *context;
        call.cookie_auth_ = credentials.from_cookie;
        call.caller_.user_id = context->user_id;
        call.caller_.role = context->role;
        call.GetExchange().user = std::to_string(context->user_id);
      } else if (!credentials.from_cookie) {
        return Fail(context.error());
      } else {
        // A stale browser cookie: clear it; the request goes on as anonymous, and routes
        // that need an account say so below.
        for (std::string& cookie : ClearSessionCookies(request.tls)) {
          call.extra_headers_.emplace_back("Set-Cookie", std::move(cookie));
        }
        if (route.access == Access::kUser || route.access == Access::kAdmin)
          return Fail(context.error());
      }
    }
    if (call.cookie_auth_ && IsUnsafe(request.method)) {
      const std::string_view csrf = request.Header("x-csrf-token");
      if (csrf.empty() || !auth.CheckCsrf(*call.auth_, csrf)) {
        return Fail(
            MakeError(ErrorCode::kPermissionDenied, "csrf_failed",
                      "This request is authenticated by the session cookie and needs the header "
                      "X-CSRF-Token with the csrf token from the login answer."));
      }
    }
    if ((route.access == Access::kUser || route.access == Access::kAdmin) &&
        !call.caller_.Authenticated()) {
      return Fail(MakeError(
          ErrorCode::kUnauthenticated,
          "Log in first: send 'Authorization: Bearer <access_token>' or the session cookie."));
    }
    if (route.access == Access::kAdmin && !call.caller_.IsAdmin()) {
      return Fail(MakeError(ErrorCode::kPermissionDenied, "This route is for administrators."));
    }
    return {};
  }

  // API replicas on PostgreSQL: the bucket in the database has the last word, so N
  // replicas allow a client what one would. Fails open: with the database unreachable,
  // this replica's own bucket still limits.
  void ApplySharedLimit(RateDecision& decision, RateGroup group, const std::string& key,
                        std::uint32_t per_minute) {
    SharedRateLimits* shared = context_.services->RateLimits();
    if (shared == nullptr || per_minute == 0) return;
    auto take = shared->Take(fmt::format("{}:{}", RateGroupName(group), key), per_minute);
    if (!take) return;
    decision.remaining = std::min(decision.remaining, take->remaining);
    if (take->allowed) return;
    decision.allowed = false;
    decision.retry_after_s = std::max<std::int64_t>(1, (60 + per_minute - 1) / per_minute);
  }

  bool AllowRate(Call& call, RateGroup group) {
    const RateLimitOptions& limits = context_.options.rate_limits;
    const Caller& caller = call.GetCaller();
    std::uint32_t per_minute = limits.other_per_minute;
    std::string key = caller.OwnerKey();
    switch (group) {
      case RateGroup::kExecute:
        per_minute = caller.Authenticated() ? limits.execute_per_minute
                                            : limits.anonymous_execute_per_minute;
        break;
      case RateGroup::kAuth:
        // Password guessing is limited per address whoever is signed in.
        per_minute = limits.auth_per_minute;
        key = "ip:" + caller.ip;
        break;
      case RateGroup::kOther:
      case RateGroup::kNone:
        break;
    }
    RateDecision decision =
        context_.rate_limiter->Take(RateGroupName(group), key, per_minute, Clock::now());
    if (decision.allowed) ApplySharedLimit(decision, group, key, per_minute);
    call.extra_headers_.emplace_back("X-RateLimit-Limit", std::to_string(decision.limit));
    call.extra_headers_.emplace_back("X-RateLimit-Remaining", std::to_string(decision.remaining));
    call.extra_headers_.emplace_back("X-RateLimit-Reset", std::to_string(decision.reset_s));
    if (decision.allowed) return true;
    context_.metrics->RequestRateLimited(RateGroupName(group));
    call.extra_headers_.emplace_back("Retry-After", std::to_string(decision.retry_after_s));
    call.ReplyError(
        MakeError(ErrorCode::kRateLimited,
                  fmt::format("Too many requests ({} a minute allowed); try again in {} s.",
                              decision.limit, decision.retry_after_s)));
    return false;
  }

  void OnAnswered(const Exchange& exchange, int status, std::chrono::nanoseconds latency) {
    const HttpRequest& request = exchange.Request();
    context_.metrics->ObserveRequest(exchange.route, request.method, status, latency);
    const double latency_ms = std::chrono::duration<double, std::milli>(latency).count();
    const LogLevel level = status >= 500 ? LogLevel::kWarn : LogLevel::kInfo;
    if (!LogEnabled(level)) return;
    // Never bodies, tokens or code: the route pattern stands for the path, which may
    // carry ids but nothing secret.
    const std::string address = ClientAddress(request, context_.options.trust_proxy);
    // A method is any token a client sends (up to the header limit): a log line carries
    // at most 16 bytes of it.
    constexpr std::size_t kMaxLoggedMethod = 16;
    const std::string method = request.method.size() <= kMaxLoggedMethod
                                   ? request.method
                                   : request.method.substr(0, kMaxLoggedMethod) + "…";
    if (exchange.execution_id.empty()) {
      Log(level, "request",
          {{"request_id", exchange.RequestId()},
           {"method", method},
           {"route", exchange.route},
           {"status", status},
           {"latency_ms", latency_ms},
           {"client", address},
           {"user", exchange.user}});
    } else {
      Log(level, "request",
          {{"request_id", exchange.RequestId()},
           {"method", method},
           {"route", exchange.route},
           {"status", status},
           {"latency_ms", latency_ms},
           {"client", address},
           {"user", exchange.user},
           {"execution_id", exchange.execution_id}});
    }
  }

  ApiContext context_;
  std::vector<RouteSpec> routes_;
  Router router_;
  boost::asio::thread_pool pool_;
  boost::asio::thread_pool password_pool_;
  const std::size_t password_capacity_;  // hashing plus waiting
  std::atomic<std::size_t> password_admitted_{0};
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpServer> metrics_server_;
  std::mutex stop_mutex_;
  bool stopped_ = false;
};

}  // namespace

std::string_view RateGroupName(RateGroup group) {
  switch (group) {
    case RateGroup::kExecute:
      return "execute";
    case RateGroup::kAuth:
      return "auth";
    case RateGroup::kOther:
      return "other";
    case RateGroup::kNone:
      return "none";
  }
  return "other";
}

Call::Call(ApiContext& api, std::shared_ptr<Exchange> exchange, RouteMatch match)
    : api_(api),
      exchange_(std::move(exchange)),
      match_(std::move(match)),
      query_(ParseQuery(exchange_->Request().query)) {}

std::optional<std::string> Call::Query(std::string_view name) const {
  for (const auto& [key, value] : query_) {
    if (key == name) return value;
  }
  return std::nullopt;
}

void Call::Reply(HttpResponse response) {
  if (before_reply_) std::exchange(before_reply_, nullptr)();
  for (const auto& [name, value] : extra_headers_) response.AddHeader(name, value);
  exchange_->Respond(std::move(response));
}

void Call::ReplyJson(int status, const boost::json::value& body) {
  Reply(JsonResponse(status, body));
}

void Call::ReplyError(const Error& error) {
  if (error.code == ErrorCode::kInternal || error.code == ErrorCode::kUnavailable) {
    Log(LogLevel::kError, "request failed",
        {{"request_id", RequestId()}, {"route", exchange_->route}, {"error", error.Describe()}});
  }
  HttpResponse response = ProblemResponse(error, RequestId());
  if (error.code == ErrorCode::kLocked) {
    response.SetHeader("Retry-After",
                       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                          api_.options.lockout_duration)
                                          .count()));
  }
  Reply(std::move(response));
}

HttpResponse JsonResponse(int status, const boost::json::value& body) {
  HttpResponse response;
  response.status = status;
  response.body = boost::json::serialize(body);
  response.SetHeader("Content-Type", "application/json; charset=utf-8");
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

Error FieldError(ErrorCode code, std::string field, std::string message) {
  Error error = MakeError(code, std::move(message));
  error.field = std::move(field);
  return error;
}

Result<std::pair<std::size_t, std::size_t>> PageParameters(const Call& call) {
  std::pair<std::size_t, std::size_t> page{20, 0};
  const auto read = [&](std::string_view name, std::size_t minimum, std::size_t maximum,
                        std::size_t& into) -> Status {
    const auto text = call.Query(name);
    if (!text) return {};
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (text->empty() || ec != std::errc() || end != text->data() + text->size() ||
        value < minimum || value > maximum) {
      return Fail(
          FieldError(ErrorCode::kInvalidArgument, std::string(name),
                     fmt::format("query parameter '{}' must be a whole number from {} to {}", name,
                                 minimum, maximum)));
    }
    into = value;
    return {};
  };
  I8C_TRY(read("limit", 1, 100, page.first));
  I8C_TRY(read("offset", 0, 1'000'000'000, page.second));
  return page;
}

std::size_t DefaultHandlerThreads() {
  return std::max<std::size_t>(8, 2 * std::size_t{std::thread::hardware_concurrency()});
}

Result<std::unique_ptr<ApiServer>> ApiServer::Start(ApiOptions options, Services& services,
                                                    Metrics& metrics) {
  auto server = std::make_unique<ApiServerImpl>(std::move(options), services, metrics);
  I8C_TRY(server->Listen());
  return std::unique_ptr<ApiServer>(std::move(server));
}

std::vector<std::pair<std::string, std::string>> ApiRouteList() {
  std::vector<std::pair<std::string, std::string>> list;
  for (const RouteSpec& route : BuildRoutes()) list.emplace_back(route.method, route.pattern);
  return list;
}

}  // namespace integr8scode
