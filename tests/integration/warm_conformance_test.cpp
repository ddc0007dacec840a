// Warm-start conformance, outside the sandbox (docs/warm-starts.md): every sample runs
// through a cold `/usr/bin/python3.11 -I -u script.py` and through
// integr8scode-python-zygote (initialised ahead with placeholder descriptors, then
// handed the run's stdin, stdout and stderr), in the same directory with the same
// environment; stdout, stderr and the wait status must be identical. The zygote is not
// yet started by the sandbox's init: these tests hold the embedding to the executable.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

#include "sandbox/zygote_protocol.hpp"

extern char** environ;

namespace {

constexpr const char* kPython = "/usr/bin/python3.11";

struct Outcome {
  std::string out;
  std::string err;
  int wait_status = -1;
};

class Directory {
 public:
  Directory() {
    char path[] = "/tmp/i8c-warm-XXXXXX";
    if (::mkdtemp(path) != nullptr) path_ = path;
  }
  ~Directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& text) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }

 private:
  std::string path_;
};

// Reads both pipes to their end at once (a full stderr pipe must not stall stdout).
void Drain(int out, int err, Outcome& outcome) {
  pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
  int open = (out >= 0) + (err >= 0);
  if (err < 0) fds[1].fd = -1;
  char buffer[4096];
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? outcome.out : outcome.err).append(buffer, static_cast<std::size_t>(n));
      } else {
        fds[i].fd = -1;
        --open;
      }
    }
  }
}

struct RunPipes {
  int stdin_fd = -1;
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  bool merged = false;

  RunPipes(const std::string& stdin_path, bool merge) : merged(merge) {
    stdin_fd = ::open(stdin_path.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    if (!merged) {
      EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
    }
  }
  int ErrWrite() const { return merged ? out[1] : err[1]; }
  void CloseWriteEnds() {
    ::close(stdin_fd);
    ::close(out[1]);
    if (!merged) ::close(err[1]);
  }
  void Finish(pid_t pid, Outcome& outcome) {
    Drain(out[0], merged ? -1 : err[0], outcome);
    ::close(out[0]);
    if (!merged) ::close(err[0]);
    ::waitpid(pid, &outcome.wait_status, 0);
  }
};

pid_t Spawn(const std::vector<std::string>& args, const std::string& cwd,
            const std::vector<std::pair<int, int>>& dups) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (const auto& [from, to] : dups) posix_spawn_file_actions_adddup2(&actions, from, to);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << std::strerror(rc);
  return rc == 0 ? pid : -1;
}

Outcome RunCold(const Directory& dir, const std::string& stdin_path, bool merged) {
  RunPipes pipes(stdin_path, merged);
  const pid_t pid = Spawn({kPython, "-I", "-u", "script.py"}, dir.path(),
                          {{pipes.stdin_fd, 0}, {pipes.out[1], 1}, {pipes.ErrWrite(), 2}});
  pipes.CloseWriteEnds();
  Outcome outcome;
  pipes.Finish(pid, outcome);
  return outcome;
}

