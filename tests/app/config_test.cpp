#include "app/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>

namespace integr8scode {
namespace {

namespace fs = std::filesystem;

ConfigSources FromFile(fs::path file) {
  ConfigSources sources;
  sources.file = std::move(file);
  return sources;
}
ConfigSources FromEnv(std::vector<std::pair<std::string, std::string>> env) {
  ConfigSources sources;
  sources.env = std::move(env);
  return sources;
}
ConfigSources FromFlags(std::vector<std::pair<std::string, std::string>> flags) {
  ConfigSources sources;
  sources.flags = std::move(flags);
  return sources;
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("config-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& text) {
    const fs::path file = dir_ / "integr8scode.toml";
    std::ofstream(file) << text;
    return file;
  }

  fs::path dir_;
};

TEST_F(ConfigTest, KubernetesExecutorTakesTheClusterFromTheEnvironment) {
  auto config = LoadConfig(FromEnv({{"INTEGR8SCODE_SANDBOX_KIND", "kubernetes"},
                                    {"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                                    {"KUBERNETES_SERVICE_PORT", "443"},
                                    {"HOSTNAME", "worker-7f9c"},
                                    {"INTEGR8SCODE_KUBERNETES_MAX_PODS", "25"},
                                    {"INTEGR8SCODE_KUBERNETES_RUNTIME_CLASS", "gvisor"}}));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->sandbox.kind, "kubernetes");
  EXPECT_EQ(config->kubernetes.api_url, "https://10.96.0.1:443");
  EXPECT_EQ(config->kubernetes.worker_id, "worker-7f9c");
  EXPECT_EQ(config->kubernetes.runtime_class, "gvisor");
  EXPECT_FALSE(config->kubernetes.host_users);
  EXPECT_EQ(config->queue.workers, 25u);  // as many workers as pods
}

TEST_F(ConfigTest, KubernetesExecutorOutsideAClusterNeedsAnApiUrl) {
  auto config = LoadConfig(FromFlags({{"sandbox.kind", "kubernetes"}}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("kubernetes.api_url"), std::string::npos)
      << config.error().message;
  auto refused = LoadConfig(
      FromFlags({{"sandbox.kind", "kubernetes"}, {"kubernetes.image_pull_policy", "Sometimes"}}));
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("IfNotPresent"), std::string::npos);
}

TEST_F(ConfigTest, DefaultsMakeAWorkingLaptopSetup) {
  auto config = LoadConfig({});
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->server.listen_host, "127.0.0.1");
  EXPECT_EQ(config->server.listen_port, 8080);
  EXPECT_TRUE(config->server.data_dir.is_absolute());
  EXPECT_EQ(config->server.data_dir.filename(), "data");
  EXPECT_EQ(config->database.url,
            "sqlite://" + (config->server.data_dir / "integr8scode.db").string());
  EXPECT_EQ(config->limits.defaults, Limits{});
  EXPECT_EQ(config->rate_limits.execute_per_minute, 60u);
  EXPECT_LT(config->rate_limits.anonymous_execute_per_minute,
            config->rate_limits.execute_per_minute);
  EXPECT_GE(config->sandbox.slots, 1u);
  EXPECT_EQ(config->queue.workers, config->sandbox.slots);
  EXPECT_FALSE(config->Tls());
  EXPECT_FALSE(config->server.web_root.empty());
  EXPECT_TRUE(config->sandbox.warm);  // it passes what cold passes (docs/warm-starts.md)
}

TEST_F(ConfigTest, FileSetsEveryKindOfValue) {
  auto config = LoadConfig(FromFile(Write(R"(
catalog = "/opt/catalog.toml"
[server]
listen = "[::1]:9000"
data_dir = "/var/lib/integr8scode"
io_threads = 3
max_body_bytes = "4M"
header_timeout = "2s"
idle_timeout = 30
trust_proxy = true
[limits]
max_script_bytes = "512K"
[limits.default]
memory = "64M"
cpu = "500m"
timeout = "3s"
[limits.maximum]
memory = "1G"
cpu = 2
[queue]
retention = "168h"
[sandbox]
warm = false
warm_zygote = "/opt/integr8scode/integr8scode-python-zygote"
[auth]
argon2 = "min"
[logging]
level = "debug"
format = "text"
)")));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->catalog, "/opt/catalog.toml");
  EXPECT_EQ(config->server.listen_host, "::1");
  EXPECT_EQ(config->server.listen_port, 9000);
  EXPECT_EQ(config->server.data_dir, "/var/lib/integr8scode");
  EXPECT_EQ(config->server.io_threads, 3u);
  EXPECT_EQ(config->server.max_body_bytes, 4ull << 20);
  EXPECT_EQ(config->server.header_timeout, std::chrono::seconds(2));
  EXPECT_EQ(config->server.idle_timeout, std::chrono::seconds(30));
  EXPECT_TRUE(config->server.trust_proxy);
  EXPECT_EQ(config->limits.max_script_bytes, 512u << 10);
  EXPECT_EQ(config->limits.defaults.memory_bytes, 64ull << 20);
  EXPECT_EQ(config->limits.defaults.cpu_millicores, 500u);
  EXPECT_EQ(config->limits.defaults.timeout, std::chrono::seconds(3));
  EXPECT_EQ(config->limits.maximum.memory_bytes, 1ull << 30);
  EXPECT_EQ(config->limits.maximum.cpu_millicores, 2000u);
  EXPECT_EQ(config->queue.retention, std::chrono::hours(168));
  EXPECT_FALSE(config->sandbox.warm);
  EXPECT_EQ(config->sandbox.warm_zygote, "/opt/integr8scode/integr8scode-python-zygote");
  EXPECT_EQ(config->auth.argon2, "min");
  EXPECT_EQ(config->logging.level, LogLevel::kDebug);
  EXPECT_EQ(config->logging.format, LogFormat::kText);
}

TEST_F(ConfigTest, IsolationIsNativeUnlessGvisorIsChosen) {
  auto defaults = LoadConfig(FromFile(Write("")));
  ASSERT_TRUE(defaults.has_value()) << defaults.error().message;
  EXPECT_EQ(defaults->sandbox.isolation, "native");
  EXPECT_EQ(defaults->sandbox.gvisor_platform, "ptrace");
  auto config = LoadConfig(FromFile(Write(R"(
[sandbox]
isolation = "gvisor"
gvisor_platform = "kvm"
gvisor_runsc = "/usr/local/bin/runsc"
)")));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->sandbox.isolation, "gvisor");
  EXPECT_EQ(config->sandbox.gvisor_platform, "kvm");
  EXPECT_EQ(config->sandbox.gvisor_runsc, "/usr/local/bin/runsc");
}

TEST_F(ConfigTest, FlagsWinOverEnvironmentWhichWinsOverTheFile) {
  const fs::path file = Write(
      "[server]\nlisten = \"127.0.0.1:1000\"\n[rate_limits]\nexecute_per_minute = 10\n"
      "auth_per_minute = 11\n");
  ConfigSources sources;
  sources.file = file;
  sources.env = {{"INTEGR8SCODE_SERVER_LISTEN", "127.0.0.1:2000"},
                 {"INTEGR8SCODE_RATE_LIMITS_EXECUTE_PER_MINUTE", "20"},
                 {"PATH", "/usr/bin"}};
  sources.flags = {{"server.listen", "127.0.0.1:3000"}};
  auto config = LoadConfig(sources);
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->server.listen_port, 3000);             // flag
  EXPECT_EQ(config->rate_limits.execute_per_minute, 20u);  // environment
  EXPECT_EQ(config->rate_limits.auth_per_minute, 11u);     // file
  EXPECT_EQ(config->rate_limits.other_per_minute, 600u);   // default
}

TEST_F(ConfigTest, ConfigFileCanBeNamedByTheEnvironment) {
  const fs::path file = Write("[queue]\ncapacity = 77\n");
  auto config = LoadConfig(FromEnv({{"INTEGR8SCODE_CONFIG", file.string()}}));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->queue.capacity, 77u);
}

TEST_F(ConfigTest, UnknownFileKeyIsAnErrorNamingTheKey) {
  auto config = LoadConfig(FromFile(Write("[server]\nlisten_addr = \"127.0.0.1:1\"\n")));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("unknown key 'server.listen_addr'"), std::string::npos)
      << config.error().message;
  EXPECT_NE(config.error().message.find("did you mean 'server.listen'"), std::string::npos)
      << config.error().message;

  config = LoadConfig(FromFile(Write("[severs]\nx = 1\n")));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("'severs.x'"), std::string::npos) << config.error().message;
}

TEST_F(ConfigTest, UnknownEnvironmentVariableIsAnError) {
  auto config = LoadConfig(FromEnv({{"INTEGR8SCODE_SERVER_LISTN", "127.0.0.1:1"}}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("INTEGR8SCODE_SERVER_LISTN"), std::string::npos);
  EXPECT_NE(config.error().message.find("INTEGR8SCODE_SERVER_LISTEN"), std::string::npos)
      << config.error().message;
}

TEST_F(ConfigTest, VariablesOutsideTheSectionsAreNotSettings) {
  // A test harness's own variables, inherited by servers it starts, are left alone.
  auto config = LoadConfig(FromEnv({{"INTEGR8SCODE_TEST_POSTGRES_URL", "postgres://x"},
                                    {"INTEGR8SCODE_BIN", "/usr/bin/integr8scode"}}));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  auto typo = LoadConfig(FromEnv({{"INTEGR8SCODE_RATE_LIMITS_EXECUTE_PER_MINUT", "5"}}));
  ASSERT_FALSE(typo.has_value());
  EXPECT_NE(typo.error().message.find("INTEGR8SCODE_RATE_LIMITS_EXECUTE_PER_MINUTE"),
            std::string::npos)
      << typo.error().message;
}

TEST_F(ConfigTest, CatalogVariableIsASetting) {
  auto config = LoadConfig(FromEnv({{"INTEGR8SCODE_CATALOG", "/tmp/c.toml"}}));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->catalog, "/tmp/c.toml");
}

TEST_F(ConfigTest, WrongTypesAndValuesAreErrors) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"[server]\nio_threads = \"many\"\n", "server.io_threads"},
      {"[server]\nio_threads = 0\n", "server.io_threads"},
      {"[server]\nlisten = \"localhost\"\n", "server.listen"},
      {"[server]\nlisten = \"127.0.0.1:70000\"\n", "server.listen"},
      {"[server]\ntrust_proxy = \"perhaps\"\n", "server.trust_proxy"},
      {"[limits.default]\nmemory = \"lots\"\n", "limits.default.memory"},
      {"[limits.default]\ncpu = \"2x\"\n", "limits.default.cpu"},
      {"[sandbox]\ncgroup_mode = \"v3\"\n", "sandbox.cgroup_mode"},
      {"[sandbox]\nisolation = \"firecracker\"\n", "sandbox.isolation"},
      {"[sandbox]\ngvisor_platform = \"vmx\"\n", "sandbox.gvisor_platform"},
      {"[logging]\nlevel = \"loud\"\n", "logging.level"},
      {"[server]\nlisten = [\"a\"]\n", "server.listen"},
      {"[auth]\nargon2 = \"max\"\n", "auth.argon2"},
      {"[server]\nsse_coalesce_window = \"2s\"\n", "server.sse_coalesce_window"},
      {"[server]\nsse_coalesce_bytes = \"100\"\n", "server.sse_coalesce_bytes"},
      {"[server]\nsse_coalesce_bytes = \"4M\"\n", "server.sse_coalesce_bytes"},
  };
  for (const auto& [text, key] : bad) {
    auto config = LoadConfig(FromFile(Write(text)));
    ASSERT_FALSE(config.has_value()) << text;
    EXPECT_NE(config.error().message.find(key), std::string::npos) << config.error().message;
  }
}

