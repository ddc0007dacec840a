#include "load/load_settings.hpp"

#include <fmt/format.h>

#include <charconv>

namespace integr8scode {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

}  // namespace

std::string_view FollowModeName(FollowMode mode) {
  return mode == FollowMode::kPoll ? "poll" : "wait";
}

Result<std::vector<ProfileSpec>> ParseProfiles(std::string_view list, FollowMode mode) {
  std::vector<ProfileSpec> profiles;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = Trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (item.empty()) continue;
    std::size_t users = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), users);
    if (ec == std::errc() && end == item.data() + item.size()) {
      if (users == 0) return Fail(ErrorCode::kInvalidArgument, "a profile needs at least 1 user");
      profiles.push_back(ProfileSpec{fmt::format("{}-users", users), users, mode});
      continue;
    }
    bool known = false;
    for (const NamedProfile& named : kStandardProfiles) {
      if (named.name == item) {
        profiles.push_back(ProfileSpec{std::string(named.name), named.users, mode});
        known = true;
      }
    }
    if (!known) {
      return Fail(
          ErrorCode::kInvalidArgument,
          fmt::format(
              "unknown profile '{}': use smoke, light, medium, heavy, stress or a user count",
              item));
    }
  }
  if (profiles.empty()) return Fail(ErrorCode::kInvalidArgument, "no profile given");
  return profiles;
}

Result<LoopbackEndpoint> ParseLoopbackUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}': only http:// URLs are supported", url));
  }
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}': give the server's root URL, without a path", url));
  }
  std::string_view host;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("'{}': expected [v6]:port", url));
    }
    host = rest.substr(1, close - 1);
    port_text = rest.substr(close + 2);
  } else {
    const std::size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("'{}': the URL needs a port", url));
    }
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}': '{}' is not a port", url, port_text));
  }
  LoopbackEndpoint endpoint;
  if (host == "127.0.0.1" || host == "localhost") {
    endpoint.address = "127.0.0.1";
  } else if (host == "::1") {
    endpoint.address = "::1";
  } else {
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format(
            "'{}': the load generator only drives a server on this machine (127.0.0.1, ::1 or "
            "localhost)",
            url));
  }
  endpoint.port = static_cast<std::uint16_t>(port);
  endpoint.host_header =
      endpoint.address == "::1" ? fmt::format("[::1]:{}", port) : fmt::format("{}:{}", host, port);
  return endpoint;
}

}  // namespace integr8scode
