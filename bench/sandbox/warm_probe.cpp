// PROTOTYPE, not wired into the sandbox (issue 10, docs/warm-starts.md): measures what a
// pre-initialised CPython 3.11 (libpython embedded) saves against a cold
// `python3.11 -I -u script`, in the two shapes the design note weighs, interleaved in one
// run so that a shared machine's drift hits all of them:
//   bare   posix_spawn of /usr/bin/python3.11 -I -u script (what a cold run execs)
//   ahead  integr8scode-python-zygote: one per run, exec'd and initialised ahead (its own
//          hash secret and ASLR); from the go to the exit, CPU split at the go
//   fork   one initialised zygote, a fork per run (PyOS_BeforeFork/AfterFork_Child)
// then shows the hash-secret pitfall: hash("abc") per run in each shape, and what
// overwriting _Py_HashSecret after the fork does. Prints figures; never fails on them.
// Usage: integr8scode-warm-probe [runs=100]
#include <Python.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "probe_figures.hpp"
#include "sandbox/pypy_bootstrap.hpp"
#include "sandbox/zygote_protocol.hpp"

extern char** environ;

namespace {

using integr8scode::bench::Clock;
using integr8scode::bench::Percentile;
using integr8scode::bench::ReapInto;
using integr8scode::bench::Series;

constexpr const char* kPython = "/usr/bin/python3.11";
constexpr const char* kPypy = "/usr/bin/pypy3.9";

// The interpreter initialised exactly as `python3.11 -I -u script` initialises it: the
// same argv parsed by the same code, so Py_RunMain later runs the script as the
// executable's main() would (sys.argv, sys.path[0], __main__, SystemExit, tracebacks).
void InitialiseLikeTheExecutable(const char* script) {
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  char* argv[] = {const_cast<char*>(kPython), const_cast<char*>("-I"), const_cast<char*>("-u"),
                  const_cast<char*>(script), nullptr};
  PyStatus status = PyConfig_SetBytesArgv(&config, 4, argv);
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) Py_ExitStatusException(status);
}

