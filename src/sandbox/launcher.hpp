#pragma once

#include <sys/types.h>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "sandbox/launch_spec.hpp"
#include "sandbox/network_namespace.hpp"
#include "sandbox/seccomp_policy.hpp"

namespace integr8scode {

struct LaunchedSandbox {
  pid_t pid = -1;
  UniqueFd pidfd;  // readable when the sandbox init has exited (and so everything in it)
};

// Starts sandboxes: directly (DirectLauncher) or through the spawner process.
// Thread-safe.
class SandboxLauncher {
 public:
  virtual ~SandboxLauncher() = default;
  virtual Result<LaunchedSandbox> Launch(const LaunchSpec& spec, const LaunchFds& fds) = 0;
  // Whether this process is the sandbox init's parent (and so must reap it).
  virtual bool IsParent() const = 0;
};

// Clones from this process, which must be small and single-threaded at the moment of
// the clone (the CLI). Makes the run's network namespace ahead on a helper thread.
class DirectLauncher final : public SandboxLauncher {
 public:
  explicit DirectLauncher(SeccompProgram seccomp);
  Result<LaunchedSandbox> Launch(const LaunchSpec& spec, const LaunchFds& fds) override;
  bool IsParent() const override { return true; }

 private:
  SeccompProgram seccomp_;
  NetworkNamespaceAhead netns_;
};

// Clones the sandbox init into new PID, mount, network, IPC and UTS namespaces (the
// cgroup namespace follows once it has joined its slot) and returns at once; the
// child runs RunSandboxInit. The caller must be a small, single-threaded process (the
// CLI or the spawner): the clone copies its address space.
Result<LaunchedSandbox> LaunchSandbox(const LaunchSpec& spec, const LaunchFds& fds,
                                      const SeccompProgram& seccomp);

}  // namespace integr8scode
