// The warm Node.js zygote outside the sandbox (docs/warm-starts.md, "A warm Node.js"),
// against a bare `node script.js`, interleaved in one run so that a shared machine's
// drift hits both alike:
//   bare   posix_spawn of /usr/bin/node script.js (what a cold run execs): wall and CPU
//   warm   the zygote (node --require <boot> script.js), started and ready ahead; from
//          the go to the exit: wall, and the CPU spent after the go (its total minus the
//          ready report's)
//   ahead  the warm zygote's start until its ready report: wall and CPU (paid while a
//          slot idles)
// for each program, then a waiting zygote's resident memory. Prints figures; never fails
// on them. Usage: integr8scode-node-warm-probe [runs=40]
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "probe_figures.hpp"
#include "sandbox/node_zygote/node_zygote.hpp"
#include "sandbox/zygote_protocol.hpp"
#include "support/sandbox_environment.hpp"

namespace {

using integr8scode::UniqueFd;
using integr8scode::bench::Clock;
using integr8scode::bench::Millis;
using integr8scode::bench::Percentile;
using integr8scode::bench::ReapInto;
using integr8scode::bench::Series;

constexpr const char* kNode = "/usr/bin/node";

// Output to /dev/null, as the figures are about starting, not writing.
pid_t Spawn(const std::vector<std::string>& args, int control) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  if (control >= 0) {
    posix_spawn_file_actions_adddup2(&actions, control, integr8scode::kNodeZygoteControlFd);
  }
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(),
                               integr8scode::testing::SandboxEnvironment());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

bool Bare(const std::string& script, Series& series) {
  const Clock::time_point start = Clock::now();
  const pid_t pid = Spawn({kNode, script}, -1);
  return pid >= 0 && ReapInto(pid, start, series);
}

struct Zygote {
  pid_t pid = -1;
  UniqueFd control;
  double ready_cpu_ms = 0;
};

Zygote StartZygote(const std::string& boot, const std::string& script, Series& ahead) {
  Zygote zygote;
  int pair[2] = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return zygote;
  zygote.control = UniqueFd(pair[0]);
  const UniqueFd theirs(pair[1]);
  const Clock::time_point start = Clock::now();
  zygote.pid = Spawn({kNode, "--require", boot, script}, theirs.Get());
  integr8scode::ZygoteReady ready{-1};
  if (zygote.pid < 0 || ::recv(zygote.control.Get(), &ready, sizeof ready, 0) != sizeof ready) {
    zygote.pid = -1;
    return zygote;
  }
  ahead.wall.push_back(Millis(Clock::now() - start));
  zygote.ready_cpu_ms = static_cast<double>(ready.cpu_us) / 1e3;
  ahead.cpu.push_back(zygote.ready_cpu_ms);
  return zygote;
}

bool Warm(Zygote zygote, Series& series) {
  const UniqueFd in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const UniqueFd out(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  const int fds[3] = {in.Get(), out.Get(), out.Get()};
  const Clock::time_point start = Clock::now();
  if (!integr8scode::SendZygoteGo(zygote.control.Get(), fds)) return false;
  return ReapInto(zygote.pid, start, series, zygote.ready_cpu_ms);
}

void Print(const char* name, const Series& series, double bare_wall) {
  const double wall = Percentile(series.wall, 0.5);
  fmt::print("  {:<36} wall p50 {:7.1f} ms  p90 {:7.1f} ms  ({:.2f}x bare)  CPU p50 {:6.1f} ms\n",
             name, wall, Percentile(series.wall, 0.9), bare_wall > 0 ? wall / bare_wall : 0,
             Percentile(series.cpu, 0.5));
}

// VmRSS, RssAnon, RssFile of /proc/<pid>/status and Pss of smaps_rollup, in kB.
std::string Memory(pid_t pid) {
  std::string figures;
  const auto grep = [&](const std::string& file, const std::vector<std::string>& keys) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      for (const std::string& key : keys) {
        if (line.rfind(key + ":", 0) == 0) {
          std::istringstream words(line.substr(key.size() + 1));
          std::string kb;
          words >> kb;
          figures += fmt::format(" {} {} kB", key, kb);
        }
      }
    }
  };
  grep(fmt::format("/proc/{}/status", pid), {"VmRSS", "RssAnon", "RssFile"});
  grep(fmt::format("/proc/{}/smaps_rollup", pid), {"Pss"});
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 40;
  const std::string boot =
      std::string(INTEGR8SCODE_NODE_ZYGOTE_DIR) + "/" + integr8scode::kNodeZygoteBoot;
  char dir_template[] = "/tmp/i8c-node-probe-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) return 1;
  const std::string dir = dir_template;
  const struct {
    const char* name;
    const char* source;
  } programs[] = {
      {"console.log('hi')", "console.log('hi')\n"},
      {"require http, crypto, zlib; JSON",
       "const http = require('http'), crypto = require('crypto'), zlib = require('zlib');\n"
       "console.log(JSON.stringify({ a: crypto.randomUUID(), z: typeof zlib.gzipSync,\n"
       "  h: typeof http.createServer }));\n"},
  };
  fmt::print("integr8scode-node-warm-probe: {} runs of each, interleaved; {} with {}\n", runs,
             kNode, boot);
  for (const auto& program : programs) {
    const std::string script = dir + "/script.js";
    std::ofstream(script) << program.source;
    Series bare, warm, ahead;
    bool ok = true;
    for (int i = 0; i < runs && ok; ++i) {
      ok = Bare(script, bare);
      Zygote zygote = StartZygote(boot, script, ahead);
      ok = ok && zygote.pid > 0 && Warm(std::move(zygote), warm);
    }
    if (!ok) {
      fmt::print("{}: a run failed\n", program.name);
      return 1;
    }
    const double bare_wall = Percentile(bare.wall, 0.5);
    fmt::print("{}\n", program.name);
    Print("bare node script.js", bare, bare_wall);
    Print("warm, from the go", warm, bare_wall);
    Print("warm, its start (ahead, not waited)", ahead, bare_wall);
  }
  Series ignored;
  std::ofstream(dir + "/script.js") << "console.log('hi')\n";
  for (int i = 0; i < 3; ++i) {
    Zygote zygote = StartZygote(boot, dir + "/script.js", ignored);
    if (zygote.pid < 0) return 1;
    fmt::print("a waiting zygote:{}\n", Memory(zygote.pid));
    zygote.control.Reset();  // a hang-up: it ends without running
    ::waitpid(zygote.pid, nullptr, 0);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
