#include "sandbox/launcher.hpp"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "common/try.hpp"
#include "sandbox/init_process.hpp"

namespace integr8scode {

Result<LaunchedSandbox> LaunchSandbox(const LaunchSpec& spec, const LaunchFds& fds,
                                      const SeccompProgram& seccomp) {
  int pidfd = -1;
  clone_args args;
  std::memset(&args, 0, sizeof args);
  // clone3 rather than fork + unshare: the child is PID 1 of its namespace at once,
  // and CLONE_PIDFD gives a race-free handle to it.
  args.flags = CLONE_PIDFD | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
  // A network namespace made ahead of time is joined by the init (setns); without one,
  // the clone makes it.
  if (fds.netns < 0) args.flags |= CLONE_NEWNET;
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  if (fds.cgroup_dir >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<std::uint64_t>(fds.cgroup_dir);
  }
  const long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) return Fail(SystemError("clone3 (sandbox namespaces)"));
  if (pid == 0) RunSandboxInit(spec, fds, seccomp);
  LaunchedSandbox launched;
  launched.pid = static_cast<pid_t>(pid);
  launched.pidfd.Reset(pidfd);
  return launched;
}

DirectLauncher::DirectLauncher(SeccompProgram seccomp) : seccomp_(std::move(seccomp)) {
  // Made while the caller prepares the run (the CLI reads its inputs meanwhile).
  netns_.Prepare();
}

Result<Child> DirectLauncher::Launch(const LaunchSpec& spec, const LaunchFds& fds) {
  // Take() joins the helper thread: the clone below must copy a single-threaded process.
  auto netns = netns_.Take();
  if (!netns) return Fail(std::move(netns.error()).WithContext("network namespace"));
  LaunchFds with_netns = fds;
  with_netns.netns = netns->Get();
  auto launched = I8C_TRY_VALUE(LaunchSandbox(spec, with_netns, seccomp_));
  return Child::FromPidfd(launched.pid, std::move(launched.pidfd), Child::Parent::kThisProcess);
}

}  // namespace integr8scode
