#include "api/router.hpp"

#include <cstdio>
#include <cstdlib>

namespace integr8scode {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.starts_with('/')) path.remove_prefix(1);
  while (true) {
    const std::size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view RouteMatch::Param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

std::size_t Router::Add(std::string method, std::string pattern) {
  for (const Route& route : routes_) {
    if (route.method == method && route.pattern == pattern) {
      std::fprintf(stderr, "router: %s %s is registered twice\n", method.c_str(), pattern.c_str());
      std::abort();
    }
  }
  Route route{std::move(method), std::move(pattern), {}};
  for (std::string_view segment : Split(route.pattern)) route.segments.emplace_back(segment);
  routes_.push_back(std::move(route));
  return routes_.size() - 1;
}

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
  const std::vector<std::string_view> segments = Split(path);
  RouteMatch result;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const Route& route = routes_[i];
    if (route.segments.size() != segments.size()) continue;
    std::vector<std::pair<std::string, std::string>> params;
    bool matches = true;
    for (std::size_t s = 0; s < segments.size() && matches; ++s) {
      const std::string& expected = route.segments[s];
      if (IsParam(expected)) {
        std::string decoded;
        matches = !segments[s].empty() && PercentDecode(segments[s], false, decoded);
        if (matches)
          params.emplace_back(expected.substr(1, expected.size() - 2), std::move(decoded));
      } else {
        matches = expected == segments[s];
      }
    }
    if (!matches) continue;
    if (route.method == method || (method == "HEAD" && route.method == "GET")) {
      result.kind = RouteMatch::Kind::kFound;
      result.index = i;
      result.params = std::move(params);
      result.allowed.clear();
      return result;
    }
    result.kind = RouteMatch::Kind::kMethodNotAllowed;
    if (result.allowed.find(route.method) == std::string::npos) {
      result.allowed += (result.allowed.empty() ? "" : ", ") + route.method;
    }
  }
  return result;
}

bool PercentDecode(std::string_view text, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return false;
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return false;
      const char decoded = static_cast<char>(high * 16 + low);
      if (decoded == '\0') return false;
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    const std::size_t equals = piece.find('=');
    std::string key;
    std::string value;
    if (!PercentDecode(piece.substr(0, equals), true, key)) continue;
    if (equals != std::string_view::npos && !PercentDecode(piece.substr(equals + 1), true, value))
      continue;
    pairs.emplace_back(std::move(key), std::move(value));
  }
  return pairs;
}

}  // namespace integr8scode
