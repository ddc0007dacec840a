#pragma once

#include <string>
#include <vector>

#include "sandbox/launch_spec.hpp"

namespace integr8scode {

// sandbox.isolation = "gvisor": each step's program runs under gVisor's runsc instead
// of straight on the host kernel. The sandbox around it stays as it is (namespaces,
// the slot's cgroup, the read-only root, the scratch tmpfs, the pipes): runsc is the
// step's process, so the supervisor, the output capture, the accounting and the
// verdicts are the native path's. What changes is what the program talks to: gVisor's
// Sentry, a kernel in user space, instead of Linux (docs/sandbox.md, "gVisor").

// Where the step keeps the OCI bundle (config.json) and runsc's state, inside its own
// mount namespace; hidden from the program by an empty tmpfs in the bundle.
inline constexpr const char* kGvisorDir = "/.gvisor";
inline constexpr const char* kGvisorConfigPath = "/.gvisor/config.json";

// What the host's cgroup must allow on top of the program's own processes: runsc's
// three Go processes (run, gofer, sandbox) and their threads, and the ptrace
// platform's stub processes (measured in docs/benchmarks.md).
inline constexpr std::uint32_t kGvisorPidsOverhead = 128;

// The OCI runtime spec of one step: the program's argv, environment, identity and
// rlimits; the sandbox's own root read-only, its scratch tmpfs writable at
// /home/sandbox and /tmp, gVisor's own /proc; no capabilities; hostname "sandbox".
std::string GvisorConfigJson(const LaunchSpec& spec, const StepSpec& step);

// runsc's command line for one step (`runsc <flags> run --bundle … <id>`).
std::vector<std::string> GvisorArgv(const LaunchSpec& spec);

// runsc reports a program killed by signal N as exit status 128 + N, as a shell does
// (and so does a Sentry the host killed, e.g. at the memory limit). Read back as the
// signal, so the verdict rules see what they see natively; an exit(137) of the
// program's own is indistinguishable and reads as SIGKILL too.
int GvisorWaitStatus(int runsc_status);

// In the step's process, between clone and exec (no allocation): a mount namespace of
// its own where the root is writable, with the bundle directory and `config` written
// to kGvisorConfigPath. Returns 0 or an errno.
int PrepareGvisorBundle(const std::string& config);

}  // namespace integr8scode
