// integr8scode: the command users type (docs/architecture.md, "Processes"). It links only
// what `run` and `runtimes` need, statically, so that a one-shot run starts like a small
// program; `serve` needs the service's libraries (Boost.Beast, OpenSSL, SQLite,
// prometheus-cpp…) and runs in integr8scode-serve, which this process becomes by exec.
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "app/commands.hpp"
#include "sandbox/spawner.hpp"

namespace integr8scode {
namespace {

inline constexpr std::string_view kServeExecutable = "integr8scode-serve";

// exec, not a child: the server keeps this process — its pid (PID 1 in a container), its
// parent, its signals and descriptors. integr8scode-serve parses the same command line
// again; it was valid here, so it is there.
int ExecServe(char** argv) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    fmt::print(stderr, "integr8scode: cannot find this executable (/proc/self/exe): {}\n",
               ec.message());
    return kExitPlatform;
  }
  const std::filesystem::path server = self.parent_path() / kServeExecutable;
  ::execv(server.c_str(), argv);
  const int saved = errno;
  fmt::print(stderr, "integr8scode: serve runs {}, which cannot be started: {}\n", server.string(),
             std::strerror(saved));
  return kExitPlatform;
}

}  // namespace
}  // namespace integr8scode

int main(int argc, char** argv) {
  using namespace integr8scode;
  if (auto code = RunSpawnerIfRequested(argc, argv)) return *code;
  return CommandLineMain(
      argc, argv, [argv](const ServeFlags&, const GlobalOptions&) { return ExecServe(argv); });
}
