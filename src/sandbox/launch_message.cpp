#include "sandbox/launch_message.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <cstring>

#include "common/try.hpp"

namespace integr8scode {
namespace {

constexpr std::size_t kMaxMessage = 256 * 1024;
constexpr std::size_t kMaxFds = 16;

// The fixed head of a launch packet; the serialized LaunchSpec follows.
struct LaunchHeader {
  std::uint32_t has_control = 0;
  std::uint32_t has_source = 0;
  std::uint32_t has_stdin = 0;
  std::uint32_t has_cgroup_dir = 0;
  std::uint32_t has_netns = 0;
  std::uint32_t steps = 0;
};

}  // namespace

Status SendWithFds(int socket, const void* data, std::size_t size, const std::vector<int>& fds,
                   const void* extra, std::size_t extra_size) {
  iovec iov[2] = {{const_cast<void*>(data), size}, {const_cast<void*>(extra), extra_size}};
  msghdr message{};
  message.msg_iov = iov;
  message.msg_iovlen = extra_size > 0 ? 2 : 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    if (header == nullptr) return Fail(ErrorCode::kInternal, "no room for descriptors");
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(socket, &message, MSG_NOSIGNAL) >= 0) return {};
    if (errno != EINTR) return Fail(SystemError("sendmsg"));
  }
}

Result<std::size_t> ReceiveWithFds(int socket, std::vector<char>& buffer,
                                   std::vector<UniqueFd>& fds) {
  iovec iov{buffer.data(), buffer.size()};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFds));
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  ssize_t n = 0;
  do {
    n = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Fail(SystemError("recvmsg"));
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    std::vector<int> raw(count);
    std::memcpy(raw.data(), CMSG_DATA(header), count * sizeof(int));
    for (const int fd : raw) fds.emplace_back(fd);
  }
  if (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
    return Fail(ErrorCode::kInternal, "truncated message");
  return static_cast<std::size_t>(n);
}

Status SendLaunch(int socket, const LaunchSpec& spec, const LaunchFds& fds) {
  LaunchHeader header;
  header.has_control = fds.control >= 0;
  header.has_source = fds.source >= 0;
  header.has_stdin = fds.stdin_fd >= 0;
  header.has_cgroup_dir = fds.cgroup_dir >= 0;
  header.has_netns = fds.netns >= 0;
  header.steps = static_cast<std::uint32_t>(fds.step_stdout.size());
  const std::string body = spec.Serialize();
  if (sizeof header + body.size() > kMaxMessage)
    return Fail(ErrorCode::kInternal, "launch spec too large");
  return SendWithFds(socket, &header, sizeof header, fds.All(), body.data(), body.size());
}

Result<ReceivedLaunch> ReceiveLaunch(int socket) {
  // The packet's size first (MSG_PEEK|MSG_TRUNC answers the whole length of a
  // SOCK_SEQPACKET packet), so that the buffer is as large as the message, not the
  // largest message: every sandbox start passes through here.
  char probe = 0;
  ssize_t length = 0;
  do {
    length = ::recv(socket, &probe, 1, MSG_PEEK | MSG_TRUNC);
  } while (length < 0 && errno == EINTR);
  if (length < 0) return Fail(SystemError("recv"));
  if (length == 0) return Fail(ErrorCode::kUnavailable, "the peer closed the socket");
  if (static_cast<std::size_t>(length) > kMaxMessage)
    return Fail(ErrorCode::kInternal, "launch message too large");
  std::vector<char> buffer(static_cast<std::size_t>(length));
  ReceivedLaunch received;
  auto n = I8C_TRY_VALUE(ReceiveWithFds(socket, buffer, received.owned));
  if (n == 0) return Fail(ErrorCode::kUnavailable, "the peer closed the socket");
  LaunchHeader header;
  if (n < sizeof header) return Fail(ErrorCode::kInternal, "short launch message");
  std::memcpy(&header, buffer.data(), sizeof header);
  auto spec = I8C_TRY_VALUE(
      LaunchSpec::Deserialize(std::string_view(buffer.data() + sizeof header, n - sizeof header)));
  const std::size_t expected = header.has_control + header.has_source + header.has_stdin +
                               header.has_cgroup_dir + header.has_netns +
                               2 * static_cast<std::size_t>(header.steps);
  if (received.owned.size() != expected)
    return Fail(ErrorCode::kInternal, "launch message with the wrong descriptors");
  std::size_t next = 0;
  const auto take = [&](std::uint32_t present) {
    return present ? received.owned[next++].Get() : -1;
  };
  received.fds.control = take(header.has_control);
  received.fds.source = take(header.has_source);
  received.fds.stdin_fd = take(header.has_stdin);
  received.fds.cgroup_dir = take(header.has_cgroup_dir);
  received.fds.netns = take(header.has_netns);
  for (std::uint32_t i = 0; i < header.steps; ++i)
    received.fds.step_stdout.push_back(received.owned[next++].Get());
  for (std::uint32_t i = 0; i < header.steps; ++i)
    received.fds.step_stderr.push_back(received.owned[next++].Get());
  received.spec = std::move(spec);
  return received;
}

}  // namespace integr8scode
