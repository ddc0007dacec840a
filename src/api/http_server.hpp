#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "api/http_message.hpp"
#include "common/error.hpp"

namespace integr8scode {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see Port())
  std::size_t io_threads = 2;
  std::uint64_t max_body_bytes = 2ull << 20;
  std::size_t max_connections = 10000;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};
  std::filesystem::path tls_cert;  // PEM chain; both set → HTTPS only
  std::filesystem::path tls_key;
  // Every answer carries these, unless it sets a header of that name itself.
  std::vector<std::pair<std::string, std::string>> default_headers;

  friend bool operator==(const HttpServerOptions&, const HttpServerOptions&) = default;
};

// One request handed to the application, shared by the connection and the handler
// until it is answered. The handler fills `route` and `execution_id` for the access
// log before responding.
class Exchange {
 public:
  using Responder = std::function<void(HttpResponse)>;
  Exchange(HttpRequest request, std::string request_id, Responder responder);

  const HttpRequest& Request() const { return request_; }
  const std::string& RequestId() const { return request_id_; }
  std::chrono::steady_clock::time_point Received() const { return received_; }

  // Answers the request: from any thread, once (later calls are ignored). If the
  // connection is gone meanwhile the answer is dropped.
  void Respond(HttpResponse response);
  bool Responded() const { return responded_.load(std::memory_order_acquire); }

  std::string route = "unmatched";  // the route pattern, for logs and metrics
  std::string execution_id;         // when the request concerns one execution
  std::string user;                 // "7", or empty for anonymous

 private:
  HttpRequest request_;
  std::string request_id_;
  std::chrono::steady_clock::time_point received_;
  Responder responder_;
  std::atomic<bool> responded_{false};
};

struct HttpCallbacks {
  // Each complete request, on an I/O thread: must not block; hand work off.
  std::function<void(std::shared_ptr<Exchange>)> on_request;
  // After each answer was written (or failed to be), with its status and the time since
  // the request's headers were read. Also called for requests the server refused itself
  // (413, 400, 431), with route "unmatched".
  std::function<void(const Exchange&, int status, std::chrono::nanoseconds latency)> on_answered;
  std::function<void()> on_connection_opened;
  std::function<void()> on_connection_closed;
};

// A cancellable one-shot timer from TimerQueue::After.
class TimerHandle {
 public:
  virtual ~TimerHandle() = default;
  virtual void Cancel() = 0;  // the callback will not run (unless it already started)
};

// An HTTP/1.1 server on Boost.Beast: keep-alive, a body size cap (413 before the body
// is read when Content-Length says so; chunked bodies are cut at the cap), header/body/
// idle timeouts, X-Request-Id on every answer, optional TLS with the same code path,
// chunked streaming answers (StreamBody) with keep-alive comments. Beast stays in
// http_server.cpp.
//
// Thread-safety: all public methods may be called from any thread.
class HttpServer {
 public:
  // Binds the address (connections queue in the backlog until Run). kUnavailable when
  // the address cannot be bound, kInvalidArgument for unreadable TLS files.
  static Result<std::unique_ptr<HttpServer>> Bind(HttpServerOptions options,
                                                  HttpCallbacks callbacks);
  virtual ~HttpServer() = default;

  // Starts the I/O threads and accepting. Call once, after whatever the callbacks use is
  // ready.
  virtual void Run() = 0;

  virtual std::uint16_t Port() const = 0;
  // Stops accepting; idle keep-alive connections close, requests in progress finish.
  virtual void StopAccepting() = 0;
  // StopAccepting, waits until no request is in progress (streams excluded) or until
  // `deadline`, then closes every connection and joins the I/O threads. Idempotent.
  virtual void Stop(std::chrono::steady_clock::time_point deadline) = 0;
  // Requests being handled now (not counting open streams).
  virtual std::size_t InFlight() const = 0;
  // Runs `callback` on an I/O thread after `delay` unless cancelled first. The
  // callback must not block.
  virtual std::unique_ptr<TimerHandle> After(std::chrono::milliseconds delay,
                                             std::function<void()> callback) = 0;
};

// Request ids: the client's X-Request-Id when it is 1–128 characters of
// [A-Za-z0-9._:-], else 32 random hex digits.
std::string RequestIdFor(std::string_view client_value);

}  // namespace integr8scode
