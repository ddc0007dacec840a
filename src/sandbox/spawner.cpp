#include "sandbox/spawner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include "sandbox/pidfd.hpp"
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "common/log.hpp"
#include "sandbox/network_namespace.hpp"

extern char** environ;

namespace integr8scode {
namespace {

constexpr std::size_t kMaxMessage = 256 * 1024;
constexpr std::size_t kMaxFds = 16;

// The fixed head of a request; the serialized LaunchSpec follows.
struct RequestHeader {
  std::uint32_t fd_count = 0;
  std::uint32_t has_stdin = 0;
  std::uint32_t has_cgroup_dir = 0;
  std::uint32_t steps = 0;
};

// The spawner's first packet: proof that the process started is really the spawner.
constexpr char kHello[] = "integr8scode-spawner/1";
constexpr auto kHelloTimeout = std::chrono::seconds(5);

struct Reply {
  std::int32_t pid = -1;
  std::int32_t error = 0;  // errno of a failed launch
  char text[200] = {};
};

Status SendWithFds(int socket, const void* data, std::size_t size, const std::vector<int>& fds,
                   const void* extra = nullptr, std::size_t extra_size = 0) {
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
    if (errno != EINTR) return Fail(SystemError("sendmsg to spawner"));
  }
}

// Receives one packet and its descriptors (close-on-exec). Returns the bytes read;
// 0 when the peer is gone.
Result<std::size_t> ReceiveWithFds(int socket, std::vector<char>& buffer, std::vector<UniqueFd>& fds) {
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
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    std::vector<int> raw(count);
    std::memcpy(raw.data(), CMSG_DATA(header), count * sizeof(int));
    for (const int fd : raw) fds.emplace_back(fd);
  }
  if (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return Fail(ErrorCode::kInternal, "truncated spawner message");
  return static_cast<std::size_t>(n);
}

}  // namespace

std::optional<int> RunSpawnerIfRequested(int argc, char** argv) {
  if (argc == 2 && kSpawnerCommand == argv[1]) return RunSpawner(kSpawnerSocketFd);
  return std::nullopt;
}

int RunSpawner(int socket_fd) {
  // Inits are reaped by the kernel (SIG_IGN); the server watches them by pidfd.
  ::signal(SIGCHLD, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::prctl(PR_SET_NAME, "i8c-spawner");
  if (::getppid() == 1) return 1;  // the server died before the prctl
  const SeccompProgram* seccomp = &EmbeddedSeccompProgram();
  if (!SendWithFds(socket_fd, kHello, sizeof kHello, {})) return 1;
  std::vector<char> buffer(kMaxMessage);
  // Network namespaces made while idle, one per sandbox (see network_namespace.hpp).
  std::vector<UniqueFd> namespaces;
  constexpr std::size_t kNamespacesAhead = 4;
  for (;;) {
    while (namespaces.size() < kNamespacesAhead) {
      pollfd pending{socket_fd, POLLIN, 0};
      if (::poll(&pending, 1, 0) != 0) break;  // a request (or hang-up) comes first
      auto made = CreateNetworkNamespace();
      if (!made) break;
      namespaces.push_back(std::move(*made));
    }
    std::vector<UniqueFd> fds;
    auto received = ReceiveWithFds(socket_fd, buffer, fds);
    if (!received || *received == 0) return 0;  // the server is gone
    Reply reply;
    RequestHeader header;
    Result<LaunchSpec> spec = Fail(ErrorCode::kInternal, "short request");
    if (*received >= sizeof header) {
      std::memcpy(&header, buffer.data(), sizeof header);
      spec = LaunchSpec::Deserialize(std::string_view(buffer.data() + sizeof header, *received - sizeof header));
    }
    const std::size_t expected = 2 + header.has_stdin + header.has_cgroup_dir + 2 * header.steps;
    std::vector<int> sent_pidfd;
    UniqueFd pidfd;
    if (!spec || fds.size() != header.fd_count || fds.size() != expected) {
      reply.error = EINVAL;
      std::strncpy(reply.text, "malformed spawner request", sizeof reply.text - 1);
    } else {
      LaunchFds launch;
      std::size_t next = 0;
      launch.control = fds[next++].Get();
      launch.source = fds[next++].Get();
      if (header.has_stdin) launch.stdin_fd = fds[next++].Get();
      if (header.has_cgroup_dir) launch.cgroup_dir = fds[next++].Get();
      for (std::uint32_t i = 0; i < header.steps; ++i) launch.step_stdout.push_back(fds[next++].Get());
      for (std::uint32_t i = 0; i < header.steps; ++i) launch.step_stderr.push_back(fds[next++].Get());
      UniqueFd netns;
      if (!namespaces.empty()) {
        netns = std::move(namespaces.back());
        namespaces.pop_back();
        launch.netns = netns.Get();
      }
      auto launched = LaunchSandbox(*spec, launch, *seccomp);
      if (launched) {
        reply.pid = launched->pid;
        pidfd = std::move(launched->pidfd);
        sent_pidfd.push_back(pidfd.Get());
      } else {
        reply.error = launched.error().sys_errno != 0 ? launched.error().sys_errno : EIO;
        std::strncpy(reply.text, launched.error().Describe().c_str(), sizeof reply.text - 1);
      }
    }
    // The received descriptors now belong to the sandbox (or the launch failed): ours
    // close when `fds` goes out of scope.
    if (!SendWithFds(socket_fd, &reply, sizeof reply, sent_pidfd)) return 1;
  }
}

Result<std::unique_ptr<SpawnerClient>> SpawnerClient::Start(std::filesystem::path executable) {
  auto client = std::unique_ptr<SpawnerClient>(new SpawnerClient(std::move(executable)));
  std::lock_guard lock(client->mutex_);
  if (auto s = client->StartProcess(); !s) return Fail(s.error());
  return client;
}

SpawnerClient::~SpawnerClient() {
  socket_.Reset();  // the spawner exits when its socket closes
  if (pidfd_) {
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd_.Get()), &info, WEXITED);
  }
}