// Runs `interpreter -I -u script` with stdout to `out_fd` (or /dev/null) and measures it.
bool RunBare(const char* script, Series& series, int out_fd = -1,
             const char* interpreter = kPython) {
  const char* argv[] = {interpreter, "-I", "-u", script, nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (out_fd >= 0)
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  else
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  const auto start = Clock::now();
  pid_t pid = 0;
  const int rc =
      ::posix_spawn(&pid, argv[0], &actions, nullptr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 && ReapInto(pid, start, series);
}

// The zygote's argv for `script`: the shipped integr8scode-python-zygote, or PyPy's
// (the interpreter with the bootstrap, as the executor starts it).
std::vector<const char*> ZygoteArgv(const char* script, bool pypy) {
  if (pypy) return {kPypy, "-I", "-u", "-c", integr8scode::kPypyZygoteBootstrap, script, nullptr};
  return {INTEGR8SCODE_PYTHON_ZYGOTE, "3", kPython, "-I", "-u", script, nullptr};
}

// Resident memory of a waiting process (kB): total, anonymous, file pages.
std::string Resident(pid_t pid) {
  std::string status;
  if (FILE* file = std::fopen(fmt::format("/proc/{}/status", pid).c_str(), "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, file) != nullptr) {
      const std::string text = line;
      if (text.starts_with("VmRSS") || text.starts_with("RssAnon") || text.starts_with("RssFile"))
        status += text.substr(0, text.size() - 1) + "  ";
    }
    std::fclose(file);
  }
  return status;
}

// A zygote, started with placeholder stdio, measured from the go; its CPU split into
// before and after the go. With `resident`: what it holds while it waits.
bool RunAhead(const char* script, Series& series, int out_fd = -1, bool pypy = false,
              std::string* resident = nullptr) {
  int pair[2];
  int placeholder[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return false;
  if (::pipe2(placeholder, O_CLOEXEC) != 0) return false;
  const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int null_out = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, null_in, 0);
  posix_spawn_file_actions_adddup2(&actions, placeholder[1], 1);
  posix_spawn_file_actions_adddup2(&actions, placeholder[1], 2);
  posix_spawn_file_actions_adddup2(&actions, pair[1], 3);
  const std::vector<const char*> argv = ZygoteArgv(script, pypy);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr,
                               const_cast<char* const*>(argv.data()), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pair[1]);
  ::close(placeholder[0]);
  ::close(placeholder[1]);
  bool ok = rc == 0;
  integr8scode::ZygoteReady ready;
  ok = ok && ::recv(pair[0], &ready, sizeof ready, 0) >=
                 static_cast<ssize_t>(integr8scode::kZygoteReadyMinimum);
  if (ok && resident != nullptr) *resident = Resident(pid);
  const auto start = Clock::now();
  const int fds[3] = {null_in, out_fd >= 0 ? out_fd : null_out, null_out};
  ok = ok && integr8scode::SendZygoteGo(pair[0], fds);
  ::close(pair[0]);
  ::close(null_in);
  ::close(null_out);
  if (rc != 0) return false;
  if (!ok) {
    ::waitpid(pid, nullptr, 0);
    return false;
  }
  const double cpu_ahead = static_cast<double>(ready.cpu_us) / 1e3;
  series.cpu_ahead.push_back(cpu_ahead);
  return ReapInto(pid, start, series, cpu_ahead);
}

bool RunForked(Series& series, int out_fd = -1) {
  const auto start = Clock::now();
  PyOS_BeforeFork();
  const pid_t pid = ::fork();
  if (pid == 0) {
    PyOS_AfterFork_Child();
    const int target = out_fd >= 0 ? out_fd : ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ::dup2(target, 1);
    ::_exit(Py_RunMain());
  }
  PyOS_AfterFork_Parent();
  return pid >= 0 && ReapInto(pid, start, series);
}

std::string ReadAll(int fd) {
  std::string text;
  char buffer[256];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, n);
  return text;
}

// Runs `run` three times with stdout into a pipe; returns the three outputs.
template <class Run>
std::string ThreeOutputs(Run run) {
  std::string all;
  for (int i = 0; i < 3; ++i) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return "pipe failed";
    const bool ok = run(out[1]);
    ::close(out[1]);
    std::string text = ReadAll(out[0]);
    ::close(out[0]);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (const auto last = text.rfind('\n'); last != std::string::npos) text.erase(0, last + 1);
    all += (ok ? text : "exit≠0 " + text) + (i < 2 ? " | " : "");
  }
  return all;
}

