// integr8scode-python-zygote: a CPython 3.11 started ahead of its run (docs/warm-starts.md).
// A sandbox built ahead starts it as the step's program (init_process.cpp, sandbox.warm);
// tests/integration/warm_conformance_test.cpp holds it to a cold `python3.11` outside the
// sandbox, warm_sandbox_test.cpp and the hostile suite (hostile_warm) inside it. The
// service finds it beside its own executable (installed there, and built there).
//
//   integr8scode-python-zygote <control fd> [--preload=a,b.c] <interpreter> <argument>...
//
// initialises the interpreter exactly as `<interpreter> <argument>...` would (the same
// argv, parsed by the same code in libpython), imports the preloaded modules if asked
// (sandbox.warm_preload), reports ready on the control socket (ZygoteReady: the CPU it
// spent, the modules it could not import), then waits. The go is one message carrying the run's
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

// Imports each module of `list` (comma-separated) as `import name` would. One that fails
// (missing, or raising while imported) is left out as if never asked for: its exception
// is cleared and whatever the attempt added to sys.modules is removed again, so the run
// sees the state a cold start plus the other modules would have. Returns bit i set for
// the i-th name that failed.
std::uint64_t Preload(const char* list) {
  std::uint64_t missing = 0;
  PyObject* modules = PyImport_GetModuleDict();  // borrowed
  int index = 0;
  for (const char* name = list; *name != '\0' && index < 64; ++index) {
    const char* comma = std::strchr(name, ',');
    const std::size_t length =
        comma != nullptr ? static_cast<std::size_t>(comma - name) : std::strlen(name);
    PyObject* text = PyUnicode_FromStringAndSize(name, static_cast<Py_ssize_t>(length));
    PyObject* before = PyDict_Keys(modules);
    PyObject* module = text != nullptr && before != nullptr ? PyImport_Import(text) : nullptr;
    if (module == nullptr) {
      missing |= std::uint64_t{1} << index;
      PyErr_Clear();
      PyObject* known = before != nullptr ? PySet_New(before) : nullptr;
      PyObject* after = PyDict_Keys(modules);
      for (Py_ssize_t i = 0; known != nullptr && after != nullptr && i < PyList_GET_SIZE(after);
           ++i) {
        PyObject* key = PyList_GET_ITEM(after, i);
        if (PySet_Contains(known, key) == 0 && PyDict_DelItem(modules, key) != 0) PyErr_Clear();
      }
      Py_XDECREF(after);
      Py_XDECREF(known);
      PyErr_Clear();
    }
    Py_XDECREF(module);
    Py_XDECREF(before);
    Py_XDECREF(text);
    if (comma == nullptr) break;
    name = comma + 1;
  }
  return missing;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return kExitUsage;
  char* end = nullptr;
  const long control = std::strtol(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || control < 3) return kExitUsage;
  int first = 2;  // the interpreter's argv[0]
  const char* preload = nullptr;
  constexpr char kPreload[] = "--preload=";
  if (std::strncmp(argv[first], kPreload, sizeof kPreload - 1) == 0) {
    preload = argv[first] + sizeof kPreload - 1;
    if (++first == argc) return kExitUsage;
  }

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  PyStatus status = PyConfig_SetBytesArgv(&config, argc - first, argv + first);
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) Py_ExitStatusException(status);
  // Before Py_RunMain, which is where sys.path[0] (the script's directory, unless -I/-P)
  // is inserted: a preloaded name never resolves to a file of the run's.
  const std::uint64_t missing = preload != nullptr ? Preload(preload) : 0;

  const integr8scode::ZygoteReady ready{CpuMicros(), missing};
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
