// The test side of the zygote protocol, shared by the suites that hold each zygote to its
// executable outside the sandbox (CPython and PyPy: warm_conformance_test.cpp; Node.js:
// node_warm_conformance_test.cpp): a scratch directory, a spawn that passes only the
// named descriptors, the run's pipes read together, and a zygote started on placeholders
// until its ready report.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/unique_fd.hpp"
#include "sandbox/zygote_protocol.hpp"

namespace integr8scode::testing {

// A directory of its own under /tmp for one sample, removed with everything in it.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    char path[] = "/tmp/i8c-warm-XXXXXX";
    if (::mkdtemp(path) != nullptr) path_ = path;
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& text) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }

 private:
  std::string path_;
};

struct Outcome {
  std::string out;
  std::string err;
  int wait_status = -1;
  int stdout_flags_after_exit = -1;  // measured only by RunStreams::Finish(pid, true)
};

inline std::pair<UniqueFd, UniqueFd> Pipe() {
  int ends[2] = {-1, -1};
  EXPECT_EQ(::pipe2(ends, O_CLOEXEC), 0);
  return {UniqueFd(ends[0]), UniqueFd(ends[1])};
}

// The run's side: stdin from a file, stdout and stderr pipes (one pipe when merged: their
// interleaving). The write ends go to the child, then are closed here.
struct RunStreams {
  UniqueFd in;
  UniqueFd out_read, out_write, err_read, err_write;
  bool merged = false;

  RunStreams(const std::string& stdin_path, bool merge) : merged(merge) {
    in = UniqueFd(::open(stdin_path.c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_TRUE(in.Valid());
    std::tie(out_read, out_write) = Pipe();
    if (!merged) std::tie(err_read, err_write) = Pipe();
  }
  int ErrWrite() const { return merged ? out_write.Get() : err_write.Get(); }

  // Reads both pipes to their end at once (a full stderr pipe must not stall stdout),
  // then reaps `pid`. With `flags_after_exit`, reaps it first (its output must fit in
  // the pipe) and reads the file status flags it left on its stdout.
  Outcome Finish(pid_t pid, bool flags_after_exit = false) {
    Outcome outcome;
    if (flags_after_exit) {
      ::waitpid(pid, &outcome.wait_status, 0);
      outcome.stdout_flags_after_exit = ::fcntl(out_write.Get(), F_GETFL);
    }
    in.Reset();
    out_write.Reset();
    err_write.Reset();
    pollfd fds[2] = {{out_read.Get(), POLLIN, 0}, {merged ? -1 : err_read.Get(), POLLIN, 0}};
    int open = merged ? 1 : 2;
    char buffer[65536];
    while (open > 0) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
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
    if (!flags_after_exit) ::waitpid(pid, &outcome.wait_status, 0);
    return outcome;
  }
};

// posix_spawn of `args` in `cwd` with `environment`, the descriptors `dups` (from, to)
// and nothing else inherited (a test runner's descriptors): cold and warm see only
// theirs, as in a sandbox.
inline pid_t Spawn(const std::vector<std::string>& args, const std::string& cwd,
                   const std::vector<std::pair<int, int>>& dups, char* const* environment) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  int highest = 2;
  std::vector<bool> target(1, false);
  for (const auto& [from, to] : dups) {
    posix_spawn_file_actions_adddup2(&actions, from, to);
    highest = std::max(highest, to);
    target.resize(std::max<std::size_t>(target.size(), static_cast<std::size_t>(to) + 1), false);
    target[static_cast<std::size_t>(to)] = true;
  }
  // Below the highest target too (Node's control socket is 100): closing a descriptor
  // that is not open is no error to posix_spawn.
  for (int fd = 3; fd < highest; ++fd) {
    if (!target[static_cast<std::size_t>(fd)]) posix_spawn_file_actions_addclose(&actions, fd);
  }
  posix_spawn_file_actions_addclosefrom_np(&actions, highest + 1);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environment);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << std::strerror(rc);
  return rc == 0 ? pid : -1;
}