void Print(const char* name, const Series& series, double bare_median) {
  const double median = Percentile(series.wall, 0.5);
  fmt::print("{:<34} {:>8.2f} {:>8.2f} {:>7.2f}x {:>10.2f}", name, median,
             Percentile(series.wall, 0.9), median / bare_median, Percentile(series.cpu, 0.5));
  if (!series.cpu_ahead.empty())
    fmt::print("   (+{:.2f} ms CPU ahead)", Percentile(series.cpu_ahead, 0.5));
  fmt::print("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 100;

  char work[] = "/tmp/warm-probe-XXXXXX";
  if (::mkdtemp(work) == nullptr) return 1;
  const std::string hi = std::string(work) + "/hi.py";
  const std::string hash = std::string(work) + "/hash.py";
  const std::string imports = std::string(work) + "/imports.py";
  const auto write_file = [](const std::string& path, const char* text) {
    FILE* file = std::fopen(path.c_str(), "w");
    std::fputs(text, file);
    std::fclose(file);
  };
  write_file(hi, "print('hi')\n");
  write_file(hash, "print(hash('abc'))\n");
  write_file(imports, "import json, re, collections\nprint('hi')\n");

  // The forking zygote is this process: initialised once, on hi.py.
  InitialiseLikeTheExecutable(hi.c_str());

  Series bare;
  Series ahead;
  Series forked;
  for (int i = 0; i < runs; ++i) {
    RunBare(hi.c_str(), bare);
    RunAhead(hi.c_str(), ahead);
    RunForked(forked);
  }
  Series bare_imports;
  Series ahead_imports;
  for (int i = 0; i < runs; ++i) {
    RunBare(imports.c_str(), bare_imports);
    RunAhead(imports.c_str(), ahead_imports);
  }
  const double base = Percentile(bare.wall, 0.5);
  fmt::print("print('hi'), {} runs each, interleaved        median      p90   ratio  CPU median\n",
             runs);
  Print("bare python3.11 -I -u", bare, base);
  Print("ahead: zygote per run, from the go", ahead, base);
  Print("fork: one zygote, a fork per run", forked, base);
  const double base_imports = Percentile(bare_imports.wall, 0.5);
  fmt::print("import json, re, collections\n");
  Print("bare python3.11 -I -u", bare_imports, base_imports);
  Print("ahead: zygote per run, from the go", ahead_imports, base_imports);

  if (::access(kPypy, X_OK) == 0) {
    Series bare_pypy;
    Series ahead_pypy;
    std::string resident;
    for (int i = 0; i < runs; ++i) {
      RunBare(hi.c_str(), bare_pypy, -1, kPypy);
      RunAhead(hi.c_str(), ahead_pypy, -1, true, &resident);
    }
    const double base_pypy = Percentile(bare_pypy.wall, 0.5);
    fmt::print("print('hi') on PyPy 3.9, interleaved\n");
    Print("bare pypy3.9 -I -u", bare_pypy, base_pypy);
    Print("ahead: bootstrap zygote, from the go", ahead_pypy, base_pypy);
    fmt::print("  a waiting PyPy zygote: {}\n", resident);
    RunAhead(hi.c_str(), ahead, -1, false, &resident);
    fmt::print("  a waiting CPython zygote: {}\n", resident);
  }

  fmt::print("\nhash('abc'), three runs each:\n");
  fmt::print("  bare      {}\n", ThreeOutputs([&](int fd) {
               Series s;
               return RunBare(hash.c_str(), s, fd);
             }));
  fmt::print("  ahead     {}\n", ThreeOutputs([&](int fd) {
               Series s;
               return RunAhead(hash.c_str(), s, fd);
             }));
  // The forks share this process's secret (initialised once, above).
  fmt::print("  fork      {}\n", ThreeOutputs([&](int fd) {
               PyOS_BeforeFork();
               const pid_t pid = ::fork();
               if (pid == 0) {
                 PyOS_AfterFork_Child();
                 ::dup2(fd, 1);
                 ::_exit(PyRun_SimpleString("print(hash('abc'))"));
               }
               PyOS_AfterFork_Parent();
               int status = 0;
               ::waitpid(pid, &status, 0);
               return status == 0;
             }));
  fmt::print("  fork + _Py_HashSecret overwritten in the child: {}\n", ThreeOutputs([&](int fd) {
               PyOS_BeforeFork();
               const pid_t pid = ::fork();
               if (pid == 0) {
                 PyOS_AfterFork_Child();
                 ::dup2(fd, 1);
                 ::dup2(fd, 2);
                 if (::getrandom(&_Py_HashSecret, sizeof _Py_HashSecret, 0) < 0) ::_exit(122);
                 ::_exit(PyRun_SimpleString("print(hash('abc'))\nprint({'a': 1}['a'])"));
               }
               PyOS_AfterFork_Parent();
               int status = 0;
               ::waitpid(pid, &status, 0);
               return status == 0;
             }));
  std::remove(hi.c_str());
  std::remove(hash.c_str());
  std::remove(imports.c_str());
  ::rmdir(work);
  return 0;
}