// Starts a zygote on script.py with placeholders of the run's kinds on 0–2 (and
// `--preload=<preload>` when not empty) and waits for its ready report. Returns its pid;
// `control` is our end of its socket.
pid_t StartZygote(const Directory& dir, int& control, integr8scode::ZygoteReady& ready,
                  const std::string& preload = "") {
  int pair[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  int placeholder[2];
  EXPECT_EQ(::pipe2(placeholder, O_CLOEXEC), 0);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<std::string> args = {INTEGR8SCODE_PYTHON_ZYGOTE, "3"};
  if (!preload.empty()) args.push_back("--preload=" + preload);
  args.insert(args.end(), {kPython, "-I", "-u", "script.py"});
  const pid_t pid = Spawn(args, dir.path(),
                          {{null_fd, 0}, {placeholder[1], 1}, {placeholder[1], 2}, {pair[1], 3}});
  ::close(null_fd);
  ::close(placeholder[0]);
  ::close(placeholder[1]);
  ::close(pair[1]);
  control = pair[0];
  ready = integr8scode::ZygoteReady{-1, ~std::uint64_t{0}};
  EXPECT_EQ(::recv(control, &ready, sizeof ready, 0), static_cast<ssize_t>(sizeof ready));
  return pid;
}

// `preload`: the zygote's --preload list; `missing`, when given, receives the ready
// report's mask of the modules it could not import.
Outcome RunWarm(const Directory& dir, const std::string& stdin_path, bool merged,
                const std::string& preload = "", std::uint64_t* missing = nullptr) {
  int control = -1;
  integr8scode::ZygoteReady ready;
  const pid_t pid = StartZygote(dir, control, ready, preload);
  if (missing != nullptr) *missing = ready.preload_missing;
  RunPipes pipes(stdin_path, merged);
  const int fds[3] = {pipes.stdin_fd, pipes.out[1], pipes.ErrWrite()};
  EXPECT_TRUE(integr8scode::SendZygoteGo(control, fds));
  ::close(control);
  pipes.CloseWriteEnds();
  Outcome outcome;
  pipes.Finish(pid, outcome);
  return outcome;
}

struct Sample {
  const char* name;
  const char* source;
  const char* stdin_text = "";
  bool merged = false;  // stdout and stderr into one pipe: their interleaving
};

void PrintTo(const Sample& sample, std::ostream* os) { *os << sample.name; }

class WarmConformance : public ::testing::TestWithParam<Sample> {};

TEST_P(WarmConformance, BehavesAsColdStart) {
  const Sample& sample = GetParam();
  Directory dir;
  ASSERT_FALSE(dir.path().empty());
  dir.Write("script.py", sample.source);
  const std::string stdin_path = dir.Write("stdin.txt", sample.stdin_text);
  const Outcome cold = RunCold(dir, stdin_path, sample.merged);
  const Outcome warm = RunWarm(dir, stdin_path, sample.merged);
  EXPECT_EQ(warm.out, cold.out);
  EXPECT_EQ(warm.err, cold.err);
  EXPECT_EQ(warm.wait_status, cold.wait_status);
  // A sample that printed nothing compares nothing.
  EXPECT_FALSE(cold.out.empty() && cold.err.empty() && WIFEXITED(cold.wait_status) &&
               WEXITSTATUS(cold.wait_status) == 0)
      << "the sample shows nothing";
}

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
  const Outcome warm = RunWarm(dir, stdin_path, sample.merged, kPreload, &missing);
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
  const Outcome warm = RunWarm(dir, stdin_path, false, "json,xml.etree.ElementTree", &missing);
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
  const Outcome first = RunWarm(dir, stdin_path, false, "random");
  const Outcome second = RunWarm(dir, stdin_path, false, "random");
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
  const Outcome warm =
      RunWarm(dir, stdin_path, false, "no_such_module_i8c,json,dbm.gnu,os.no_such", &missing);
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

// The hash secret is per process: two warm runs (and a cold one) must differ, unlike
// children forked from one initialised interpreter.
TEST(WarmZygote, EveryRunHasItsOwnHashSecret) {
  Directory dir;
  dir.Write("script.py", "print(hash('abc'))\n");
  const std::string stdin_path = dir.Write("stdin.txt", "");
  const Outcome first = RunWarm(dir, stdin_path, false);
  const Outcome second = RunWarm(dir, stdin_path, false);
  const Outcome cold = RunCold(dir, stdin_path, false);
  ASSERT_FALSE(first.out.empty());
  ASSERT_FALSE(second.out.empty());
  EXPECT_NE(first.out, second.out);
  EXPECT_NE(first.out, cold.out);
}

// A zygote whose run never comes ends quietly, having run nothing.
TEST(WarmZygote, HangUpEndsItWithoutRunning) {
  Directory dir;
  dir.Write("script.py", "open('ran', 'w').write('yes')\n");
  int control = -1;
  integr8scode::ZygoteReady ready;
  const pid_t pid = StartZygote(dir, control, ready);
  EXPECT_GT(ready.cpu_us, 0);  // it reported its start-up's CPU time
  EXPECT_EQ(ready.preload_missing, 0U);
  ::close(control);
  int status = -1;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/ran"));
}

// A go without the three descriptors is refused: the zygote runs nothing.
TEST(WarmZygote, MalformedGoRunsNothing) {
  Directory dir;
  dir.Write("script.py", "open('ran', 'w').write('yes')\n");
  int control = -1;
  integr8scode::ZygoteReady ready;
  const pid_t pid = StartZygote(dir, control, ready);
  EXPECT_EQ(::send(control, "g", 1, 0), 1);
  ::close(control);
  int status = -1;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/ran"));
}

}  // namespace
