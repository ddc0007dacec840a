// The two executables behind the command line (src/app/commands.hpp): `integr8scode`
// starts like a small static program, and `serve` becomes integr8scode-serve in the same
// process.
#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/child.hpp"
#include "common/subprocess.hpp"

extern char** environ;

namespace integr8scode {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string ReadWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every program header of a 64-bit ELF file.
std::vector<Elf64_Phdr> ProgramHeaders(const std::string& image) {
  Elf64_Ehdr header{};
  if (image.size() < sizeof header) return {};
  std::memcpy(&header, image.data(), sizeof header);
  std::vector<Elf64_Phdr> headers(header.e_phnum);
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const std::size_t at = header.e_phoff + i * header.e_phentsize;
    if (at + sizeof(Elf64_Phdr) > image.size()) return {};
    std::memcpy(&headers[i], image.data() + at, sizeof(Elf64_Phdr));
  }
  return headers;
}

// A one-shot `run` pays for every shared object at each start: the command has no
// program interpreter (ld.so) and needs no library, and is position-independent, so its
// addresses are still randomised.
TEST(CliExecutables, TheCommandIsStaticAndPositionIndependent) {
  if (!INTEGR8SCODE_STATIC_COMMAND) {
    GTEST_SKIP() << "built with a sanitizer or INTEGR8SCODE_STATIC_DEPS=OFF: linked dynamically";
  }
  const std::string image = ReadWhole(INTEGR8SCODE_BINARY);
  ASSERT_GE(image.size(), sizeof(Elf64_Ehdr));
  ASSERT_EQ(image.compare(0, SELFMAG, ELFMAG), 0);
  Elf64_Ehdr header{};
  std::memcpy(&header, image.data(), sizeof header);
  EXPECT_EQ(header.e_type, ET_DYN) << "a static PIE is ET_DYN";
  std::size_t needed = 0;
  for (const Elf64_Phdr& segment : ProgramHeaders(image)) {
    EXPECT_NE(segment.p_type, static_cast<Elf64_Word>(PT_INTERP)) << "loaded through ld.so";
    if (segment.p_type != PT_DYNAMIC) continue;
    for (std::size_t at = segment.p_offset;
         at + sizeof(Elf64_Dyn) <= segment.p_offset + segment.p_filesz; at += sizeof(Elf64_Dyn)) {
      Elf64_Dyn entry{};
      std::memcpy(&entry, image.data() + at, sizeof entry);
      if (entry.d_tag == DT_NULL) break;
      needed += entry.d_tag == DT_NEEDED ? 1 : 0;
    }
  }
  EXPECT_EQ(needed, 0u) << "shared libraries needed";
}

Result<CommandOutput> RunCommand(std::vector<std::string> args) {
  args.insert(args.begin(), INTEGR8SCODE_BINARY);
  return RunHostCommand(args, std::chrono::seconds(60));
}

// `serve`'s flags are the command's own: its help and its usage errors come without the
// server.
TEST(CliExecutables, ServeFlagsAreParsedByTheCommand) {
  auto help = RunCommand({"serve", "--help"});
  ASSERT_TRUE(help) << help.error().Describe();
  EXPECT_EQ(help->exit_code, 0);
  for (const char* flag :
       {"--config", "--listen", "--data-dir", "--tls-cert", "--tls-key", "--role", "--set"}) {
    EXPECT_NE(help->output.find(flag), std::string::npos) << flag << "\n" << help->output;
  }
  auto bad = RunCommand({"serve", "--role", "leader"});
  ASSERT_TRUE(bad) << bad.error().Describe();
  EXPECT_EQ(bad->exit_code, 2) << bad->output;
  EXPECT_NE(bad->output.find("--role: leader not in {all,api,worker}"), std::string::npos)
      << bad->output;
}

