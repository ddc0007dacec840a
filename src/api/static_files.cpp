#include "api/static_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <vector>

#include "api/router.hpp"
#include "common/unique_fd.hpp"

namespace integr8scode {
namespace {

constexpr std::size_t kMaxFileBytes = 64ull << 20;
constexpr std::size_t kMaxGzipCacheBytes = 64ull << 20;
constexpr std::size_t kMinGzipBytes = 1024;

// A strict policy: every script is a file of our own; inline styles are needed by
// CodeMirror and Redoc, blob: workers by Redoc.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: "
    "blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'";

struct OpenedFile {
  UniqueFd fd;
  struct stat info {};
};

// openat2(2) with RESOLVE_BENEATH: the kernel refuses any resolution that leaves the
// directory, including through symlinks and "..".
std::optional<OpenedFile> OpenBeneath(int root_fd, const std::string& relative) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof(how));
  if (fd < 0 && errno == ENOSYS) {
    // Kernels before 5.6: the lexical checks of Serve() already refused "..", and
    // O_NOFOLLOW refuses a symlink as the last component.
    fd = ::openat(root_fd, relative.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  }
  if (fd < 0) return std::nullopt;
  OpenedFile file{UniqueFd(static_cast<int>(fd)), {}};
  if (::fstat(file.fd.Get(), &file.info) != 0) return std::nullopt;
  return file;
}

bool ReadAll(int fd, std::size_t size, std::string& out) {
  out.resize(size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Decodes the URL path and checks every segment; returns the path relative to the
// root without a leading slash, or nothing when it is not a path we serve.
std::optional<std::string> SafeRelativePath(std::string_view url_path) {
  std::string decoded;
  if (!PercentDecode(url_path, false, decoded)) return std::nullopt;
  if (decoded.find('\\') != std::string::npos) return std::nullopt;
  std::string out;
  std::string_view rest = decoded;
  bool trailing_slash = decoded.ends_with('/');
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty()) continue;
    if (segment == "." || segment == ".." || segment.front() == '.')
      return std::nullopt;  // no dotfiles
    if (!out.empty()) out.push_back('/');
    out.append(segment);
  }
  if (out.empty() || trailing_slash) out += out.empty() ? "index.html" : "/index.html";
  return out;
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Accept-Encoding: "gzip, deflate, br" or "gzip;q=0.8"; "gzip;q=0" refuses it.
bool AcceptsGzip(const HttpRequest& request) {
  std::string_view rest = request.Header("accept-encoding");
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const std::size_t semicolon = item.find(';');
    const std::string_view name = TrimSpaces(item.substr(0, semicolon));
    if (name != "gzip" && name != "*") continue;
    if (semicolon == std::string_view::npos) return true;
    const std::string_view parameter = TrimSpaces(item.substr(semicolon + 1));
    if (!parameter.starts_with("q=")) return true;
    return parameter.substr(2).find_first_of("123456789") != std::string_view::npos;
  }
  return false;
}

bool Compressible(std::string_view mime) {
  return mime.starts_with("text/") || mime.starts_with("application/javascript") ||
         mime.starts_with("application/json") || mime.starts_with("image/svg+xml") ||
         mime.starts_with("application/manifest+json") || mime.starts_with("application/wasm");
}

std::string Gzip(const std::string& input) {
  z_stream stream{};
  // 15 window bits + 16: a gzip wrapper rather than raw zlib.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return {};
  std::string output(deflateBound(&stream, input.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(output.data());
  stream.avail_out = static_cast<uInt>(output.size());
  const int result = deflate(&stream, Z_FINISH);
  output.resize(stream.total_out);
  deflateEnd(&stream);
  return result == Z_STREAM_END ? output : std::string();
}

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match == "*") return true;
  while (!if_none_match.empty()) {
    const std::size_t comma = if_none_match.find(',');
    std::string_view candidate = if_none_match.substr(0, comma);
    if_none_match =
        comma == std::string_view::npos ? std::string_view() : if_none_match.substr(comma + 1);
    candidate = TrimSpaces(candidate);
    if (candidate.starts_with("W/")) candidate.remove_prefix(2);
    if (candidate == etag) return true;
  }
  return false;
}

HttpResponse NotFound(std::string_view message) {
  HttpResponse response;
  response.status = 404;
  response.SetHeader("Content-Type", "text/html; charset=utf-8");
  response.SetHeader("Cache-Control", "no-cache");
  response.body = fmt::format(
      "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Not found</title>"
      "<body style=\"font-family:system-ui,sans-serif;padding:2rem\"><h1>Not found</h1><p>{}</p>"
      "<p>The API is under <a href=\"/api/v1/openapi.json\">/api/v1</a>.</p></body></html>",
      message);
  return response;
}

}  // namespace

StaticFiles::StaticFiles(std::filesystem::path root) : root_(std::move(root)) {}
StaticFiles::~StaticFiles() = default;

std::string_view StaticFiles::MimeType(std::string_view file_name) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json; charset=utf-8"},
      {".map", "application/json; charset=utf-8"},
      {".webmanifest", "application/manifest+json; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".avif", "image/avif"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".ttf", "font/ttf"},
      {".otf", "font/otf"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
      {".xml", "application/xml"},
  };
  for (const auto& [extension, type] : kTypes) {
    if (file_name.ends_with(extension)) return type;
  }
  return "application/octet-stream";
}

