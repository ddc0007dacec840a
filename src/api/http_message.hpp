#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace integr8scode {

// One HTTP request as the server read it: plain values, no Boost.Beast types, so that
// route code does not pull in the HTTP library. Header names are lower-case.
struct HttpRequest {
  std::string method;  // as sent: "GET", "POST", …
  std::string target;  // "/api/v1/executions?limit=5"
  std::string path;    // the target before '?', not decoded
  std::string query;   // after '?', not decoded; empty when absent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string peer_address;  // the TCP peer (the proxy when there is one)
  bool tls = false;

  // The first header of that (lower-case) name, or empty.
  std::string_view Header(std::string_view lower_name) const;
  bool HasHeader(std::string_view lower_name) const;
};

// A body produced piece by piece (Server-Sent Events). The server asks for the next
// piece only after the previous one is written, so a slow client never makes the
// producer buffer more than it chooses to.
class StreamBody {
 public:
  using Ready = std::function<void(std::string data, bool done)>;
  virtual ~StreamBody() = default;
  // Calls `ready` exactly once, from any thread, now or later, with the next bytes
  // (possibly empty) and whether the stream has ended. Not called again before then.
  virtual void Next(Ready ready) = 0;
  // The connection is going away (client left, server stopping). Idempotent; a pending
  // `ready` may still be called and is then ignored.
  virtual void Close() = 0;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the headers are sent with chunked encoding and the body comes from the
  // stream; `keepalive` is written whenever the stream has been silent for
  // `keepalive_interval` (SSE comments keep proxies from closing the connection).
  std::shared_ptr<StreamBody> stream;
  std::string keepalive;
  std::chrono::milliseconds keepalive_interval{0};
  bool close = false;  // close the connection after this response

  // Replaces a header of that name (case-insensitive); AddHeader appends (Set-Cookie).
  void SetHeader(std::string name, std::string value);
  void AddHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  std::string_view Header(std::string_view name) const;  // case-insensitive
};

// Case-insensitive ASCII comparison for header names and tokens.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace integr8scode
