// The `integr8scode` command line, run as a real process.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "common/subprocess.hpp"

namespace integr8scode {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  std::string out;  // stdout and stderr as one stream
};

Outcome RunCli(std::vector<std::string> args) {
  args.insert(args.begin(), INTEGR8SCODE_BINARY);
  auto result = RunHostCommand(args, std::chrono::seconds(60));
  if (!result) return {-1, result.error().Describe()};
  return {result->exit_code, result->output};
}

// Runs through a shell to keep the streams apart.
Outcome CliStdoutOnly(const std::string& args) {
  auto result = RunHostCommand(
      {"/bin/sh", "-c", std::string(INTEGR8SCODE_BINARY) + " " + args + " 2>/dev/null"},
      std::chrono::seconds(60));
  if (!result) return {-1, result.error().Describe()};
  return {result->exit_code, result->output};
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cli-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string File(const std::string& name, const std::string& content) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << content;
    return path.string();
  }
  static bool Root() { return ::geteuid() == 0; }
  static int Lines(const std::string& text) {
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }
  fs::path dir_;
};

TEST_F(CliTest, MissingFileIsOneLine) {
  const Outcome outcome =
      RunCli({"run", (dir_ / "nope.py").string(), "--lang", "python", "--version", "3.11"});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(Lines(outcome.out), 1) << outcome.out;
  EXPECT_NE(outcome.out.find("cannot read file"), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("No such file or directory"), std::string::npos) << outcome.out;
}

TEST_F(CliTest, UnknownLanguageListsWhatIsAvailable) {
  const Outcome outcome =
      RunCli({"run", File("a.cob", "DISPLAY 1"), "--lang", "cobol", "--version", "85"});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(Lines(outcome.out), 1) << outcome.out;
  EXPECT_NE(outcome.out.find("unknown language 'cobol'; available: python 3.11, pypy 3.9, node 20"),
            std::string::npos)
      << outcome.out;
}

TEST_F(CliTest, UnknownVersionListsTheVersions) {
  const Outcome outcome =
      RunCli({"run", File("a.py", "print(1)"), "--lang", "python", "--version", "2.7"});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_NE(outcome.out.find("unknown version '2.7' of python; available: 3.11, 3.9"),
            std::string::npos)
      << outcome.out;
}

TEST_F(CliTest, MalformedLimitsAreOneLineEach) {
  const std::string file = File("a.py", "print(1)");
  for (const auto& [flag, value, hint] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"--memory", "12Q", "128M"},
           {"--timeout", "soon", "5s"},
           {"--cpu", "lots", "100m"},
           {"--output-limit", "-1", "128M"}}) {
    const Outcome outcome =
        RunCli({"run", file, "--lang", "python", "--version", "3.11", flag, value});
    EXPECT_EQ(outcome.exit_code, 2) << flag;
    EXPECT_EQ(Lines(outcome.out), 1) << outcome.out;
    EXPECT_NE(outcome.out.find(flag + ": '" + value + "'"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find(hint), std::string::npos) << outcome.out;
  }
}

TEST_F(CliTest, LimitsAboveTheMaximumAreRefused) {
  const Outcome outcome = RunCli(
      {"run", File("a.py", "print(1)"), "--lang", "python", "--version", "3.11", "--memory", "4G"});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(Lines(outcome.out), 1) << outcome.out;
  EXPECT_NE(outcome.out.find("memory limit 4 GiB is above the maximum 512 MiB"), std::string::npos)
      << outcome.out;
}

TEST_F(CliTest, TheConfiguredMaximumApplies) {
  const std::string config = File(
      "strict.toml", "[limits.default]\nmemory = \"32M\"\n[limits.maximum]\nmemory = \"64M\"\n");
  const Outcome outcome = RunCli({"run", File("a.py", "print(1)"), "--lang", "python", "--version",
                                  "3.11", "--config", config, "--memory", "100M"});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(Lines(outcome.out), 1) << outcome.out;
  EXPECT_NE(outcome.out.find("memory limit 100 MiB is above the maximum 64 MiB"), std::string::npos)
      << outcome.out;
}

TEST_F(CliTest, AnUnknownConfigKeyIsNamed) {
  const Outcome outcome = RunCli({"run", File("a.py", "print(1)"), "--lang", "python", "--version",
                                  "3.11", "--config", File("bad.toml", "[limits]\nmemroy = 1\n")});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_NE(outcome.out.find("memroy"), std::string::npos) << outcome.out;
}

// `run` chooses its catalog as `serve` does: --catalog above the configuration file's.
TEST_F(CliTest, TheCatalogFlagOutranksTheConfigurationFile) {
  const std::string config =
      File("catalog.toml", "catalog = \"" + (dir_ / "missing.toml").string() + "\"\n");
  const std::string catalog = std::string(INTEGR8SCODE_SOURCE_DIR) + "/runtimes/catalog.toml";
  const Outcome from_file = RunCli({"run", File("a.cob", "DISPLAY 1"), "--lang", "cobol",
                                    "--version", "85", "--config", config});
  EXPECT_EQ(from_file.exit_code, 2);
  EXPECT_NE(from_file.out.find("missing.toml"), std::string::npos) << from_file.out;
  const Outcome from_flag = RunCli({"--catalog", catalog, "run", File("a.cob", "DISPLAY 1"),
                                    "--lang", "cobol", "--version", "85", "--config", config});
  EXPECT_EQ(from_flag.exit_code, 2);
  EXPECT_NE(from_flag.out.find("unknown language 'cobol'"), std::string::npos) << from_flag.out;
}

