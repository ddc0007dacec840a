#include "sandbox/gvisor_bundle.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <map>

namespace integr8scode {
namespace {

LaunchSpec GvisorSpec() {
  LaunchSpec spec;
  spec.uid = 61002;
  spec.gid = 61002;
  spec.gvisor_runsc = "/usr/bin/runsc";
  spec.gvisor_platform = "ptrace";
  StepSpec step;
  step.argv = {"/usr/bin/python3", "-c", "print(\"a\\\\b\")\n\x01"};
  step.env = {"PATH=/usr/bin", "LANG=C.UTF-8"};
  step.file_size_bytes = 32ull << 20;
  step.open_files = 256;
  step.processes = 64;
  step.cpu_seconds = 6;
  spec.steps = {step};
  return spec;
}

TEST(GvisorBundle, TheConfigIsValidJsonCarryingTheStep) {
  const LaunchSpec spec = GvisorSpec();
  const boost::json::value config = boost::json::parse(GvisorConfigJson(spec, spec.steps[0]));
  const auto& process = config.at("process");
  EXPECT_EQ(process.at("user").at("uid").as_int64(), 61002);
  EXPECT_EQ(process.at("user").at("gid").as_int64(), 61002);
  // Quotes, backslashes and control characters survive the escaping.
  ASSERT_EQ(process.at("args").as_array().size(), 3u);
  EXPECT_EQ(process.at("args").as_array()[2].as_string(), spec.steps[0].argv[2]);
  EXPECT_EQ(process.at("env").as_array()[1].as_string(), "LANG=C.UTF-8");
  EXPECT_EQ(process.at("cwd").as_string(), "/home/sandbox");
  EXPECT_TRUE(process.at("noNewPrivileges").as_bool());
  EXPECT_TRUE(process.at("capabilities").at("bounding").as_array().empty());
  std::map<std::string, std::int64_t> rlimits;
  for (const auto& limit : process.at("rlimits").as_array()) {
    EXPECT_EQ(limit.at("soft"), limit.at("hard"));
    rlimits[std::string(limit.at("type").as_string())] = limit.at("hard").to_number<std::int64_t>();
  }
  EXPECT_EQ(rlimits["RLIMIT_FSIZE"], 32ll << 20);
  EXPECT_EQ(rlimits["RLIMIT_NOFILE"], 256);
  EXPECT_EQ(rlimits["RLIMIT_CPU"], 6);
  EXPECT_EQ(config.at("root").at("path").as_string(), "/");
  EXPECT_TRUE(config.at("root").at("readonly").as_bool());
  EXPECT_EQ(config.at("hostname").as_string(), "sandbox");
  std::map<std::string, std::string> mounts;
  for (const auto& mount : config.at("mounts").as_array()) {
    mounts[std::string(mount.at("destination").as_string())] =
        std::string(mount.at("type").as_string());
  }
  EXPECT_EQ(mounts["/proc"], "proc");
  EXPECT_EQ(mounts["/home/sandbox"], "bind");
  EXPECT_EQ(mounts["/tmp"], "bind");
  EXPECT_EQ(mounts[kGvisorDir], "tmpfs");  // the bundle is hidden from the program
  // No cgroupsPath: runsc must leave the slot's cgroup, which accounts for it, alone.
  EXPECT_FALSE(config.at("linux").as_object().contains("cgroupsPath"));
}

TEST(GvisorBundle, RunscGetsThePlatformAndNoNetwork) {
  const auto argv = GvisorArgv(GvisorSpec());
  ASSERT_FALSE(argv.empty());
  EXPECT_EQ(argv[0], "/usr/bin/runsc");
  const auto has = [&](const std::string& arg) {
    return std::find(argv.begin(), argv.end(), arg) != argv.end();
  };
  EXPECT_TRUE(has("--platform=ptrace"));
  EXPECT_TRUE(has("--network=none"));
  EXPECT_TRUE(has("--ignore-cgroups"));
  EXPECT_TRUE(has("run"));
}

TEST(GvisorBundle, RunscsSignalExitReadsAsTheSignal) {
  const int killed = GvisorWaitStatus(W_EXITCODE(128 + SIGKILL, 0));
  EXPECT_TRUE(WIFSIGNALED(killed));
  EXPECT_EQ(WTERMSIG(killed), SIGKILL);
  const int xcpu = GvisorWaitStatus(W_EXITCODE(128 + SIGXCPU, 0));
  EXPECT_EQ(WTERMSIG(xcpu), SIGXCPU);
  for (const int code : {0, 1, 7, 127, 128}) {
    const int status = GvisorWaitStatus(W_EXITCODE(code, 0));
    EXPECT_TRUE(WIFEXITED(status)) << code;
    EXPECT_EQ(WEXITSTATUS(status), code);
  }
  EXPECT_EQ(GvisorWaitStatus(SIGTERM), SIGTERM);  // already a signal: unchanged
}

TEST(GvisorBundle, TheIsolationCrossesToTheInitAndDecidesFit) {
  const LaunchSpec spec = GvisorSpec();
  auto back = LaunchSpec::Deserialize(spec.Serialize());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->gvisor_runsc, "/usr/bin/runsc");
  EXPECT_EQ(back->gvisor_platform, "ptrace");
  EXPECT_TRUE(LaunchSpec::Fits(spec, *back));
  LaunchSpec native = spec;
  native.gvisor_runsc.clear();
  native.gvisor_platform.clear();
  EXPECT_FALSE(LaunchSpec::Fits(native, spec));  // a sandbox built ahead is one or the other
}

}  // namespace
}  // namespace integr8scode
