// Warm-start conformance, outside the sandbox (docs/warm-starts.md): every sample runs
// through a cold `/usr/bin/python3.11 -I -u script.py` and through
// integr8scode-python-zygote (initialised ahead with placeholder descriptors, then
// handed the run's stdin, stdout and stderr), in the same directory with the same
// environment; stdout, stderr and the wait status must be identical. The same for PyPy
// 3.9: a cold `/usr/bin/pypy3.9 -I -u script.py` against the interpreter started with
// the bootstrap (pypy_bootstrap.hpp). These hold each zygote to its executable; the
// sandbox's use of them is warm_sandbox_test.cpp's and warm_pypy_sandbox_test.cpp's.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/pypy_bootstrap.hpp"
#include "sandbox/zygote_protocol.hpp"
#include "zygote_conformance_support.hpp"

extern char** environ;

namespace integr8scode::testing {
namespace {

using Directory = ScratchDirectory;

constexpr const char* kPython = "/usr/bin/python3.11";
constexpr const char* kPypy = "/usr/bin/pypy3.9";

// A cold run's argv and its zygote's (started in the sample's directory).
struct Interpreter {
  std::vector<std::string> cold;
  std::vector<std::string> zygote;
};

const Interpreter& Cpython() {
  static const Interpreter cpython{
      {kPython, "-I", "-u", "script.py"},
      {INTEGR8SCODE_PYTHON_ZYGOTE, "3", kPython, "-I", "-u", "script.py"}};
  return cpython;
}

// PyPy's zygote is the interpreter itself with the bootstrap (pypy_bootstrap.hpp), as
// the executor starts it.
const Interpreter& Pypy() {
  static const Interpreter pypy{
      {kPypy, "-I", "-u", "script.py"},
      {kPypy, "-I", "-u", "-c", integr8scode::kPypyZygoteBootstrap, "script.py"}};
  return pypy;
}

Outcome RunCold(const Directory& dir, const std::string& stdin_path, bool merged,
                const Interpreter& interpreter = Cpython()) {
  return RunColdProcess(interpreter.cold, dir.path(), stdin_path, merged, environ);
}

// Starts a zygote of `interpreter` on script.py with placeholders of the run's kinds on
// 0–2 (and, for CPython's, `--preload=<preload>` when not empty) and waits for its ready
// report.
Zygote StartInterpreterZygote(const Directory& dir, const Interpreter& interpreter,
                              const std::string& preload) {
  std::vector<std::string> args = interpreter.zygote;
  if (!preload.empty()) args.insert(args.begin() + 2, "--preload=" + preload);
  return StartZygoteProcess(args, dir.path(), 3, environ);
}

// `preload`: the zygote's --preload list; `missing`, when given, receives the ready
// report's mask of the modules it could not import.
Outcome RunWarm(const Directory& dir, const std::string& stdin_path, bool merged,
                const Interpreter& interpreter = Cpython(), const std::string& preload = "",
                std::uint64_t* missing = nullptr) {
  Zygote zygote = StartInterpreterZygote(dir, interpreter, preload);
  if (missing != nullptr) *missing = zygote.ready.preload_missing;
  return Go(std::move(zygote), stdin_path, merged);
}

struct Sample {
  const char* name;
  const char* source;
  const char* stdin_text = "";
  bool merged = false;  // stdout and stderr into one pipe: their interleaving
};

void PrintTo(const Sample& sample, std::ostream* os) { *os << sample.name; }

class WarmConformance : public ::testing::TestWithParam<Sample> {};

// Runs `sample` cold and warm on `interpreter`: identical stdout, stderr and wait status.
void ExpectWarmAsCold(const Sample& sample, const Interpreter& interpreter) {
  Directory dir;
  ASSERT_FALSE(dir.path().empty());
  dir.Write("script.py", sample.source);
  const std::string stdin_path = dir.Write("stdin.txt", sample.stdin_text);
  const Outcome cold = RunCold(dir, stdin_path, sample.merged, interpreter);
  const Outcome warm = RunWarm(dir, stdin_path, sample.merged, interpreter);
  ExpectSameAsCold(warm, cold);
}

TEST_P(WarmConformance, BehavesAsColdStart) { ExpectWarmAsCold(GetParam(), Cpython()); }

const Sample kSamples[] = {
    {"Identity",
     "import os, sys\n"
     "print(__name__, sys.argv, __file__, sys.path, os.getcwd())\n"
     "print(sys.executable, sys.prefix, sys.flags, sys.orig_argv)\n"
     "print(sorted(sys.modules))\n"
     "print(sys.builtin_module_names)\n"
     "import pyexpat, zlib, _ssl, _ctypes, _sqlite3, readline\n"
     "print(zlib.ZLIB_RUNTIME_VERSION, pyexpat.EXPAT_VERSION, _ssl.OPENSSL_VERSION)\n"
     "print(sys.stdin.encoding, sys.stdout.encoding, sys.stdout.line_buffering,\n"
     "      sys.stdout.write_through, type(sys.stdout.buffer).__name__, sys.stdin.isatty())\n"
     "print(sorted(os.environ), os.getpid() > 1, os.umask(0o22))\n"},
    {"SignalDispositions",
     "import signal\n"
     "for s in sorted(signal.valid_signals()):\n"
     "    print(int(s), signal.getsignal(s))\n"
     "print(signal.pthread_sigmask(signal.SIG_BLOCK, []))\n"},
    {"UnbufferedInterleaving",
     "import sys\n"
     "for i in range(200):\n"
     "    print('out', i)\n"
     "    print('err', i, file=sys.stderr)\n"
     "sys.stdout.write('no newline at the end')\n",
     "", true},
    {"Stdin",
     "import sys\n"
     "first = input()\n"
     "rest = sys.stdin.read()\n"
     "print(repr(first), len(rest), rest.splitlines()[-1])\n",
     "line one\nsecond\nthird ✓\n"},
    {"StdinEmpty", "import sys\nprint(repr(sys.stdin.read()))\ninput()\n"},
    {"ExitCode", "import sys\nprint('before')\nsys.exit(3)\n"},
    {"SystemExitMessage", "raise SystemExit('bye: a message')\n"},
    {"UncaughtTraceback",
     "def inner(x):\n"
     "    return 1 / x\n"
     "\n"
     "def outer():\n"
     "    return inner(0)\n"
     "\n"
     "print('running')\n"
     "outer()\n"},
    {"SyntaxError", "print('never')\ndef f(:\n    pass\n"},
    {"IndentationError", "if True:\nprint('x')\n"},
    {"AtexitAndFinally",
     "import atexit, sys\n"
     "atexit.register(lambda: print('atexit 1'))\n"
     "atexit.register(lambda: print('atexit 2', file=sys.stderr))\n"
     "try:\n"
     "    sys.exit(5)\n"
     "finally:\n"
     "    print('finally')\n"},
    {"Threads",
     "import threading\n"
     "results = [0] * 8\n"
     "def work(i):\n"
     "    results[i] = sum(range(i * 10000))\n"
     "threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]\n"
     "for t in threads: t.start()\n"
     "for t in threads: t.join()\n"
     "print(results, threading.active_count())\n"},
    {"Subprocess",
     "import subprocess, sys\n"
     "r = subprocess.run([sys.executable, '-I', '-c', 'import sys; print(sys.argv)'],\n"
     "                   capture_output=True, text=True)\n"
     "print(r.returncode, r.stdout.strip())\n"},
    {"Multiprocessing",
     "import multiprocessing\n"
     "def square(x):\n"
     "    return x * x\n"
     "if __name__ == '__main__':\n"
     "    with multiprocessing.Pool(2) as pool:\n"
     "        print(pool.map(square, range(10)))\n"},
    {"KilledBySignal",
     "import os, signal\nprint('x', flush=True)\nos.kill(os.getpid(), signal.SIGTERM)\n"},
    {"KeyboardInterrupt",
     "import os, signal\nos.kill(os.getpid(), signal.SIGINT)\nimport time\ntime.sleep(5)\n"},
    {"Warnings", "import warnings\nwarnings.warn('careful')\nprint('after')\n"},
    {"Unicode", "import sys\nprint('héllo ✓ 日本', sys.getfilesystemencoding())\n"},
    {"OwnSource", "print(open(__file__).read().count('\\n'))\n"},
    {"Recursion", "def f(n):\n    return f(n + 1)\nf(0)\n"},
};

INSTANTIATE_TEST_SUITE_P(Samples, WarmConformance, ::testing::ValuesIn(kSamples),
                         [](const auto& sample) { return std::string(sample.param.name); });

// Preloaded modules (sandbox.warm_preload): the zygote imports them before the go.

constexpr const char* kPreload = "json,re,collections";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  while (begin < text.size()) {
    const std::size_t end = text.find('\n', begin);
    lines.push_back(text.substr(begin, end == std::string::npos ? end : end - begin));
    begin = end == std::string::npos ? text.size() : end + 1;
  }
  return lines;
}

// The names of a printed `sorted(sys.modules)` ("['a', 'b']"); nothing for another line.
std::optional<std::set<std::string>> ModuleList(const std::string& line) {
  if (line.size() < 2 || line.front() != '[' || line.back() != ']') return std::nullopt;
  std::set<std::string> names;
  std::string_view rest = std::string_view(line).substr(1, line.size() - 2);
  while (!rest.empty()) {
    const std::size_t close = rest.find('\'', 1);
    if (rest.front() != '\'' || close == std::string_view::npos) return std::nullopt;
    names.emplace(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (rest.starts_with(", ")) {
      rest.remove_prefix(2);
    } else if (!rest.empty()) {
      return std::nullopt;
    }
  }
  return names;
}

// What `import <names>` adds to the sys.modules of a cold start's first line.
std::set<std::string> AddedByImport(const std::string& names) {
  Directory dir;
  dir.Write("script.py", "import sys\nbefore = set(sys.modules)\nimport " + names +
                             "\nprint(sorted(set(sys.modules) - before))\n");
  const Outcome cold = RunCold(dir, dir.Write("stdin.txt", ""), false);
  EXPECT_EQ(cold.wait_status, 0) << cold.err;
  const auto added = ModuleList(cold.out.substr(0, cold.out.find('\n')));
  EXPECT_TRUE(added.has_value()) << cold.out;
  return added.value_or(std::set<std::string>{});
}

class WarmPreloadConformance : public ::testing::TestWithParam<Sample> {};

// With json, re and collections preloaded, every sample behaves as cold but for one
// thing: sys.modules holds what importing them adds, before the program's first line.
// The other lines, stderr and the wait status are identical.
TEST_P(WarmPreloadConformance, DiffersFromColdOnlyInThePreloadedModules) {
  const Sample& sample = GetParam();
  static const std::set<std::string> added = AddedByImport("json, re, collections");
  Directory dir;
  ASSERT_FALSE(dir.path().empty());
  dir.Write("script.py", sample.source);
  const std::string stdin_path = dir.Write("stdin.txt", sample.stdin_text);
  const Outcome cold = RunCold(dir, stdin_path, sample.merged);
  std::uint64_t missing = ~std::uint64_t{0};
  const Outcome warm = RunWarm(dir, stdin_path, sample.merged, Cpython(), kPreload, &missing);
  EXPECT_EQ(missing, 0U);
  EXPECT_EQ(warm.err, cold.err);
  EXPECT_EQ(warm.wait_status, cold.wait_status);
  const std::vector<std::string> warm_lines = Lines(warm.out);
  const std::vector<std::string> cold_lines = Lines(cold.out);
  ASSERT_EQ(warm_lines.size(), cold_lines.size()) << warm.out << "\n---\n" << cold.out;
  int module_lines = 0;
  for (std::size_t i = 0; i < warm_lines.size(); ++i) {
    if (warm_lines[i] == cold_lines[i]) continue;
    const auto warm_modules = ModuleList(warm_lines[i]);
    const auto cold_modules = ModuleList(cold_lines[i]);
    ASSERT_TRUE(warm_modules && cold_modules) << "line " << i << " differs:\n"
                                              << warm_lines[i] << "\n"
                                              << cold_lines[i];
    std::set<std::string> expected = *cold_modules;
    expected.insert(added.begin(), added.end());
    EXPECT_EQ(*warm_modules, expected);
    ++module_lines;
  }
  // The sample that prints sys.modules shows the preload; no other sample shows anything.
  EXPECT_EQ(module_lines, std::string_view(sample.name) == "Identity" ? 1 : 0);
}

INSTANTIATE_TEST_SUITE_P(Samples, WarmPreloadConformance, ::testing::ValuesIn(kSamples),
                         [](const auto& sample) { return std::string(sample.param.name); });

TEST(WarmPreload, TheModulesAreImportedBeforeTheFirstLine) {
  Directory dir;
  dir.Write("script.py",
            "import sys\n"
            "print(sorted(m for m in ('json', 'json.decoder', 'xml', 'xml.etree.ElementTree')\n"
            "             if m in sys.modules))\n");
  const std::string stdin_path = dir.Write("stdin.txt", "");
  std::uint64_t missing = ~std::uint64_t{0};
  const Outcome warm =
      RunWarm(dir, stdin_path, false, Cpython(), "json,xml.etree.ElementTree", &missing);
  EXPECT_EQ(missing, 0U);
  EXPECT_EQ(warm.out, "['json', 'json.decoder', 'xml', 'xml.etree.ElementTree']\n") << warm.err;
  EXPECT_EQ(RunCold(dir, stdin_path, false).out, "[]\n");
  EXPECT_FALSE(AddedByImport("json").empty());  // the conformance samples compare something
}

// `random` seeds itself from os.urandom when imported: preloaded, that happens in each
// run's own zygote, so two warm runs still draw different numbers.
TEST(WarmPreload, RandomIsSeededAnewForEveryRun) {
  Directory dir;
  dir.Write("script.py", "import random\nprint(random.random(), random.getrandbits(64))\n");
  const std::string stdin_path = dir.Write("stdin.txt", "");
  const Outcome first = RunWarm(dir, stdin_path, false, Cpython(), "random");
  const Outcome second = RunWarm(dir, stdin_path, false, Cpython(), "random");
  ASSERT_FALSE(first.out.empty()) << first.err;
  ASSERT_FALSE(second.out.empty()) << second.err;
  EXPECT_NE(first.out, second.out);
}

// A module that cannot be imported is left out, and so is whatever the failed attempt
// imported (`dbm.gnu` without _gdbm leaves `dbm` behind in a plain interpreter): the run
// goes on, and sees exactly a cold start plus the modules that could be imported.
TEST(WarmPreload, AModuleThatCannotBeImportedIsLeftOut) {
  Directory dir;
  dir.Write("script.py",
            "import sys\n"
            "try:\n"
            "    import dbm.gnu\n"
            "    print('dbm.gnu importable')\n"
            "except ImportError:\n"
            "    print('dbm.gnu missing')\n");
  const std::string stdin_path = dir.Write("stdin.txt", "");
  const bool gnu_missing = RunCold(dir, stdin_path, false).out == "dbm.gnu missing\n";
  dir.Write("script.py", "import sys\nprint(sorted(sys.modules))\nprint('ran')\n");
  const Outcome cold = RunCold(dir, stdin_path, false);
  std::uint64_t missing = 0;
  const Outcome warm = RunWarm(dir, stdin_path, false, Cpython(),
                               "no_such_module_i8c,json,dbm.gnu,os.no_such", &missing);
  EXPECT_EQ(missing, gnu_missing ? 0b1101U : 0b1001U);
  EXPECT_EQ(warm.wait_status, 0) << warm.err;
  EXPECT_EQ(warm.err, "");
  const std::vector<std::string> warm_lines = Lines(warm.out);
  const std::vector<std::string> cold_lines = Lines(cold.out);
  ASSERT_EQ(warm_lines.size(), 2U) << warm.out;
  ASSERT_EQ(cold_lines.size(), 2U) << cold.out;
  EXPECT_EQ(warm_lines[1], "ran");
  const auto warm_modules = ModuleList(warm_lines[0]);
  auto expected = ModuleList(cold_lines[0]);
  ASSERT_TRUE(warm_modules && expected);
  const std::set<std::string> json = AddedByImport("json");
  expected->insert(json.begin(), json.end());
  if (!gnu_missing) {
    const std::set<std::string> gnu = AddedByImport("dbm.gnu");
    expected->insert(gnu.begin(), gnu.end());
  }
  EXPECT_EQ(*warm_modules, *expected);
}

// PyPy 3.9 (docs/warm-starts.md, "PyPy"): the same samples where they apply (the first,
// CPython's identity, names modules PyPy lacks), and what PyPy's zygote could get wrong:
// the bootstrap's frames, its imports, the names of __main__, the descriptors it held.
class WarmPypyConformance : public ::testing::TestWithParam<Sample> {};

TEST_P(WarmPypyConformance, BehavesAsColdStart) {
  if (::access(kPypy, X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/pypy3.9 (apt-get install pypy3)";
  ExpectWarmAsCold(GetParam(), Pypy());
}

const Sample kPypySamples[] = {
    {"PypyIdentity",
     "import os, sys\n"
     "print(__name__, sys.argv, __file__, sys.path, os.getcwd())\n"
     "print(sys.executable, sys.prefix, sys.flags, sys.warnoptions, sys._xoptions)\n"
     "print(sorted(sys.modules))\n"
     "print(sorted(sys.builtin_module_names))\n"
     "print(list(globals()), __loader__.name, __loader__.path, __spec__, __cached__)\n"
     "print(__builtins__ is __import__('builtins'), __annotations__, __doc__, __package__)\n"
     "print(sorted(n for n in dir(__builtins__) if not n.startswith('__')))\n"
     "print(sys.stdin.encoding, sys.stdout.encoding, sys.stdout.line_buffering,\n"
     "      type(sys.stdout.buffer).__name__, sys.stdin.isatty(), sys.stdin.name)\n"
     "print(sorted(os.listdir('/proc/self/fd')), [os.get_inheritable(f) for f in (0, 1, 2)])\n"
     "print(sorted(os.environ), os.umask(0o22), sys.getrecursionlimit())\n"
     "print(sys.modules['__main__'] is sys.modules[__name__], type(sys.modules['__main__']))\n"},
    {"PypyNoCallerFrame",
     "import sys, traceback, inspect\n"
     "try:\n"
     "    sys._getframe(1)\n"
     "except ValueError as e:\n"
     "    print('no caller:', e)\n"
     "print(traceback.extract_stack(), sys._getframe().f_back)\n"
     "print([f.function for f in inspect.stack()])\n"},
    {"PypyBootstrapImportsAreFresh",
     "import sys\n"
     "print([m in sys.modules for m in ('_socket', '_cffi_backend', 'resource', 'cpyext')])\n"
     "import resource, socket\n"
     "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0] > 0, socket.socketpair()[0].family)\n"},
    {"PypyExceptHook",
     "import sys\n"
     "def hook(t, v, tb):\n"
     "    print('hook', t.__name__, v, tb.tb_frame.f_code.co_filename, tb.tb_lineno, "
     "tb.tb_next)\n"
     "sys.excepthook = hook\n"
     "raise KeyError('k')\n"},
    {"PypyChainedTraceback",
     "try:\n"
     "    {}['missing']\n"
     "except KeyError as e:\n"
     "    raise RuntimeError('while handling') from e\n"},
    {"PypyNullByteInSource", "print('before')\n# \0 a null byte in a comment\nprint('after')\n"},
};

std::vector<Sample> PypyConformanceSamples() {
  std::vector<Sample> samples(std::begin(kSamples) + 1, std::end(kSamples));  // not Identity
  samples.insert(samples.end(), std::begin(kPypySamples), std::end(kPypySamples));
  return samples;
}

INSTANTIATE_TEST_SUITE_P(Samples, WarmPypyConformance,
                         ::testing::ValuesIn(PypyConformanceSamples()),
                         [](const auto& sample) { return std::string(sample.param.name); });

// The one difference PyPy's zygote cannot remove (docs/warm-starts.md): the kernel's
// copy of its command line holds `-c <bootstrap>` before the program's path.
TEST(WarmPypyZygote, OnlyTheKernelsCommandLineShowsTheBootstrap) {
  if (::access(kPypy, X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/pypy3.9";
  Directory dir;
  dir.Write("script.py",
            "import sys\n"
            "args = open('/proc/self/cmdline', 'rb').read().split(b'\\0')\n"
            "print([a if len(a) < 200 else b'<long>' for a in args], sys.argv)\n");
  const std::string stdin_path = dir.Write("stdin.txt", "");
  const Outcome cold = RunCold(dir, stdin_path, false, Pypy());
  const Outcome warm = RunWarm(dir, stdin_path, false, Pypy());
  ASSERT_NE(cold.out.find("b'-u', "), std::string::npos) << cold.out << cold.err;
  std::string expected = cold.out;
  expected.replace(expected.find("b'-u', "), 7, "b'-u', b'-c', b'<long>', ");
  EXPECT_EQ(warm.out, expected);
  EXPECT_EQ(warm.err, cold.err);
}

TEST(WarmPypyZygote, EveryRunHasItsOwnHashSecret) {
  if (::access(kPypy, X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/pypy3.9";
  Directory dir;
  dir.Write("script.py", "print(hash('abc'))\n");
  const std::string stdin_path = dir.Write("stdin.txt", "");
  const Outcome first = RunWarm(dir, stdin_path, false, Pypy());
  const Outcome second = RunWarm(dir, stdin_path, false, Pypy());
  ASSERT_FALSE(first.out.empty());
  EXPECT_NE(first.out, second.out);
}

// As CPython's: a hang-up or a malformed go ends the zygote with nothing run, and its
// ready report carries its start-up's CPU.
TEST(WarmPypyZygote, HangUpOrMalformedGoRunsNothing) {
  if (::access(kPypy, X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/pypy3.9";
  for (const bool malformed : {false, true}) {
    Directory dir;
    dir.Write("script.py", "open('ran', 'w').write('yes')\n");
    Zygote zygote = StartInterpreterZygote(dir, Pypy(), "");
    EXPECT_GT(zygote.ready.cpu_us, 0);
    const int status = EndWithoutRun(std::move(zygote), dir, malformed);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
}

// The hash secret is per process: two warm runs (and a cold one) must differ, unlike
// children forked from one initialised interpreter.
TEST(WarmZygote, EveryRunHasItsOwnHashSecret) {
  Directory dir;
  dir.Write("script.py", "print(hash('abc'))\n");
  const std::string stdin_path = dir.Write("stdin.txt", "");
  const Outcome first = RunWarm(dir, stdin_path, false);
  const Outcome second = RunWarm(dir, stdin_path, false);
  ExpectThreeOwnDraws(first, second, RunCold(dir, stdin_path, false));
}

// A zygote whose run never comes ends quietly, having run nothing.
TEST(WarmZygote, HangUpEndsItWithoutRunning) {
  Directory dir;
  dir.Write("script.py", "open('ran', 'w').write('yes')\n");
  Zygote zygote = StartInterpreterZygote(dir, Cpython(), "");
  EXPECT_GT(zygote.ready.cpu_us, 0);  // it reported its start-up's CPU time
  EXPECT_EQ(zygote.ready.preload_missing, 0U);
  EXPECT_EQ(WEXITSTATUS(EndWithoutRun(std::move(zygote), dir, false)), 0);
}

// A go without the three descriptors is refused: the zygote runs nothing.
TEST(WarmZygote, MalformedGoRunsNothing) {
  Directory dir;
  dir.Write("script.py", "open('ran', 'w').write('yes')\n");
  EndWithoutRun(StartInterpreterZygote(dir, Cpython(), ""), dir, true);
}

}  // namespace
}  // namespace integr8scode::testing
