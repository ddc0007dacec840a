#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_message.hpp"
#include "common/error.hpp"

namespace integr8scode {

inline constexpr std::string_view kSessionCookie = "integr8scode_session";
inline constexpr std::string_view kCsrfCookie = "integr8scode_csrf";

struct Credentials {
  std::string token;         // empty: anonymous
  bool from_cookie = false;  // the session cookie, not an Authorization header
};

// The token of a request: `Authorization: Bearer <token>` wins over the session
// cookie. An Authorization header of another form fails with kUnauthenticated
// reason "invalid_token".
Result<Credentials> ReadCredentials(const HttpRequest& request);

// The value of one cookie of the Cookie header(s), or empty.
std::string CookieValue(const HttpRequest& request, std::string_view name);

// The client's address: the TCP peer, or with `trust_proxy` the last address of
// X-Forwarded-For (the one our own proxy appended; earlier entries are the client's
// word and can be forged).
std::string ClientAddress(const HttpRequest& request, bool trust_proxy);

// Set-Cookie values for a login (session: HttpOnly; csrf: readable by the page) and
// for clearing both. `Secure` is added over TLS.
std::vector<std::string> SessionCookies(std::string_view token, std::string_view csrf_token,
                                        std::chrono::seconds lifetime, bool tls);
std::vector<std::string> ClearSessionCookies(bool tls);

}  // namespace integr8scode
