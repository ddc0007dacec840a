#include "common/private_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "common/log.hpp"
#include "common/unique_fd.hpp"

namespace integr8scode {
namespace {

Error Unusable(int saved_errno, std::string message) {
  Error error = saved_errno != 0 ? SystemError(saved_errno, std::move(message))
                                 : MakeError(ErrorCode::kUnavailable, std::move(message));
  error.code = ErrorCode::kUnavailable;
  return error;
}

// `fd` is open on `path`; `mode` is what it becomes when it allows others anything.
Status MakePrivate(int fd, const std::filesystem::path& path, bool directory, mode_t mode) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Fail(Unusable(errno, fmt::format("stat {}", path.string())));
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
    return Fail(Unusable(0, fmt::format("{} is not a {}; move it away", path.string(),
                                        directory ? "directory" : "regular file")));
  }
  if (st.st_uid != ::geteuid()) {
    return Fail(Unusable(0, fmt::format("{} belongs to uid {}, not to uid {} that this server "
                                        "runs as; chown it to that user",
                                        path.string(), st.st_uid, ::geteuid())));
  }
  if ((st.st_mode & 077) == 0) return {};
  if (::fchmod(fd, mode) != 0) {
    const int saved = errno;
    return Fail(Unusable(saved, fmt::format("make {} private (chmod {:o})", path.string(), mode)));
  }
  Log(LogLevel::kWarn, "was readable by other users; made private",
      {{"path", path.string()},
       {"mode_was", fmt::format("{:o}", st.st_mode & 07777)},
       {"mode", fmt::format("{:o}", mode)}});
  return {};
}

Status OpenAndMakePrivate(const std::filesystem::path& path, int extra_flags) {
  // O_NONBLOCK: a FIFO planted under the name must not block the start.
  UniqueFd fd(
      ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | extra_flags, 0600));
  if (!fd) {
    const int saved = errno;
    if (saved == ENOENT) return {};
    if (saved == ELOOP) {
      return Fail(Unusable(
          0, fmt::format("{} is a symbolic link; put the file itself there", path.string())));
    }
    return Fail(Unusable(saved, fmt::format("open {}", path.string())));
  }
  return MakePrivate(fd.Get(), path, /*directory=*/false, 0600);
}

}  // namespace

Status EnsurePrivateDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
  if (ec) {
    return Fail(Unusable(ec.value(), fmt::format("create {}", dir.parent_path().string())));
  }
  // mkdir's mode is masked by the umask, which can only take bits away from 0700.
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Fail(Unusable(errno, fmt::format("create directory {}", dir.string())));
  }
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    const int saved = errno;
    return Fail(Unusable(saved, fmt::format("open directory {}", dir.string())));
  }
  return MakePrivate(fd.Get(), dir, /*directory=*/true, 0700);
}

Status EnsurePrivateFile(const std::filesystem::path& path) { return OpenAndMakePrivate(path, 0); }

Status CreatePrivateFile(const std::filesystem::path& path) {
  // O_CREAT's 0600 is masked by the umask; MakePrivate's fchmod is not, and only runs
  // when bits beyond 0600's owner bits are set.
  return OpenAndMakePrivate(path, O_CREAT);
}

}  // namespace integr8scode
