#include "api/request_auth.hpp"

#include <fmt/format.h>

#include <cctype>

namespace integr8scode {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool LooksLikeAddress(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '.' && c != ':') return false;
  }
  return true;
}

}  // namespace

std::string CookieValue(const HttpRequest& request, std::string_view name) {
  for (const auto& [header, value] : request.headers) {
    if (header != "cookie") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const std::size_t semicolon = rest.find(';');
      const std::string_view pair = Trim(rest.substr(0, semicolon));
      rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
      const std::size_t equals = pair.find('=');
      if (equals == std::string_view::npos) continue;
      if (Trim(pair.substr(0, equals)) == name) {
        std::string_view cookie = Trim(pair.substr(equals + 1));
        if (cookie.size() >= 2 && cookie.front() == '"' && cookie.back() == '"') {
          cookie = cookie.substr(1, cookie.size() - 2);
        }
        return std::string(cookie);
      }
    }
  }
  return {};
}

Result<Credentials> ReadCredentials(const HttpRequest& request) {
  Credentials credentials;
  if (request.HasHeader("authorization")) {
    const std::string_view header = Trim(request.Header("authorization"));
    constexpr std::string_view kScheme = "bearer ";
    bool scheme_ok = header.size() > kScheme.size();
    for (std::size_t i = 0; scheme_ok && i < kScheme.size(); ++i) {
      scheme_ok = std::tolower(static_cast<unsigned char>(header[i])) == kScheme[i];
    }
    const std::string_view token =
        scheme_ok ? Trim(header.substr(kScheme.size())) : std::string_view();
    if (token.empty()) {
      return Fail(MakeError(ErrorCode::kUnauthenticated, "invalid_token",
                            "The Authorization header must be 'Bearer <access_token>'."));
    }
    credentials.token = std::string(token);
    return credentials;
  }
  credentials.token = CookieValue(request, kSessionCookie);
  credentials.from_cookie = !credentials.token.empty();
  return credentials;
}

std::string ClientAddress(const HttpRequest& request, bool trust_proxy) {
  if (trust_proxy) {
    std::string_view forwarded = request.Header("x-forwarded-for");
    const std::size_t comma = forwarded.rfind(',');
    if (comma != std::string_view::npos) forwarded = forwarded.substr(comma + 1);
    forwarded = Trim(forwarded);
    if (LooksLikeAddress(forwarded)) return std::string(forwarded);
  }
  return request.peer_address;
}

std::vector<std::string> SessionCookies(std::string_view token, std::string_view csrf_token,
                                        std::chrono::seconds lifetime, bool tls) {
  const std::string_view secure = tls ? "; Secure" : "";
  return {
      fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}", kSessionCookie, token,
                  lifetime.count(), secure),
      fmt::format("{}={}; Path=/; Max-Age={}; SameSite=Strict{}", kCsrfCookie, csrf_token,
                  lifetime.count(), secure),
  };
}

std::vector<std::string> ClearSessionCookies(bool tls) {
  const std::string_view secure = tls ? "; Secure" : "";
  return {
      fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}", kSessionCookie, secure),
      fmt::format("{}=; Path=/; Max-Age=0; SameSite=Strict{}", kCsrfCookie, secure),
  };
}

}  // namespace integr8scode
