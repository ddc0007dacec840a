#pragma once

#include "sandbox/launch_spec.hpp"
#include "sandbox/seccomp_policy.hpp"

namespace integr8scode {

// The sandbox's first process (PID 1 of its PID namespace), in its new namespaces:
// joins the slot's cgroups, builds the filesystem, reports Ready, then runs the steps
// one after the other as the unprivileged user (each when the supervisor says so),
// reaps every process, and after each step kills whatever the
// step left behind. When it exits, the kernel kills everything left in the namespace.
// Never returns.
[[noreturn]] void RunSandboxInit(const LaunchSpec& spec, const LaunchFds& fds,
                                 const SeccompProgram& seccomp);

}  // namespace integr8scode