TEST_F(CliTest, MissingRequiredOptionIsAUsageError) {
  const Outcome outcome = RunCli({"run", File("a.py", "print(1)"), "--lang", "python"});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_NE(outcome.out.find("--version is required"), std::string::npos) << outcome.out;
}

TEST_F(CliTest, JsonHasTheResultShape) {
  if (!Root()) GTEST_SKIP() << "the sandbox needs root";
  const std::string input = File("in.txt", "world\n");
  const Outcome outcome = CliStdoutOnly("run " + File("a.py", "print('hello', input())") +
                                        " --lang python --version 3.11 --json --stdin " + input);
  ASSERT_EQ(outcome.exit_code, 0) << outcome.out;
  const auto json = boost::json::parse(outcome.out).as_object();
  EXPECT_EQ(json.at("status"), "completed");
  EXPECT_EQ(json.at("lang"), "python");
  EXPECT_EQ(json.at("lang_version"), "3.11");
  EXPECT_EQ(json.at("exit_code"), 0);
  EXPECT_TRUE(json.at("signal").is_null());
  EXPECT_EQ(json.at("stdout"), "hello world\n");
  EXPECT_EQ(json.at("stderr"), "");
  EXPECT_EQ(json.at("stdout_truncated"), false);
  EXPECT_EQ(json.at("stderr_truncated"), false);
  const auto& usage = json.at("resource_usage").as_object();
  for (const char* key : {"wall_time_ms", "cpu_time_ms", "peak_memory_bytes"})
    EXPECT_TRUE(usage.contains(key)) << key;
  const auto& limits = json.at("limits").as_object();
  EXPECT_EQ(limits.at("memory_bytes"), 128 << 20);
  EXPECT_EQ(limits.at("timeout_ms"), 5000);
  EXPECT_EQ(limits.at("cpu_millicores"), 1000);
}

TEST_F(CliTest, StdinDashReadsTheCommandsOwnInput) {
  if (!Root()) GTEST_SKIP() << "the sandbox needs root";
  const std::string program = File("echo.py", "import sys\nprint(repr(sys.stdin.read()))");
  const auto piped_into = [&](const std::string& flags) -> Outcome {
    auto result = RunHostCommand(
        {"/bin/sh", "-c",
         "printf 'line one\\nline two\\n' | " + std::string(INTEGR8SCODE_BINARY) + " run " +
             program + " --lang python --version 3.11" + flags + " 2>/dev/null"},
        std::chrono::seconds(60));
    if (!result) return {-1, result.error().Describe()};
    return {result->exit_code, result->output};
  };
  const Outcome piped = piped_into(" --stdin -");
  ASSERT_EQ(piped.exit_code, 0) << piped.out;
  EXPECT_EQ(piped.out, "'line one\\nline two\\n'\n");
  // Without --stdin the program reads an empty input, whatever this command was given.
  const Outcome ignored = piped_into("");
  ASSERT_EQ(ignored.exit_code, 0) << ignored.out;
  EXPECT_EQ(ignored.out, "''\n");
}

TEST_F(CliTest, IsolationGvisorRunsOnTheSentry) {
  if (!Root()) GTEST_SKIP() << "the sandbox needs root";
  if (::access("/usr/bin/runsc", X_OK) != 0)
    GTEST_SKIP() << "gVisor's runsc is not installed (apt-get install runsc)";
  // gVisor's /proc/version names its own emulated kernel; the host's never says 4.4.0.
  const Outcome outcome = CliStdoutOnly(
      "run " + File("a.py", "print(open('/proc/version').read().split()[2], input())") +
      " --lang python --version 3.11 --json --isolation gvisor --stdin " + File("in.txt", "x\n"));
  ASSERT_EQ(outcome.exit_code, 0) << outcome.out;
  const auto json = boost::json::parse(outcome.out).as_object();
  EXPECT_EQ(json.at("status"), "completed");
  EXPECT_EQ(json.at("stdout"), "4.4.0 x\n");
}

TEST_F(CliTest, AnUnknownIsolationIsAUsageError) {
  const Outcome outcome = RunCli({"run", File("a.py", "print(1)"), "--lang", "python", "--version",
                                  "3.11", "--isolation", "vm"});
  EXPECT_NE(outcome.exit_code, 0);
  EXPECT_NE(outcome.out.find("--isolation"), std::string::npos) << outcome.out;
}

