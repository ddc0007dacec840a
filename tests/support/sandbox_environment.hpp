// A sandboxed run's environment (LocalExecutor's BaseEnvironment, with HOME at /tmp), for
// what starts an interpreter outside the sandbox as a run would be started: the Node.js
// zygote's conformance test and its probe. The same for cold and warm, and none of what
// Node reads at start from a developer's shell (NODE_EXTRA_CA_CERTS alone added ~50 ms of
// CPU to a start).
#pragma once

namespace integr8scode::testing {

inline char* const* SandboxEnvironment() {
  static char* environment[] = {const_cast<char*>("PATH=/usr/local/bin:/usr/bin:/bin"),
                                const_cast<char*>("HOME=/tmp"),
                                const_cast<char*>("USER=sandbox"),
                                const_cast<char*>("LOGNAME=sandbox"),
                                const_cast<char*>("LANG=C.UTF-8"),
                                const_cast<char*>("TMPDIR=/tmp"),
                                nullptr};
  return environment;
}

}  // namespace integr8scode::testing