// sandbox.warm_preload (docs/warm-starts.md): a TOML list, or names separated by commas
// in the environment and on the command line; empty by default.
TEST_F(ConfigTest, PreloadedModulesAreAListOfModuleNames) {
  auto from_nothing = LoadConfig({});
  ASSERT_TRUE(from_nothing.has_value()) << from_nothing.error().message;
  EXPECT_TRUE(from_nothing->sandbox.warm_preload.empty());
  const std::vector<std::string> expected = {"json", "re", "xml.etree.ElementTree", "_io"};
  auto from_file = LoadConfig(FromFile(
      Write("[sandbox]\nwarm_preload = [\"json\", \"re\", \"xml.etree.ElementTree\", \"_io\"]\n")));
  ASSERT_TRUE(from_file.has_value()) << from_file.error().message;
  EXPECT_EQ(from_file->sandbox.warm_preload, expected);
  auto from_env = LoadConfig(
      FromEnv({{"INTEGR8SCODE_SANDBOX_WARM_PRELOAD", "json, re,xml.etree.ElementTree,_io"}}));
  ASSERT_TRUE(from_env.has_value()) << from_env.error().message;
  EXPECT_EQ(from_env->sandbox.warm_preload, expected);
  auto from_flag =
      LoadConfig(FromFlags({{"sandbox.warm_preload", "json,re,xml.etree.ElementTree,_io"}}));
  ASSERT_TRUE(from_flag.has_value()) << from_flag.error().message;
  EXPECT_EQ(from_flag->sandbox.warm_preload, expected);
  auto empty = LoadConfig(FromFile(Write("[sandbox]\nwarm_preload = []\n")));
  ASSERT_TRUE(empty.has_value()) << empty.error().message;
  EXPECT_TRUE(empty->sandbox.warm_preload.empty());
}