// What only the server checks (the configuration of `serve`) is reported by it, through
// the command: the exec happened and the exit code came back. (An empty environment: the
// server would refuse the harness's INTEGR8SCODE_* variables first.)
TEST(CliExecutables, ServeRunsTheServerExecutable) {
  auto outcome = RunHostCommand(
      {"/usr/bin/env", "-i", INTEGR8SCODE_BINARY, "serve", "--set", "server.lisen=127.0.0.1:0"},
      std::chrono::seconds(60));
  ASSERT_TRUE(outcome) << outcome.error().Describe();
  EXPECT_EQ(outcome->exit_code, 2) << outcome->output;
  EXPECT_NE(outcome->output.find("integr8scode serve: "), std::string::npos) << outcome->output;
  EXPECT_NE(outcome->output.find("server.listen"), std::string::npos) << "the nearest known key\n"
                                                                      << outcome->output;
}

// Without integr8scode-serve beside it, `serve` fails with a platform error that names
// the missing executable; `run` and `runtimes` do not need it.
TEST(CliExecutables, AMissingServerExecutableIsNamed) {
  const fs::path dir = fs::temp_directory_path() / ("cli-alone-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path alone = dir / "integr8scode";
  fs::copy_file(INTEGR8SCODE_BINARY, alone, fs::copy_options::overwrite_existing);
  auto serve = RunHostCommand({alone.string(), "serve"}, std::chrono::seconds(60));
  auto version = RunHostCommand({alone.string(), "--version"}, std::chrono::seconds(60));
  fs::remove_all(dir);
  ASSERT_TRUE(serve) << serve.error().Describe();
  EXPECT_EQ(serve->exit_code, 3) << serve->output;
  EXPECT_NE(serve->output.find((dir / "integr8scode-serve").string() +
                               ", which cannot be started: No such file or directory"),
            std::string::npos)
      << serve->output;
  ASSERT_TRUE(version) << version.error().Describe();
  EXPECT_EQ(version->exit_code, 0) << version->output;
  EXPECT_EQ(version->output, "integr8scode 0.1.0\n");
}

// The server replaces the command in its process (exec, not a child): the pid a
// supervisor started (tini, systemd, a test) is the server's, and its SIGTERM is the
// server's orderly shutdown, exit code 0.
TEST(CliExecutables, ServeKeepsTheProcess) {
  if (::geteuid() != 0) GTEST_SKIP() << "serve creates the sandbox: root";
  const fs::path dir = fs::temp_directory_path() / ("cli-serve-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path log = dir / "server.log";
  std::vector<std::string> args = {INTEGR8SCODE_BINARY,
                                   "serve",
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--data-dir",
                                   (dir / "data").string(),
                                   "--set",
                                   "auth.argon2=min",
                                   "--set",
                                   "sandbox.slots=1",
                                   "--set",
                                   "sandbox.prebuild=false"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // The server refuses INTEGR8SCODE_* variables it does not know (the harness's own).
  std::vector<std::string> kept;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!std::string_view(*entry).starts_with("INTEGR8SCODE_")) kept.emplace_back(*entry);
  }
  std::vector<char*> envp;
  for (std::string& entry : kept) envp.push_back(entry.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int spawned =
      ::posix_spawn(&pid, INTEGR8SCODE_BINARY, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ASSERT_EQ(spawned, 0) << std::strerror(spawned);
  auto child = Child::Adopt(pid);
  ASSERT_TRUE(child) << child.error().Describe();

  // Ready once it logs "serving" (signals are blocked for sigwait from then on).
  bool serving = false;
  for (const auto deadline = Clock::now() + std::chrono::seconds(60);
       !serving && Clock::now() < deadline;) {
    serving = ReadWhole(log).find("\"serving\"") != std::string::npos;
    auto exited = child->WaitExit(std::chrono::milliseconds(20));
    ASSERT_TRUE(exited) << exited.error().Describe();
    ASSERT_FALSE(*exited && !serving) << ReadWhole(log);
  }
  ASSERT_TRUE(serving) << ReadWhole(log);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
  EXPECT_EQ(exe.filename(), "integr8scode-serve") << exe;
  EXPECT_EQ(exe.parent_path(), fs::path(INTEGR8SCODE_BINARY).parent_path());

  ASSERT_TRUE(child->Signal(SIGTERM));
  auto status = child->Wait();
  ASSERT_TRUE(status) << status.error().Describe();
  EXPECT_TRUE(WIFEXITED(*status)) << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 0) << ReadWhole(log);
  EXPECT_NE(ReadWhole(log).find("\"stopped\""), std::string::npos) << ReadWhole(log);
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace integr8scode
