#include "sandbox/cgroup_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <sstream>

#include "common/try.hpp"

namespace integr8scode {
namespace {

std::vector<std::string> Split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find(separator, start);
    const std::size_t stop = end == std::string_view::npos ? text.size() : end;
    parts.emplace_back(text.substr(start, stop - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

std::optional<std::uint64_t> ToNumber(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

Result<UniqueFd> OpenControlFile(const std::string& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd) {
    const int saved = errno;
    return Fail(SystemError(saved, "open " + path));
  }
  return fd;
}

Result<std::string> ReadControlFd(int fd) {
  std::string text;
  char buffer[4096];
  off_t offset = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(SystemError("read control file"));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    offset += n;
  }
  return text;
}

Status WriteControlFd(int fd, std::string_view value) {
  // cgroupfs takes a value in one write; a short write is an error, not a retry.
  const ssize_t n = ::pwrite(fd, value.data(), value.size(), 0);
  if (n < 0) return Fail(SystemError("write control file"));
  if (static_cast<std::size_t>(n) != value.size()) {
    return Fail(ErrorCode::kInternal, "short write to control file");
  }
  return {};
}

Result<std::string> ReadControlFile(const std::string& path) {
  auto fd = I8C_TRY_VALUE(OpenControlFile(path, O_RDONLY));
  auto text = ReadControlFd(fd.Get());
  if (!text) return Fail(std::move(text.error()).WithContext(path));
  return text;
}

Status WriteControlFile(const std::string& path, std::string_view value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    const int saved = errno;
    return Fail(SystemError(saved, "open " + path));
  }
  const ssize_t n = ::write(fd.Get(), value.data(), value.size());
  if (n < 0) {
    const int saved = errno;
    return Fail(SystemError(saved, fmt::format("write '{}' to {}", value, path)));
  }
  return {};
}

std::optional<std::uint64_t> ParseKeyedValue(std::string_view text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ') {
      return ToNumber(line.substr(key.size() + 1));
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> ParseSingleValue(std::string_view text) { return ToNumber(text); }

std::vector<int> ParsePidList(std::string_view text) {
  std::vector<int> pids;
  for (const std::string& line : Split(text, '\n')) {
    if (auto value = ToNumber(line); value && *value > 0) pids.push_back(static_cast<int>(*value));
  }
  return pids;
}

std::vector<CgroupMount> ParseCgroupMounts(std::string_view mountinfo) {
  // Format (proc(5)): id parent major:minor root mount_point options [optional…] - fstype source
  // super_options
  std::vector<CgroupMount> mounts;
  for (const std::string& line : Split(mountinfo, '\n')) {
    std::istringstream in(line);
    std::vector<std::string> fields;
    for (std::string field; in >> field;) fields.push_back(field);
    std::size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (dash < 5 || dash + 3 > fields.size()) continue;
    const std::string& fstype = fields[dash + 1];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    CgroupMount mount;
    mount.root = fields[3];
    mount.mount_point = fields[4];
    mount.v2 = fstype == "cgroup2";
    if (!mount.v2) {
      for (const std::string& option : Split(fields[dash + 3], ',')) {
        // Mount options that are not controllers (cgroups(7), "Mounting v1 controllers").
        if (option == "rw" || option == "ro" || option == "xattr" || option == "noprefix" ||
            option == "clone_children" || option == "cpuset_v2_mode" || option == "favordynmods" ||
            option.find('=') != std::string::npos) {
          continue;
        }
        mount.controllers.push_back(option);
      }
    }
    mounts.push_back(std::move(mount));
  }
  return mounts;
}

std::vector<CgroupMembership> ParseProcCgroup(std::string_view text) {
  std::vector<CgroupMembership> out;
  for (const std::string& line : Split(text, '\n')) {
    const std::size_t first = line.find(':');
    const std::size_t second =
        first == std::string::npos ? std::string::npos : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    CgroupMembership membership;
    membership.hierarchy_id = static_cast<int>(ToNumber(line.substr(0, first)).value_or(0));
    const std::string controllers = line.substr(first + 1, second - first - 1);
    if (!controllers.empty()) membership.controllers = Split(controllers, ',');
    membership.path = line.substr(second + 1);
    out.push_back(std::move(membership));
  }
  return out;
}

}  // namespace integr8scode
