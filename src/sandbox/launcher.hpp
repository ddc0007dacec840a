#pragma once

#include <sys/types.h>

#include "common/child.hpp"
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
  // The sandbox init, owned: dropping it kills the sandbox (and reaps the init when this
  // process is its parent; the spawner reaps the ones it cloned).
  virtual Result<Child> Launch(const LaunchSpec& spec, const LaunchFds& fds) = 0;
};

// Clones from this process, which must be small and single-threaded at the moment of
// the clone (the CLI). Makes the run's network namespace ahead on a helper thread.
class DirectLauncher final : public SandboxLauncher {
 public:
  explicit DirectLauncher(SeccompProgram seccomp);
  Result<Child> Launch(const LaunchSpec& spec, const LaunchFds& fds) override;

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