TEST_F(ConfigTest, APreloadedNameThatIsNoModuleNameIsAnErrorNamingIt) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"warm_preload = [\"json\", \"os.path; import os\"]",
       "'os.path; import os' is not a module name"},
      {"warm_preload = [\"1abc\"]", "'1abc' is not a module name"},
      {"warm_preload = [\"json.\"]", "'json.' is not a module name"},
      {"warm_preload = [\".json\"]", "'.json' is not a module name"},
      {"warm_preload = [\"\"]", "'' is not a module name"},
      {"warm_preload = [\"../etc/x\"]", "'../etc/x' is not a module name"},
      {"warm_preload = [\"jsön\"]", "'jsön' is not a module name"},
      {"warm_preload = [\"json\", 3]", "every item of the list must be a string"},
      {"warm_preload = 3", "is not a list of module names"},
  };
  for (const auto& [line, message] : bad) {
    auto config = LoadConfig(FromFile(Write("[sandbox]\n" + line + "\n")));
    ASSERT_FALSE(config.has_value()) << line;
    EXPECT_NE(config.error().message.find("sandbox.warm_preload"), std::string::npos)
        << config.error().message;
    EXPECT_NE(config.error().message.find(message), std::string::npos) << config.error().message;
  }
  auto trailing = LoadConfig(FromEnv({{"INTEGR8SCODE_SANDBOX_WARM_PRELOAD", "json,"}}));
  ASSERT_FALSE(trailing.has_value());
  EXPECT_NE(trailing.error().message.find("INTEGR8SCODE_SANDBOX_WARM_PRELOAD"), std::string::npos)
      << trailing.error().message;
  std::string many;
  for (int i = 0; i < 65; ++i) many += "m" + std::to_string(i) + ",";
  many.pop_back();
  auto too_many = LoadConfig(FromFlags({{"sandbox.warm_preload", many}}));
  ASSERT_FALSE(too_many.has_value());
  EXPECT_NE(too_many.error().message.find("at most 64"), std::string::npos)
      << too_many.error().message;
}

