#include "store/store_url.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace integr8scode {
namespace {

constexpr std::string_view kAcceptedForms =
    "use sqlite:///absolute/path.db, sqlite:relative/path.db, a file path, or "
    "postgres://user:password@host:port/database";

Error UrlError(std::string message) {
  Error error = MakeError(ErrorCode::kInvalidArgument,
                          fmt::format("database URL: {}; {}", message, kAcceptedForms));
  error.field = "database.url";
  return error;
}

}  // namespace

Result<StoreUrl> ParseStoreUrl(std::string_view url) {
  if (url.empty()) return Fail(UrlError("empty"));
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    return StoreUrl{StoreUrl::Kind::kPostgres, std::string(url)};
  }
  std::string_view path = url;
  if (url.starts_with("sqlite:")) {
    path = url.substr(std::string_view("sqlite:").size());
    if (path.starts_with("//")) {
      // sqlite://<host>/path has no host to name: only the empty host form is absolute.
      path.remove_prefix(2);
      if (!path.starts_with('/')) {
        return Fail(UrlError(
            fmt::format("'{}' names a host; SQLite is a local file", RedactStoreUrl(url))));
      }
    }
  } else if (url.find("://") != std::string_view::npos) {
    return Fail(UrlError(fmt::format("unsupported scheme in '{}'", RedactStoreUrl(url))));
  }
  if (path.empty()) return Fail(UrlError("no SQLite file path"));
  if (path.find('\0') != std::string_view::npos) return Fail(UrlError("NUL byte in path"));
  return StoreUrl{StoreUrl::Kind::kSqlite, std::string(path)};
}

std::string RedactStoreUrl(std::string_view url) {
  std::string out(url);
  const std::size_t scheme_end = out.find("://");
  if (scheme_end == std::string::npos) return out;
  // user:password@ in the authority.
  const std::size_t authority_begin = scheme_end + 3;
  const std::size_t authority_end = std::min(out.find_first_of("/?#", authority_begin), out.size());
  const std::size_t at = out.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority_begin) {
    const std::size_t colon = out.find(':', authority_begin);
    if (colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // password=… among the query parameters (libpq accepts it there too).
  const std::size_t query = out.find('?');
  if (query != std::string::npos) {
    for (std::size_t at_key = out.find("password=", query); at_key != std::string::npos;
         at_key = out.find("password=", at_key + 1)) {
      const char before = out[at_key - 1];
      if (before != '?' && before != '&') continue;
      const std::size_t value = at_key + std::string_view("password=").size();
      const std::size_t end = std::min(out.find('&', value), out.size());
      out.replace(value, end - value, "***");
    }
  }
  return out;
}

}  // namespace integr8scode
