#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/http_server.hpp"
#include "api/rate_limit_options.hpp"
#include "common/error.hpp"

namespace integr8scode {

class Metrics;
class Services;

struct ApiOptions {
  HttpServerOptions http;
  // Threads running service calls (store) off the I/O threads; 0: DefaultHandlerThreads().
  std::size_t handler_threads = 0;
  // Routes that hash a password (register, login) run on their own pool, so that a flood
  // of them cannot take the handler threads: at most `password_threads` hashes at once
  // (memory: that many times the Argon2 cost), at most `password_queue` more waiting;
  // beyond that 503 busy with Retry-After.
  std::size_t password_threads = 2;
  std::size_t password_queue = 16;
  bool trust_proxy = false;        // client address from the last X-Forwarded-For entry
  std::filesystem::path web_root;  // the built web UI; may be missing (then 404s)
  std::chrono::milliseconds sse_ping_interval{15000};
  std::size_t sse_buffer_bytes = 1ull << 20;  // per stream; a client further behind is cut off
  // Output events of one stream arriving within this window are sent as one event (up to
  // sse_coalesce_bytes of data): a program printing thousands of short lines then costs
  // the browser tens of events a second, not thousands. Zero sends each chunk at once.
  std::chrono::milliseconds sse_coalesce_window{20};
  std::size_t sse_coalesce_bytes = 64ull << 10;
  std::chrono::milliseconds wait_margin{10000};  // ?wait=true waits the run timeout plus this
  std::chrono::milliseconds lockout_duration{std::chrono::minutes(15)};  // Retry-After of a 423
  RateLimitOptions rate_limits;
  // The worker role: only /api/v1/health/live, /api/v1/health/ready and /metrics answer.
  bool health_only = false;
  // /metrics: non-empty token → it needs "Authorization: Bearer <token>"; metrics_listen →
  // it is served only on metrics_host:metrics_port (a listener of its own, plain HTTP,
  // one I/O thread) and the API's listener answers 404 for it.
  std::string metrics_bearer_token;
  bool metrics_listen = false;
  std::string metrics_host = "127.0.0.1";
  std::uint16_t metrics_port = 0;

  friend bool operator==(const ApiOptions&, const ApiOptions&) = default;
};

// max(8, 2 × cores): service calls block on the database, so more threads than cores.
std::size_t DefaultHandlerThreads();

// The HTTP API of docs/api.md, the web UI's files and /metrics on one HttpServer.
// Requests are parsed on the I/O threads and handled on a pool of handler threads
// (service calls may block); ?wait=true and event streams wait without a thread.
// `services` and `metrics` must outlive the ApiServer.
class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> Start(ApiOptions options, Services& services,
                                                  Metrics& metrics);
  virtual ~ApiServer() = default;

  virtual std::uint16_t Port() const = 0;
  // The metrics listener's port when ApiOptions::metrics_listen, else 0.
  virtual std::uint16_t MetricsPort() const = 0;
  // Stop accepting connections; /health/ready answers 503 from now on.
  virtual void StopAccepting() = 0;
  // Let requests in progress finish until `deadline`, close every connection, stop
  // the threads. Idempotent.
  virtual void Stop(std::chrono::steady_clock::time_point deadline) = 0;
};

// Every route as (method, pattern), in registration order, for the OpenAPI check.
std::vector<std::pair<std::string, std::string>> ApiRouteList();

// The OpenAPI 3.1 document served at /api/v1/openapi.json (src/api/openapi.json).
std::string_view OpenApiDocument();

}  // namespace integr8scode
