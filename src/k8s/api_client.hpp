#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace integr8scode {

class CancelToken;

// How to reach the Kubernetes API server.
struct KubeClientOptions {
  // "https://host:port"; "http://" only for a loopback address (tests).
  std::string api_url;
  // The bearer token, read again whenever the file changes (the kubelet rotates
  // projected service-account tokens) and after a 401. Empty: no token.
  std::filesystem::path token_file;
  std::filesystem::path ca_file;  // empty: the system's roots
  std::chrono::milliseconds request_timeout{15000};
  int max_attempts = 6;  // per call, for 409 Conflict, 429, 5xx and broken connections
  std::chrono::milliseconds first_backoff{100};
};

struct KubeResponse {
  unsigned status = 0;
  std::string body;
};

// What the client sent and received so far (for the overhead figures and metrics).
struct KubeTraffic {
  std::uint64_t requests = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
};

// A streaming response: a watch or a followed log. Owns its connection. Used by one
// thread.
class KubeStream {
 public:
  virtual ~KubeStream() = default;
  virtual unsigned HttpStatus() const = 0;
  enum class ReadState { kData, kIdle, kEnd };
  // Waits up to `wait` for more of the body; kIdle when none came (the read stays
  // pending for the next call), kEnd at its end. Fails when the connection broke.
  virtual Result<ReadState> Read(std::chrono::milliseconds wait, std::string& out) = 0;
};

// A client of the Kubernetes REST API over HTTPS (Boost.Beast, OpenSSL), one
// connection per call. Thread-safe. Calls fail with kUnavailable for a connection or
// TLS failure that persisted through the retries, kInvalidArgument for a bad
// configuration; an HTTP status is an answer, not a failure (the caller judges it).
class KubeClient {
 public:
  static Result<std::unique_ptr<KubeClient>> Create(KubeClientOptions options);
  virtual ~KubeClient() = default;

  // One call, retried with backoff on 409 Conflict (not AlreadyExists), 429, 5xx and
  // broken connections, honouring Retry-After; once more after a 401 with the token
  // read again. Stops early (kUnavailable, reason "cancelled") when `cancel` fires.
  virtual Result<KubeResponse> Call(std::string_view verb, std::string_view target,
                                    std::string_view body, const CancelToken* cancel) = 0;
  // A GET whose body is read as it arrives. Connection failures are retried as for
  // Call; an HTTP status other than 200 is returned in the stream, its body readable.
  virtual Result<std::unique_ptr<KubeStream>> Open(std::string_view target,
                                                   const CancelToken* cancel) = 0;
  virtual KubeTraffic Traffic() const = 0;
};

// Whether `host` is a loopback address ("127.0.0.1", "::1", "localhost").
bool IsLoopbackHost(std::string_view host);

}  // namespace integr8scode