std::string StaticFiles::GzipCached(const std::string& key, const std::string& etag,
                                    const std::string& body) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = gzip_cache_.find(key); it != gzip_cache_.end() && it->second.etag == etag)
      return it->second.body;
  }
  std::string compressed = Gzip(body);
  std::lock_guard lock(mutex_);
  if (gzip_cache_bytes_ + compressed.size() > kMaxGzipCacheBytes) {
    // A new build replaced the files: start over rather than track ages.
    gzip_cache_.clear();
    gzip_cache_bytes_ = 0;
  }
  if (auto it = gzip_cache_.find(key); it != gzip_cache_.end()) {
    gzip_cache_bytes_ -= it->second.body.size();
    gzip_cache_.erase(it);
  }
  gzip_cache_bytes_ += compressed.size();
  gzip_cache_.emplace(key, Compressed{etag, compressed});
  return compressed;
}

HttpResponse StaticFiles::Serve(const HttpRequest& request) {
  UniqueFd root(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) {
    return NotFound(
        "The web UI is not built on this server. Build it with <code>npm --prefix web ci && "
        "npm --prefix web run build</code>, or set server.web_root.");
  }
  std::string path = request.path == "/docs" ? std::string("/docs/") : request.path;
  std::optional<std::string> relative = SafeRelativePath(path);
  if (!relative) return NotFound("No such page.");

  std::optional<OpenedFile> file = OpenBeneath(root.Get(), *relative);
  if (file && S_ISDIR(file->info.st_mode)) {
    *relative += "/index.html";
    file = OpenBeneath(root.Get(), *relative);
  }
  if (!file || !S_ISREG(file->info.st_mode)) {
    // Client-side routes of the single-page app ("/history", "/executions/…") get the
    // app's page; a missing file with an extension is a real 404.
    const std::string_view last = std::string_view(*relative).substr(relative->rfind('/') + 1);
    const bool is_route = last.find('.') == std::string_view::npos || *relative == "index.html" ||
                          last == "index.html";
    if (!is_route || relative->starts_with("assets/") || relative->starts_with("docs/")) {
      return NotFound("No such file.");
    }
    *relative = "index.html";
    file = OpenBeneath(root.Get(), *relative);
    if (!file || !S_ISREG(file->info.st_mode)) return NotFound("The web UI has no index.html.");
  }
  if (static_cast<std::uint64_t>(file->info.st_size) > kMaxFileBytes)
    return NotFound("The file is too large.");

  const std::string_view mime = MimeType(*relative);
  const std::int64_t mtime_ns =
      static_cast<std::int64_t>(file->info.st_mtim.tv_sec) * 1'000'000'000 +
      file->info.st_mtim.tv_nsec;
  const std::string tag = fmt::format("{:x}-{:x}", file->info.st_size, mtime_ns);
  const bool compressible = Compressible(mime);
  const bool gzip = compressible && AcceptsGzip(request);

  HttpResponse response;
  response.SetHeader("Content-Type", std::string(mime));
  response.SetHeader("X-Content-Type-Options", "nosniff");
  response.SetHeader("Referrer-Policy", "no-referrer");
  if (relative->starts_with("assets/")) {
    // Vite puts a content hash in these names: a changed file has a new name.
    response.SetHeader("Cache-Control", "public, max-age=31536000, immutable");
  } else {
    response.SetHeader("Cache-Control", "no-cache");
  }
  if (mime.starts_with("text/html")) {
    response.SetHeader("Content-Security-Policy", std::string(kContentSecurityPolicy));
    response.SetHeader("X-Frame-Options", "DENY");
  }
  if (compressible) response.SetHeader("Vary", "Accept-Encoding");

  std::string body;
  std::string etag;
  bool encoded = false;
  if (gzip) {
    if (std::optional<OpenedFile> sibling = OpenBeneath(root.Get(), *relative + ".gz");
        sibling && S_ISREG(sibling->info.st_mode) &&
        static_cast<std::uint64_t>(sibling->info.st_size) <= kMaxFileBytes) {
      if (!ReadAll(sibling->fd.Get(), static_cast<std::size_t>(sibling->info.st_size), body)) {
        return NotFound("The file could not be read.");
      }
      etag = fmt::format("\"{}-gz\"", tag);
      encoded = true;
    }
  }
  if (!encoded) {
    if (!ReadAll(file->fd.Get(), static_cast<std::size_t>(file->info.st_size), body)) {
      return NotFound("The file could not be read.");
    }
    etag = fmt::format("\"{}\"", tag);
    if (gzip && body.size() >= kMinGzipBytes) {
      std::string compressed = GzipCached(*relative, etag, body);
      if (!compressed.empty() && compressed.size() < body.size()) {
        body = std::move(compressed);
        etag = fmt::format("\"{}-gz\"", tag);
        encoded = true;
      }
    }
  }
  if (encoded) response.SetHeader("Content-Encoding", "gzip");
  response.SetHeader("ETag", etag);
  if (EtagMatches(request.Header("if-none-match"), etag)) {
    response.status = 304;
    response.headers.erase(
        std::remove_if(response.headers.begin(), response.headers.end(),
                       [](const auto& header) { return header.first == "Content-Encoding"; }),
        response.headers.end());
    return response;
  }
  response.status = 200;
  response.body = std::move(body);
  return response;
}

}  // namespace integr8scode
