#include "sandbox/spawner.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "common/try.hpp"
#include "sandbox/launch_message.hpp"
#include "sandbox/network_namespace.hpp"

extern char** environ;

namespace integr8scode {
namespace {

// The spawner's first packet: proof that the process started is really the spawner.
constexpr char kHello[] = "integr8scode-spawner/1";
constexpr auto kHelloTimeout = std::chrono::seconds(5);

struct Reply {
  std::int32_t pid = -1;
  std::int32_t error = 0;  // errno of a failed launch
  char text[200] = {};
};

}  // namespace

std::optional<int> RunSpawnerIfRequested(int argc, char** argv) {
  if (argc == 2 && kSpawnerCommand == argv[1]) return RunSpawner(kSpawnerSocketFd);
  return std::nullopt;
}

int RunSpawner(int socket_fd) {
  // Inits are reaped by the kernel (SIG_IGN); the server watches them by pidfd. A spawner
  // that cannot set these up exits before its hello, which the server reports as a
  // spawner that did not answer.
  if (::signal(SIGCHLD, SIG_IGN) == SIG_ERR) return 1;
  if (::signal(SIGPIPE, SIG_IGN) == SIG_ERR) return 1;
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return 1;
  ::prctl(PR_SET_NAME, "i8c-spawner");  // cosmetic (`ps`): its failure is ignored
  // The server died before the prctl if we were re-parented. Compared with the pid the server
  // recorded, not with 1: a server that is PID 1 of a container is our rightful parent.
  const char* mark = std::getenv(kSpawnerEnvironmentMark);
  if (mark == nullptr || std::to_string(::getppid()) != mark) return 1;
  const SeccompProgram* seccomp = &EmbeddedSeccompProgram();
  if (!SendWithFds(socket_fd, kHello, sizeof kHello, {})) return 1;
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
    auto request = ReceiveLaunch(socket_fd);
    if (!request && request.error().code == ErrorCode::kUnavailable)
      return 0;  // the server is gone
    Reply reply;
    std::vector<int> sent_pidfd;
    UniqueFd pidfd;
    if (!request || request->fds.control < 0) {
      reply.error = EINVAL;
      std::strncpy(reply.text, "malformed spawner request", sizeof reply.text - 1);
    } else {
      UniqueFd netns;
      if (!namespaces.empty()) {
        netns = std::move(namespaces.back());
        namespaces.pop_back();
        request->fds.netns = netns.Get();
      }
      auto launched = LaunchSandbox(request->spec, request->fds, *seccomp);
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
    // close when `request` goes out of scope.
    if (!SendWithFds(socket_fd, &reply, sizeof reply, sent_pidfd)) return 1;
  }
}

Result<std::unique_ptr<SpawnerClient>> SpawnerClient::Start(std::filesystem::path executable) {
  auto client = std::unique_ptr<SpawnerClient>(new SpawnerClient(std::move(executable)));
  std::lock_guard lock(client->mutex_);
  I8C_TRY(client->StartProcess());
  return client;
}

SpawnerClient::~SpawnerClient() {
  socket_.Reset();  // the spawner exits when its socket closes: let it, then reap it
  if (auto waited = spawner_.Wait(); !waited && spawner_.Running()) {
    Log(LogLevel::kWarn, "cannot wait for the sandbox spawner",
        {{"error", waited.error().Describe()}});
  }
}

Status SpawnerClient::StartProcess() {
  spawner_ = Child();  // a spawner that stopped answering: killed and reaped
  if (std::getenv(kSpawnerEnvironmentMark) != nullptr) {
    return Fail(ErrorCode::kInternal, "refusing to start a sandbox spawner from inside a spawner");
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return Fail(SystemError("socketpair"));
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
  const std::string mark = std::string(kSpawnerEnvironmentMark) + "=" + std::to_string(::getpid());
  for (char** var = environ; *var != nullptr; ++var) env.push_back(*var);
  env.push_back(const_cast<char*>(mark.c_str()));
  env.push_back(nullptr);
  pid_t pid = -1;
  // posix_spawn uses CLONE_VM|CLONE_VFORK: no copy of the server's address space.
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Fail(SystemError(rc, "start the sandbox spawner " + exe));
  auto adopted = Child::Adopt(pid);
  if (!adopted) return Fail(std::move(adopted).error().WithContext("the sandbox spawner"));
  spawner_ = std::move(*adopted);
  theirs.Reset();
  // Wait for the hello; a binary that is not the spawner is stopped at once.
  pollfd pfd{ours.Get(), POLLIN, 0};
  char hello[sizeof kHello] = {};
  const bool answered =
      ::poll(&pfd, 1, static_cast<int>(std::chrono::milliseconds(kHelloTimeout).count())) == 1 &&
      ::recv(ours.Get(), hello, sizeof hello, 0) == static_cast<ssize_t>(sizeof kHello) &&
      std::memcmp(hello, kHello, sizeof kHello) == 0;
  if (!answered) {
    spawner_ = Child();
    return Fail(ErrorCode::kUnavailable,
                fmt::format("{} did not start as the sandbox spawner (its main() must call "
                            "RunSpawnerIfRequested)",
                            exe));
  }
  socket_ = std::move(ours);
  return {};
}

Result<Child> SpawnerClient::Launch(const LaunchSpec& spec, const LaunchFds& fds) {
  std::lock_guard lock(mutex_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!socket_ || attempt > 0) {
      Log(LogLevel::kWarn, "restarting the sandbox spawner");
      I8C_TRY(StartProcess());
    }
    if (!SendLaunch(socket_.Get(), spec, fds)) continue;
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
    return Child::FromPidfd(reply.pid, std::move(received[0]), Child::Parent::kAnother);
  }
  return Fail(ErrorCode::kUnavailable, "the sandbox spawner is not responding");
}

}  // namespace integr8scode