TEST_F(CliTest, JsonStatusForATimeout) {
  if (!Root()) GTEST_SKIP() << "the sandbox needs root";
  const Outcome outcome =
      CliStdoutOnly("run " + File("a.py", "import time\nprint('tick', flush=True)\ntime.sleep(9)") +
                    " --lang python --version 3.11 --json --timeout 300ms");
  EXPECT_EQ(outcome.exit_code, 1);
  const auto json = boost::json::parse(outcome.out).as_object();
  EXPECT_EQ(json.at("status"), "timed_out");
  EXPECT_EQ(json.at("stdout"), "tick\n");
  EXPECT_EQ(json.at("signal"), "SIGKILL");
  EXPECT_TRUE(json.at("exit_code").is_null());
}

TEST_F(CliTest, HumanOutputKeepsTheStreamsApart) {
  if (!Root()) GTEST_SKIP() << "the sandbox needs root";
  const std::string file = File(
      "a.py", "import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\nsys.exit(4)");
  const Outcome out = CliStdoutOnly("run " + file + " --lang python --version 3.11");
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.out, "to stdout\n");
  const Outcome all = RunCli({"run", file, "--lang", "python", "--version", "3.11"});
  EXPECT_NE(all.out.find("to stderr"), std::string::npos);
  EXPECT_NE(all.out.find("failed · exit code 4"), std::string::npos) << all.out;
}

TEST_F(CliTest, CompileErrorExitsNonZeroWithTheMessage) {
  if (!Root()) GTEST_SKIP() << "the sandbox needs root";
  const Outcome outcome =
      RunCli({"run", File("bad.c", "int main(void) { return }"), "--lang", "c", "--version", "12"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_NE(outcome.out.find("error:"), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("compile_error"), std::string::npos) << outcome.out;
}

TEST_F(CliTest, RuntimesListsEveryEntry) {
  const Outcome outcome = RunCli({"runtimes"});
  EXPECT_EQ(outcome.exit_code, 0);
  for (const char* name : {"Python 3.11", "Python 3.9 (PyPy)", "Node.js 20", "C (GCC 12)"}) {
    EXPECT_NE(outcome.out.find(name), std::string::npos) << name;
  }
  EXPECT_NE(outcome.out.find("runtimes available"), std::string::npos);
}

}  // namespace
}  // namespace integr8scode

namespace integr8scode {
namespace {

Outcome RunCliWithRuntimesDir(const fs::path& runtimes_dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/env", "INTEGR8SCODE_RUNTIMES_DIR=" + runtimes_dir.string(),
                             INTEGR8SCODE_BINARY});
  auto result = RunHostCommand(args, std::chrono::seconds(60));
  if (!result) return {-1, result.error().Describe()};
  return {result->exit_code, result->output};
}

TEST_F(CliTest, RuntimesNamesTheInstallCommandOfAMissingRootFilesystem) {
  const std::string trees = (dir_ / "no-trees").string();
  const Outcome outcome = RunCliWithRuntimesDir(trees, {"runtimes"});
  EXPECT_EQ(outcome.exit_code, 0) << outcome.out;
  for (const std::string& expected : std::vector<std::string>{
           "python-3.13", "debian trixie", "debian bullseye", "debian forky",
           "unavailable: root filesystem not installed (integr8scode runtimes install python-3.13)",
           "root filesystems: " + trees}) {
    EXPECT_NE(outcome.out.find(expected), std::string::npos) << expected << "\n" << outcome.out;
  }
}

TEST_F(CliTest, RuntimesInstallRefusesWhatItCannotBuild) {
  const Outcome unknown =
      RunCliWithRuntimesDir(dir_ / "trees", {"runtimes", "install", "cobol-85"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.out.find("no runtime 'cobol-85'; these have root filesystems: python-3.9"),
            std::string::npos)
      << unknown.out;
  const Outcome host =
      RunCliWithRuntimesDir(dir_ / "trees", {"runtimes", "install", "python-3.11"});
  EXPECT_EQ(host.exit_code, 2);
  EXPECT_NE(host.out.find("python-3.11 runs on the host's /usr; there is nothing to install"),
            std::string::npos)
      << host.out;
  EXPECT_FALSE(fs::exists(dir_ / "trees")) << "nothing built";
}

// A runtime with its own root filesystem is refused under gVisor before any sandbox
// is made (runsc is not needed to see it), naming the runtime and the way out.
TEST_F(CliTest, IsolationGvisorRefusesARootFilesystemRuntime) {
  const Outcome outcome = RunCli({"run", File("a.py", "print(1)"), "--lang", "python", "--version",
                                  "3.13", "--isolation", "gvisor"});
  EXPECT_EQ(outcome.exit_code, 2) << outcome.out;
  EXPECT_NE(outcome.out.find("python-3.13 has a root filesystem of its own (debian trixie)"),
            std::string::npos)
      << outcome.out;
  EXPECT_NE(outcome.out.find("isolation \"native\""), std::string::npos) << outcome.out;
  EXPECT_EQ(Lines(outcome.out), 1) << outcome.out;
}

}  // namespace
}  // namespace integr8scode