// A cold run: `args` with the run's stdin, stdout and stderr.
inline Outcome RunColdProcess(const std::vector<std::string>& args, const std::string& cwd,
                              const std::string& stdin_path, bool merged, char* const* environment,
                              bool flags_after_exit = false) {
  RunStreams streams(stdin_path, merged);
  const pid_t pid = Spawn(
      args, cwd, {{streams.in.Get(), 0}, {streams.out_write.Get(), 1}, {streams.ErrWrite(), 2}},
      environment);
  return streams.Finish(pid, flags_after_exit);
}

struct Zygote {
  pid_t pid = -1;
  UniqueFd control;
  // Not what an unreported field would hold: PyPy's bootstrap sends the first field only
  // (kZygoteReadyMinimum).
  ZygoteReady ready{-1, ~std::uint64_t{0}};
};

// Only a guard against a zygote that never reports: a hang fails instead of blocking.
constexpr int kReadyGuardMs = 60'000;

// Starts a zygote (`args`) with placeholders on 0–2 (/dev/null, one pipe whose reader is
// gone) and its control socket on `control_fd`, and waits for its ready report.
inline Zygote StartZygoteProcess(const std::vector<std::string>& args, const std::string& cwd,
                                 int control_fd, char* const* environment) {
  int pair[2] = {-1, -1};
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  Zygote zygote;
  zygote.control = UniqueFd(pair[0]);
  const UniqueFd theirs(pair[1]);
  auto [placeholder_read, placeholder_write] = Pipe();
  placeholder_read.Reset();
  const UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  zygote.pid = Spawn(args, cwd,
                     {{null_fd.Get(), 0},
                      {placeholder_write.Get(), 1},
                      {placeholder_write.Get(), 2},
                      {theirs.Get(), control_fd}},
                     environment);
  pollfd ready_poll{zygote.control.Get(), POLLIN, 0};
  if (::poll(&ready_poll, 1, kReadyGuardMs) != 1) {
    ADD_FAILURE() << "the zygote did not report ready";
    return zygote;
  }
  EXPECT_GE(::recv(zygote.control.Get(), &zygote.ready, sizeof zygote.ready, 0),
            static_cast<ssize_t>(kZygoteReadyMinimum));
  return zygote;
}

// The go: the run's stdin, stdout and stderr (and `go`'s limits) to a started zygote,
// whose run is then read and reaped.
inline Outcome Go(Zygote zygote, const std::string& stdin_path, bool merged, ZygoteGo go = {},
                  bool flags_after_exit = false) {
  RunStreams streams(stdin_path, merged);
  const int fds[3] = {streams.in.Get(), streams.out_write.Get(), streams.ErrWrite()};
  EXPECT_TRUE(SendZygoteGo(zygote.control.Get(), fds, go));
  zygote.control.Reset();
  return streams.Finish(zygote.pid, flags_after_exit);
}

// A zygote left without its run (`malformed`: first sent a go without the three
// descriptors) ends, and its script, which writes `ran` when it runs, never ran. Returns
// its wait status.
inline int EndWithoutRun(Zygote zygote, const ScratchDirectory& dir, bool malformed) {
  if (malformed) {
    EXPECT_EQ(::send(zygote.control.Get(), "g", 1, 0), 1);
  }
  zygote.control.Reset();
  int status = -1;
  ::waitpid(zygote.pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/ran"));
  return status;
}

// Two warm runs and a cold one of a sample that prints what each process draws anew
// (hash secret, random state): three different draws.
inline void ExpectThreeOwnDraws(const Outcome& first, const Outcome& second, const Outcome& cold) {
  ASSERT_FALSE(first.out.empty());
  ASSERT_FALSE(second.out.empty());
  EXPECT_NE(first.out, second.out);
  EXPECT_NE(first.out, cold.out);
}

// Cold and warm ran the same sample: identical stdout, stderr and wait status, and the
// sample showed something.
inline void ExpectSameAsCold(const Outcome& warm, const Outcome& cold) {
  EXPECT_EQ(warm.out, cold.out);
  EXPECT_EQ(warm.err, cold.err);
  EXPECT_EQ(warm.wait_status, cold.wait_status);
  // A sample that printed nothing compares nothing.
  EXPECT_FALSE(cold.out.empty() && cold.err.empty() && WIFEXITED(cold.wait_status) &&
               WEXITSTATUS(cold.wait_status) == 0)
      << "the sample shows nothing";
}

}  // namespace integr8scode::testing
