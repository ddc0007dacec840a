// integr8scode-python-zygote: a CPython 3.11 started ahead of its run (docs/warm-starts.md).
// A sandbox built ahead starts it as the step's program (init_process.cpp, sandbox.warm);
// tests/integration/warm_conformance_test.cpp holds it to a cold `python3.11` outside the
// sandbox, warm_sandbox_test.cpp and the hostile suite (hostile_warm) inside it. The
// service finds it beside its own executable (installed there, and built there).
//
//   integr8scode-python-zygote <control fd> <interpreter> <argument>...
//
// initialises the interpreter exactly as `<interpreter> <argument>...` would (the same
// argv, parsed by the same code in libpython), reports ready on the control socket
// (ZygoteReady: the CPU it spent), then waits. The go is one message carrying the run's
// stdin, stdout and stderr (SCM_RIGHTS, zygote_protocol.hpp); they replace the placeholders on 0–2
// and Py_RunMain runs the program as the executable's main() would: sys.argv, sys.path[0],
// __main__, SystemExit, the traceback, atexit, the exit status. A hang-up instead of a
// go ends the zygote with status 0 and nothing run.
//
// One zygote serves one run and is never forked: every run has its own hash secret and
// its own address-space layout (a forked interpreter shares both; the hash secret cannot
// be replaced once a single str has cached its hash — measured in the design note).
// Linked like Debian's python3.11 (libpython3.11.a, not PIE), so that it starts as fast.
#include <Python.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "sandbox/zygote_protocol.hpp"

namespace {

constexpr int kExitUsage = 120;
constexpr int kExitControl = 121;

std::int64_t CpuMicros() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1'000'000LL + usage.ru_utime.tv_usec +
         usage.ru_stime.tv_usec;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return kExitUsage;
  char* end = nullptr;
  const long control = std::strtol(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || control < 3) return kExitUsage;

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  PyStatus status = PyConfig_SetBytesArgv(&config, argc - 2, argv + 2);
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) Py_ExitStatusException(status);

  const integr8scode::ZygoteReady ready{CpuMicros()};
  if (::send(static_cast<int>(control), &ready, sizeof ready, MSG_NOSIGNAL) != sizeof ready)
    return kExitControl;
  int fds[3] = {-1, -1, -1};
  integr8scode::ZygoteGo go;
  if (!integr8scode::ReceiveZygoteGo(static_cast<int>(control), fds, go))
    ::_exit(0);  // no run came
  if (integr8scode::ApplyZygoteGoLimits(go) != 0) return kExitControl;
  // sys.stdin/stdout/stderr wrap the numbers 0–2, not the placeholders' files: the
  // placeholders are of the run's kinds (pipes; stdin a memfd or /dev/null), so what
  // the io module decided from them at start-up (not a tty, block size) holds.
  for (int target = 0; target < 3; ++target) {
    if (::dup2(fds[target], target) < 0) return kExitControl;
  }
  for (const int fd : fds) {
    if (fd > 2) ::close(fd);
  }
  ::close(static_cast<int>(control));
  return Py_RunMain();
}