Status SpawnerClient::StartProcess() {
  if (pidfd_) {
    PidfdSendSignal(pidfd_.Get(), SIGKILL);
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd_.Get()), &info, WEXITED);
    pidfd_.Reset();
  }
  if (std::getenv(kSpawnerEnvironmentMark) != nullptr) {
    return Fail(ErrorCode::kInternal, "refusing to start a sandbox spawner from inside a spawner");
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return Fail(SystemError("socketpair"));
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 onto fd 3 clears close-on-exec for the spawner's end only.
  posix_spawn_file_actions_adddup2(&actions, theirs.Get(), kSpawnerSocketFd);
  const std::string exe = executable_.string();
  const std::string command(kSpawnerCommand);
  char* argv[] = {const_cast<char*>(exe.c_str()), const_cast<char*>(command.c_str()), nullptr};
  std::vector<char*> env;
  const std::string mark = std::string(kSpawnerEnvironmentMark) + "=1";
  for (char** var = environ; *var != nullptr; ++var) env.push_back(*var);
  env.push_back(const_cast<char*>(mark.c_str()));
  env.push_back(nullptr);
  pid_t pid = -1;
  // posix_spawn uses CLONE_VM|CLONE_VFORK: no copy of the server's address space.
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Fail(SystemError(rc, "start the sandbox spawner " + exe));
  pid_ = pid;
  pidfd_.Reset(PidfdOpen(pid));
  theirs.Reset();
  // Wait for the hello; a binary that is not the spawner is stopped at once.
  pollfd pfd{ours.Get(), POLLIN, 0};
  char hello[sizeof kHello] = {};
  const bool answered =
      ::poll(&pfd, 1, static_cast<int>(std::chrono::milliseconds(kHelloTimeout).count())) == 1 &&
      ::recv(ours.Get(), hello, sizeof hello, 0) == static_cast<ssize_t>(sizeof kHello) &&
      std::memcmp(hello, kHello, sizeof kHello) == 0;
  if (!answered) {
    PidfdSendSignal(pidfd_.Get(), SIGKILL);
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd_.Get()), &info, WEXITED);
    pidfd_.Reset();
    return Fail(ErrorCode::kUnavailable,
                fmt::format("{} did not start as the sandbox spawner (its main() must call "
                            "RunSpawnerIfRequested)",
                            exe));
  }
  socket_ = std::move(ours);
  return {};
}

Result<LaunchedSandbox> SpawnerClient::Launch(const LaunchSpec& spec, const LaunchFds& fds) {
  RequestHeader header;
  header.has_stdin = fds.stdin_fd >= 0 ? 1 : 0;
  header.has_cgroup_dir = fds.cgroup_dir >= 0 ? 1 : 0;
  header.steps = static_cast<std::uint32_t>(fds.step_stdout.size());
  const std::vector<int> all = fds.All();
  header.fd_count = static_cast<std::uint32_t>(all.size());
  const std::string body = spec.Serialize();
  if (sizeof header + body.size() > kMaxMessage) return Fail(ErrorCode::kInternal, "launch spec too large");

  std::lock_guard lock(mutex_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!socket_ || attempt > 0) {
      Log(LogLevel::kWarn, "restarting the sandbox spawner");
      if (auto s = StartProcess(); !s) return Fail(s.error());
    }
    if (!SendWithFds(socket_.Get(), &header, sizeof header, all, body.data(), body.size())) continue;
    std::vector<char> buffer(sizeof(Reply));
    std::vector<UniqueFd> received;
    auto n = ReceiveWithFds(socket_.Get(), buffer, received);
    if (!n || *n != sizeof(Reply)) continue;  // the spawner died: restart it once
    Reply reply;
    std::memcpy(&reply, buffer.data(), sizeof reply);
    if (reply.pid <= 0 || received.size() != 1) {
      reply.text[sizeof reply.text - 1] = '\0';
      return Fail(SystemError(reply.error, fmt::format("spawner: {}", reply.text)));
    }
    LaunchedSandbox launched;
    launched.pid = reply.pid;
    launched.pidfd = std::move(received[0]);
    return launched;
  }
  return Fail(ErrorCode::kUnavailable, "the sandbox spawner is not responding");
}

}  // namespace integr8scode
