#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace integr8scode {

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  std::size_t index = 0;  // the route's position in Routes() when found
  std::vector<std::pair<std::string, std::string>> params;  // {name} → decoded segment
  std::string allowed;                                      // "GET, POST" for a 405 Allow header

  std::string_view Param(std::string_view name) const;
};

// Maps (method, path) to a route. Patterns are literal segments and `{name}` segments
// that match exactly one non-empty segment: "/api/v1/executions/{id}/cancel". A path
// that matches a pattern under another method is a 405 (with the allowed methods);
// HEAD matches GET routes. Built once at start, then read-only: Match is thread-safe.
class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
  };

  // Returns the route's index. Adding the same method and pattern twice is a
  // programming error and aborts at start.
  std::size_t Add(std::string method, std::string pattern);
  RouteMatch Match(std::string_view method, std::string_view path) const;
  const std::vector<Route>& Routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Percent-decodes a path segment or query component ('+' is a space only in queries).
// Returns false for a malformed escape or a decoded NUL.
bool PercentDecode(std::string_view text, bool plus_is_space, std::string& out);

// Parses "a=1&b=two" into decoded pairs; malformed pieces are skipped.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace integr8scode
