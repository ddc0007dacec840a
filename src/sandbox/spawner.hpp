#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "common/child.hpp"
#include "common/unique_fd.hpp"
#include "sandbox/launcher.hpp"

namespace integr8scode {

// The hidden sub-command that runs the spawner: `integr8scode __sandbox-spawner`, with
// its request socket as fd 3.
inline constexpr std::string_view kSpawnerCommand = "__sandbox-spawner";
inline constexpr int kSpawnerSocketFd = 3;

// The spawner is a small, single-threaded process of this binary, exec'd fresh by the
// server. It clones every sandbox so that the server — large and multi-threaded — is
// never forked (a fork copies its page tables: 22 ms at 1 GiB resident, against well
// under a millisecond for the spawner). Requests carry a LaunchSpec and its fds over a
// SOCK_SEQPACKET socket; the reply carries the sandbox init's pidfd. The spawner dies
// with the server (PR_SET_PDEATHSIG), and the sandboxes with the spawner.
//
// The client side. Thread-safe: one request at a time; a dead spawner is restarted on
// the next request.
class SpawnerClient final : public SandboxLauncher {
 public:
  static Result<std::unique_ptr<SpawnerClient>> Start(std::filesystem::path executable);
  ~SpawnerClient() override;

  // The init is the spawner's child: the returned Child kills it but leaves it to the
  // spawner to reap.
  Result<Child> Launch(const LaunchSpec& spec, const LaunchFds& fds) override;

 private:
  explicit SpawnerClient(std::filesystem::path executable) : executable_(std::move(executable)) {}
  Status StartProcess();  // with mutex_ held

  std::mutex mutex_;
  std::filesystem::path executable_;
  UniqueFd socket_;
  Child spawner_;
};

// The spawner's main loop (the process side). Returns the exit code.
int RunSpawner(int socket_fd);

// For every main() of a binary that may create a LocalExecutor (the app, test
// binaries): when argv asks for the spawner, runs it and returns its exit code.
std::optional<int> RunSpawnerIfRequested(int argc, char** argv);

// Set in the spawner's environment to the server's pid. A process that has it never starts
// a spawner itself, so a binary that does not know the spawner command cannot recurse; the
// spawner checks its parent against it (a server may be PID 1 of a container).
inline constexpr const char* kSpawnerEnvironmentMark = "INTEGR8SCODE_SPAWNER_PROCESS";

}  // namespace integr8scode