TEST_F(ConfigTest, EventStreamCoalescingCanBeTunedOrTurnedOff) {
  auto config =
      LoadConfig(FromFile(Write("[server]\nsse_coalesce_window = \"50ms\"\n"
                                "sse_coalesce_bytes = \"16K\"\n")));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->server.sse_coalesce_window, std::chrono::milliseconds(50));
  EXPECT_EQ(config->server.sse_coalesce_bytes, 16u << 10);
  config = LoadConfig(FromFile(Write("[server]\nsse_coalesce_window = 0\n")));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->server.sse_coalesce_window, std::chrono::milliseconds(0));
  config = LoadConfig(FromFile(Write("")));
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->server.sse_coalesce_window, std::chrono::milliseconds(20));
  EXPECT_EQ(config->server.sse_coalesce_bytes, 64u << 10);
}

TEST_F(ConfigTest, SyntaxErrorsSayWhere) {
  auto config = LoadConfig(FromFile(Write("[server\nlisten = 1\n")));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("integr8scode.toml:1:"), std::string::npos)
      << config.error().message;
}

TEST_F(ConfigTest, ContradictionsAreErrors) {
  auto config = LoadConfig(
      FromFile(Write("[limits.default]\nmemory = \"1G\"\n[limits.maximum]\nmemory = \"512M\"\n")));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("limits.default"), std::string::npos)
      << config.error().message;

  const fs::path cert = dir_ / "cert.pem";
  std::ofstream(cert) << "x";
  config = LoadConfig(FromFlags({{"server.tls_cert", cert.string()}}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("tls_key"), std::string::npos) << config.error().message;

  config = LoadConfig(FromFlags(
      {{"server.tls_cert", cert.string()}, {"server.tls_key", (dir_ / "nope").string()}}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("cannot read TLS file"), std::string::npos)
      << config.error().message;

  config = LoadConfig(FromFlags({{"auth.admin_username", "root"}}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("admin_password"), std::string::npos);

  config = LoadConfig(FromFlags({{"limits.max_script_bytes", "8M"}}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("max_body_bytes"), std::string::npos);
}

TEST_F(ConfigTest, UnreadableFileIsAnError) {
  auto config = LoadConfig(FromFile(dir_ / "missing.toml"));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("missing.toml"), std::string::npos)
      << config.error().message;
}

TEST(ConfigKeys, EnvironmentNamesAreUniqueAndFollowTheConvention) {
  std::set<std::string> names;
  for (const std::string& key : ConfigKeys()) {
    EXPECT_TRUE(names.insert(EnvironmentName(key)).second) << key;
  }
  EXPECT_EQ(EnvironmentName("rate_limits.execute_per_minute"),
            "INTEGR8SCODE_RATE_LIMITS_EXECUTE_PER_MINUTE");
  EXPECT_EQ(EnvironmentName("server.listen"), "INTEGR8SCODE_SERVER_LISTEN");
  EXPECT_TRUE(names.contains("INTEGR8SCODE_CATALOG"));
}

TEST(ConfigKeys, EveryKeyIsDocumentedInOperationsGuide) {
  std::ifstream file(std::string(INTEGR8SCODE_SOURCE_DIR) + "/docs/operations.md");
  ASSERT_TRUE(file) << "docs/operations.md not found";
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  for (const std::string& key : ConfigKeys()) {
    EXPECT_NE(text.find("`" + key + "`"), std::string::npos)
        << key << " is not in docs/operations.md";
  }
}

TEST(ListenAddress, ParsesHostsAndPorts) {
  auto v4 = ParseListenAddress("0.0.0.0:80");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->first, "0.0.0.0");
  EXPECT_EQ(v4->second, 80);
  auto v6 = ParseListenAddress("[::]:8443");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->first, "::");
  EXPECT_EQ(v6->second, 8443);
  EXPECT_FALSE(ParseListenAddress("::1:80").has_value());
  EXPECT_FALSE(ParseListenAddress(":80").has_value());
  EXPECT_FALSE(ParseListenAddress("host:").has_value());
  EXPECT_FALSE(ParseListenAddress("host:8o").has_value());
}

}  // namespace
}  // namespace integr8scode
