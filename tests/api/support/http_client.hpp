#pragma once

// A small blocking HTTP/1.1 client for the integration tests (Boost.Beast), over plain
// TCP or TLS (certificates not verified: the tests make their own).

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace integr8scode::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  int status = 0;  // 0: the request failed (see error)
  std::string error;
  Headers headers;  // names lower-case, in order
  std::string body;

  std::string Header(std::string_view lower_name) const;  // first, or empty
  std::vector<std::string> AllHeaders(std::string_view lower_name) const;
  boost::json::value Json() const;  // null when the body is not JSON
  // "status 422: {...}" for assertion messages.
  std::string Describe() const;
};

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, bool tls = false);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One request on the kept-alive connection (reconnecting when the server closed it).
  HttpResult Request(std::string_view method, std::string_view target, std::string_view body = {},
                     const Headers& headers = {});
  HttpResult Get(std::string_view target, const Headers& headers = {}) {
    return Request("GET", target, {}, headers);
  }
  HttpResult PostJson(std::string_view target, const boost::json::value& body,
                      const Headers& headers = {});
  HttpResult PutJson(std::string_view target, const boost::json::value& body,
                     const Headers& headers = {});
  HttpResult Delete(std::string_view target, const Headers& headers = {}) {
    return Request("DELETE", target, {}, headers);
  }
  // How many TCP connections this client opened so far.
  int Connections() const { return connections_; }

 private:
  struct Connection;
  std::uint16_t port_;
  bool tls_;
  int connections_ = 0;
  std::unique_ptr<Connection> connection_;
};

// A raw TCP connection for tests that speak HTTP by hand (slow headers, streams).
class RawConnection {
 public:
  // `receive_buffer` > 0 shrinks the socket's receive buffer (a slow reader).
  explicit RawConnection(std::uint16_t port, int receive_buffer = 0);
  ~RawConnection();
  bool Send(std::string_view bytes);
  // Reads what is available, waiting at most `timeout` for the first byte. Empty at EOF
  // or timeout; Closed() tells which.
  std::string ReadSome(std::chrono::milliseconds timeout);
  // Reads until `needle` appears in everything read so far, EOF, or `timeout`.
  std::string ReadUntil(std::string_view needle, std::chrono::milliseconds timeout);
  bool Closed() const { return closed_; }
  const std::string& Received() const { return received_; }
  void ShutdownWrite();

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

}  // namespace integr8scode::testing
