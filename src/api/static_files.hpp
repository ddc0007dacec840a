#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "api/http_message.hpp"

namespace integr8scode {

// Serves the built web UI from `root` (web/dist): correct MIME types, ETag and
// If-None-Match, cache headers (hashed assets/* immutable for a year, HTML no-cache),
// gzip (a precompressed ".gz" sibling when present, else compressed here once and kept
// in memory), index.html for client-side routes (paths without a file extension),
// and /docs → docs/index.html.
//
// Paths are resolved beneath the root by the kernel (openat2 RESOLVE_BENEATH), after
// rejecting "..", "." and NUL: nothing outside the root can be read, through symlinks
// or otherwise. Thread-safe.
class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);
  ~StaticFiles();

  // For GET and HEAD.
  HttpResponse Serve(const HttpRequest& request);

  // "text/javascript; charset=utf-8" for "app.js"; application/octet-stream if unknown.
  static std::string_view MimeType(std::string_view file_name);

 private:
  struct Compressed {
    std::string etag;
    std::string body;
  };

  std::string GzipCached(const std::string& key, const std::string& etag, const std::string& body);

  std::filesystem::path root_;
  std::mutex mutex_;
  std::unordered_map<std::string, Compressed> gzip_cache_;
  std::size_t gzip_cache_bytes_ = 0;
};

}  // namespace integr8scode
