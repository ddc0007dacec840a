#include "service/jwt_secret.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/log.hpp"
#include "common/private_files.hpp"
#include "common/try.hpp"
#include "common/unique_fd.hpp"
#include "service/crypto.hpp"

namespace integr8scode {
namespace {

constexpr std::size_t kGeneratedBytes = 32;
constexpr std::size_t kMaxSecretFileBytes = 4096;

Error Unusable(int saved_errno, const std::filesystem::path& path, std::string_view what) {
  Error error = SystemError(saved_errno, fmt::format("{} {}", what, path.string()));
  error.code = ErrorCode::kUnavailable;
  return error;
}

std::string TrimTrailingNewlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

Result<std::string> ReadSecret(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return Fail(Unusable(errno, path, "open"));
  struct stat st {};
  if (::fstat(fd.Get(), &st) != 0) return Fail(Unusable(errno, path, "stat"));
  if (!S_ISREG(st.st_mode)) {
    return Fail(
        MakeError(ErrorCode::kUnavailable, fmt::format("{} is not a regular file", path.string())));
  }
  if ((st.st_mode & 077) != 0) {
    Log(LogLevel::kWarn, "JWT secret file was readable by others; setting mode 0600",
        {{"path", path.string()}});
    if (::fchmod(fd.Get(), 0600) != 0) return Fail(Unusable(errno, path, "chmod"));
  }
  std::string text(kMaxSecretFileBytes + 1, '\0');
  std::size_t length = 0;
  while (length < text.size()) {
    const ssize_t n = ::read(fd.Get(), text.data() + length, text.size() - length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(Unusable(errno, path, "read"));
    if (n == 0) break;
    length += static_cast<std::size_t>(n);
  }
  text.resize(length);
  text = TrimTrailingNewlines(std::move(text));
  if (text.size() < kMinJwtSecretBytes || text.size() > kMaxSecretFileBytes) {
    return Fail(MakeError(ErrorCode::kInvalidArgument,
                          fmt::format("{} must hold between {} and {} bytes; delete it to have a "
                                      "new one generated (this logs everyone out)",
                                      path.string(), kMinJwtSecretBytes, kMaxSecretFileBytes)));
  }
  return text;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(SystemError("write"));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// Writes a new key to a temporary file and links it to `path`. Returns false when
// another process linked its key first (then that one is read).
Result<bool> CreateSecret(const std::filesystem::path& dir, const std::filesystem::path& path) {
  const std::filesystem::path temp =
      dir / fmt::format(".jwt_secret.{}.{}", ::getpid(), HexEncode(RandomBytes(8)));
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return Fail(Unusable(errno, temp, "create"));
  const std::string secret = HexEncode(RandomBytes(kGeneratedBytes)) + "\n";
  Status written = WriteAll(fd.Get(), secret);
  if (written && ::fsync(fd.Get()) != 0) written = Fail(SystemError("fsync"));
  if (!written) {
    const Error error = written.error();
    ::unlink(temp.c_str());
    return Fail(Unusable(error.sys_errno, temp, "write"));
  }
  fd.Reset();
  // link(2), unlike rename(2), never replaces an existing file.
  const bool linked = ::link(temp.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(temp.c_str());
  if (!linked && link_errno != EEXIST) return Fail(Unusable(link_errno, path, "link"));
  if (linked) {
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd) ::fsync(dir_fd.Get());
  }
  return linked;
}

}  // namespace

Result<std::string> LoadOrCreateJwtSecret(const std::filesystem::path& data_dir) {
  if (data_dir.empty()) {
    return Fail(MakeError(ErrorCode::kInvalidArgument,
                          "no JWT secret configured and no data directory to keep one in"));
  }
  I8C_TRY(EnsurePrivateDirectory(data_dir));
  const std::filesystem::path path = data_dir / "jwt_secret";
  if (::access(path.c_str(), F_OK) != 0) {
    if (errno != ENOENT) return Fail(Unusable(errno, path, "access"));
    auto created = I8C_TRY_VALUE(CreateSecret(data_dir, path));
    if (created) Log(LogLevel::kInfo, "generated a new JWT secret", {{"path", path.string()}});
  }
  return ReadSecret(path);
}

}  // namespace integr8scode
