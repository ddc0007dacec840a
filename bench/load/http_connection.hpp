#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "load/load_settings.hpp"

namespace integr8scode {

struct HttpReply {
  int status = 0;
  std::string body;
};

enum class HttpMethod { kGet, kPost };

// One HTTP/1.1 client connection kept alive across requests, as a browser or an API
// client of the service would hold it: it connects on the first request and again
// after the server closed it (`Connection: close`, or after a transport error).
// Requests are not retried: a failed exchange is the caller's to count.
//
// Used from coroutines on one executor; not thread-safe, one request at a time.
// Failures: kUnavailable with `reason` "connect", "write", "read" or "timeout" and
// the system's message; kInvalidArgument with reason "read" for an unreadable answer.
class HttpConnection {
 public:
  HttpConnection(boost::asio::any_io_executor executor, const LoopbackEndpoint& endpoint);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // `body` is sent as application/json when not empty. `timeout` bounds the whole
  // exchange, connecting included.
  boost::asio::awaitable<Result<HttpReply>> Send(HttpMethod method, std::string target,
                                                 std::string body,
                                                 std::chrono::milliseconds timeout);

  // How many TCP connections were opened so far (1 when keep-alive held throughout).
  std::uint64_t Connects() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace integr8scode
