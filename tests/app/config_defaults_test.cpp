// Every default of the configuration, written down once: the table below is checked
// against the code (a Config built from nothing equals one built from the table) and
// against docs/operations.md; and the options each component is given from a default
// Config are checked against that component's own defaults, so that the two cannot drift.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "app/component_options.hpp"
#include "app/config.hpp"
#include "catalog/catalog_loader.hpp"
#include "store/store_options.hpp"

namespace integr8scode {
namespace {

struct Default {
  std::string key;
  std::string value;       // as a flag would give it
  std::string documented;  // the default column of docs/operations.md; empty: prose there
};

// The one list of every key's default.
const std::vector<Default>& Defaults() {
  static const std::vector<Default> table = {
      {"server.listen", "127.0.0.1:8080", "127.0.0.1:8080"},
      {"server.data_dir", "data", ""},  // "./data", resolved against the working directory
      {"server.tls_cert", "", ""},
      {"server.tls_key", "", ""},
      {"server.io_threads", "2", "2"},
      {"server.thread_slice_us", "100", "100"},
      {"server.handler_threads", "0", ""},  // max(8, 2 × cores)
      {"server.max_body_bytes", "2M", "2M"},
      {"server.max_connections", "10000", "10000"},
      {"server.header_timeout", "10s", "10s"},
      {"server.body_timeout", "30s", "30s"},
      {"server.idle_timeout", "60s", "60s"},
      {"server.shutdown_grace", "10s", "10s"},
      {"server.sse_ping_interval", "15s", "15s"},
      {"server.sse_coalesce_window", "20ms", "20ms"},
      {"server.sse_coalesce_bytes", "64K", "64K"},
      {"server.web_root", "", ""},  // web/dist of the source tree, else an installed one
      {"server.role", "all", "all"},
      {"server.trust_proxy", "false", "false"},
      {"database.url", "", ""},  // SQLite in the data directory
      {"limits.max_script_bytes", "1M", "1M"},
      {"limits.max_stdin_bytes", "1M", "1M"},
      {"limits.default.memory", "128M", "128M"},
      {"limits.default.cpu", "1000m", "1000m"},
      {"limits.default.timeout", "5s", "5s"},
      {"limits.default.pids", "64", "64"},
      {"limits.default.output", "1M", "1M"},
      {"limits.default.tmpfs", "64M", "64M"},
      {"limits.default.file_size", "32M", "32M"},
      {"limits.default.open_files", "256", "256"},
      {"limits.maximum.memory", "512M", "512M"},
      {"limits.maximum.cpu", "2000m", "2000m"},
      {"limits.maximum.timeout", "30s", "30s"},
      {"limits.maximum.pids", "256", "256"},
      {"limits.maximum.output", "8M", "8M"},
      {"limits.maximum.tmpfs", "256M", "256M"},
      {"limits.maximum.file_size", "128M", "128M"},
      {"limits.maximum.open_files", "1024", "1024"},
      {"sandbox.kind", "local", "local"},
      {"sandbox.slots", "0", ""},  // the number of cores
      {"sandbox.cgroup_mode", "auto", "auto"},
      {"sandbox.cgroup_parent", "", ""},
      {"sandbox.cpu_weight", "100", "100"},
      {"sandbox.state_dir", "/run/integr8scode", "/run/integr8scode"},
      {"sandbox.first_uid", "61000", "61000"},
      {"sandbox.prebuild", "true", "true"},
      {"sandbox.warm", "true", "true"},
      {"sandbox.warm_zygote", "", ""},
      {"sandbox.warm_preload", "", "[]"},
      {"sandbox.isolation", "native", "native"},
      {"sandbox.gvisor_platform", "ptrace", "ptrace"},
      {"sandbox.gvisor_runsc", "/usr/bin/runsc", "/usr/bin/runsc"},
      {"kubernetes.api_url", "", ""},
      {"kubernetes.token_file", "/var/run/secrets/kubernetes.io/serviceaccount/token",
       "/var/run/secrets/kubernetes.io/serviceaccount/token"},
      {"kubernetes.ca_file", "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
       "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"},
      {"kubernetes.namespace", "", ""},
      {"kubernetes.runtime_class", "", ""},
      {"kubernetes.host_users", "false", "false"},
      {"kubernetes.max_pods", "10", "10"},
      {"kubernetes.start_timeout", "60s", "60s"},
      {"kubernetes.image_pull_policy", "IfNotPresent", "IfNotPresent"},
      {"kubernetes.node_selector", "", ""},
      {"kubernetes.tolerations", "", ""},
      {"kubernetes.helper_image", "ghcr.io/integr8scode/integr8scode:latest",
       "ghcr.io/integr8scode/integr8scode:latest"},
      {"kubernetes.worker_id", "", ""},
      {"queue.workers", "0", ""},  // sandbox.slots
      {"queue.capacity", "10000", "10000"},
      {"queue.retention", "0s", ""},  // `0` (keep)
      {"queue.max_attempts", "2", "2"},
      {"queue.anonymous_retention", "24h", "24h"},
      {"queue.lease", "15s", "15s"},
      {"queue.rescue_interval", "5s", "5s"},
      {"queue.poll_interval", "1s", "1s"},
      {"quotas.executions_per_user", "10000", "10000"},
      {"quotas.execution_bytes_per_user", "1G", "1G"},
      {"quotas.executions_per_address", "1000", "1000"},
      {"quotas.execution_bytes_per_address", "256M", "256M"},
      {"quotas.scripts_per_user", "1000", "1000"},
      {"quotas.script_bytes_per_user", "64M", "64M"},
      {"auth.jwt_secret", "", ""},
      {"auth.token_ttl", "24h", "24h"},
      {"auth.lockout_failures", "5", "5"},
      {"auth.lockout_duration", "15m", "15m"},
      {"auth.admin_username", "", ""},
      {"auth.admin_password", "", ""},
      {"auth.admin_email", "", ""},
      {"auth.argon2", "interactive", "interactive"},
      {"auth.hash_threads", "2", "2"},
      {"auth.hash_queue", "16", "16"},
      {"rate_limits.enabled", "true", "true"},
      {"rate_limits.execute_per_minute", "60", "60"},
      {"rate_limits.anonymous_execute_per_minute", "20", "20"},
      {"rate_limits.auth_per_minute", "20", "20"},
      {"rate_limits.other_per_minute", "600", "600"},
      {"rate_limits.max_keys", "100000", "100000"},
      {"metrics.bearer_token", "", ""},
      {"metrics.listen", "", ""},
      {"logging.level", "info", "info"},
      {"logging.format", "json", "json"},
      {"catalog", "", ""},
  };
  return table;
}

TEST(ConfigDefaults, TheTableNamesEveryKeyOnce) {
  std::multiset<std::string> table_keys;
  for (const Default& entry : Defaults()) table_keys.insert(entry.key);
  const std::vector<std::string> keys = ConfigKeys();
  EXPECT_EQ(table_keys, std::multiset<std::string>(keys.begin(), keys.end()));
}

TEST(ConfigDefaults, AConfigFromNothingHasTheTablesValues) {
  auto from_nothing = LoadConfig({});
  ASSERT_TRUE(from_nothing.has_value()) << from_nothing.error().message;
  ConfigSources every_default;
  for (const Default& entry : Defaults()) every_default.flags.emplace_back(entry.key, entry.value);
  auto from_table = LoadConfig(every_default);
  ASSERT_TRUE(from_table.has_value()) << from_table.error().message;
  EXPECT_TRUE(*from_nothing == *from_table);
  // Fields of the table that hide a difference in one section name it.
  EXPECT_TRUE(from_nothing->server == from_table->server);
  EXPECT_TRUE(from_nothing->limits == from_table->limits);
  EXPECT_TRUE(from_nothing->sandbox == from_table->sandbox);
  EXPECT_TRUE(from_nothing->kubernetes == from_table->kubernetes);
  EXPECT_TRUE(from_nothing->queue == from_table->queue);
  EXPECT_TRUE(from_nothing->quotas == from_table->quotas);
  EXPECT_TRUE(from_nothing->auth == from_table->auth);
  EXPECT_TRUE(from_nothing->rate_limits == from_table->rate_limits);
}

// The row of docs/operations.md whose first cell names `key`, as its cells.
std::vector<std::string> DocumentedRow(const std::string& document, const std::string& key) {
  std::istringstream lines(document);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("| `" + key + "`")) continue;
    std::vector<std::string> cells;
    std::istringstream parts(line.substr(1));
    for (std::string cell; std::getline(parts, cell, '|');) {
      const auto begin = cell.find_first_not_of(' ');
      const auto end = cell.find_last_not_of(' ');
      cells.push_back(begin == std::string::npos ? "" : cell.substr(begin, end - begin + 1));
    }
    return cells;
  }
  return {};
}

TEST(ConfigDefaults, DocsOperationsStatesTheSameDefaults) {
  std::ifstream file(std::string(INTEGR8SCODE_SOURCE_DIR) + "/docs/operations.md");
  ASSERT_TRUE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  const std::string document = text.str();
  for (const Default& entry : Defaults()) {
    if (entry.documented.empty()) continue;
    // [limits.default] and [limits.maximum] share a row: default, then maximum default.
    std::string row_key = entry.key;
    std::size_t column = 1;
    if (entry.key.starts_with("limits.default.") || entry.key.starts_with("limits.maximum.")) {
      const std::string field = entry.key.substr(entry.key.rfind('.') + 1);
      row_key = "limits.default." + field + "` / `limits.maximum." + field;
      column = entry.key.starts_with("limits.maximum.") ? 2 : 1;
    }
    const std::vector<std::string> row = DocumentedRow(document, row_key);
    ASSERT_GT(row.size(), column) << entry.key << " has no row in docs/operations.md";
    EXPECT_EQ(row[column], "`" + entry.documented + "`") << entry.key;
  }
}

TEST(ComponentDefaults, TheApiGetsItsOwnDefaults) {
  EXPECT_TRUE(ApiOptionsFrom(Config{}) == ApiOptions{});
  EXPECT_EQ(ApiOptions{}.handler_threads, 0u);  // resolved by the server, once
  EXPECT_GE(DefaultHandlerThreads(), 8u);
}

TEST(ComponentDefaults, TheSandboxGetsItsOwnDefaults) {
  // Warm starts are on by default: the zygotes are the ones beside this binary; everything
  // else is the executor's own default.
  SandboxOptions defaults = SandboxOptionsFrom(Config{});
  EXPECT_EQ(defaults.warm_zygote.filename(), "integr8scode-python-zygote");
  EXPECT_EQ(defaults.node_zygote_dir.filename(), "integr8scode-node-zygote");
  EXPECT_EQ(defaults.node_zygote_dir.parent_path(), defaults.warm_zygote.parent_path());
  defaults.warm_zygote.clear();
  defaults.node_zygote_dir.clear();
  EXPECT_TRUE(defaults == SandboxOptions{});
  // warm_zygote means "use this zygote" only with sandbox.warm.
  Config warm;
  warm.sandbox.warm = true;
  warm.sandbox.warm_zygote = "/opt/zygote";
  EXPECT_EQ(SandboxOptionsFrom(warm).warm_zygote, "/opt/zygote");
  Config cold;
  cold.sandbox.warm = false;
  cold.sandbox.warm_zygote = "/opt/zygote";
  EXPECT_TRUE(SandboxOptionsFrom(cold).warm_zygote.empty());
  EXPECT_TRUE(SandboxOptionsFrom(cold).node_zygote_dir.empty());
}

TEST(ComponentDefaults, TheServicesGetTheirOwnDefaults) {
  const Config config;
  const ServiceOptions built = ServiceOptionsFrom(config);
  const ServiceOptions own;
  EXPECT_EQ(built.default_limits, own.default_limits);
  EXPECT_EQ(built.maximum_limits, own.maximum_limits);
  EXPECT_EQ(built.maximum_limits, kDefaultMaximumLimits);
  EXPECT_EQ(built.max_script_bytes, own.max_script_bytes);
  EXPECT_EQ(built.max_stdin_bytes, own.max_stdin_bytes);
  EXPECT_EQ(built.anonymous_retention, own.anonymous_retention);
  EXPECT_TRUE(built.queue == own.queue);
  EXPECT_TRUE(built.quotas == own.quotas);
  AuthOptions own_auth = own.auth;
  own_auth.data_dir = config.server.data_dir;  // the one field the services have no default for
  EXPECT_TRUE(built.auth == own_auth);
}

TEST(ComponentDefaults, TheKubernetesExecutorGetsItsOwnDefaults) {
  auto built = KubernetesOptionsFrom(Config{});
  ASSERT_TRUE(built.has_value()) << built.error().message;
  const KubernetesOptions own;
  const PodSettings own_pod;
  EXPECT_EQ(built->max_pods, own.max_pods);
  EXPECT_EQ(built->pod.host_users, own_pod.host_users);
  EXPECT_EQ(built->pod.image_pull_policy, own_pod.image_pull_policy);
  EXPECT_EQ(built->pod.helper_image, own_pod.helper_image);
  EXPECT_EQ(built->pod.start_timeout, own_pod.start_timeout);
  EXPECT_EQ(built->pod.runtime_class, own_pod.runtime_class);
  EXPECT_EQ(built->api.request_timeout, own.api.request_timeout);
  EXPECT_EQ(built->api.max_attempts, own.api.max_attempts);
}

TEST(ComponentDefaults, TheStoreHasOneSetOfOptions) {
  // OpenStores and the SQL pools under it take the same type: nothing to copy, nothing to
  // drift. Its defaults as docs/store.md states them.
  const StoreOptions own;
  EXPECT_EQ(own.pool_size, 4u);
  EXPECT_EQ(own.busy_timeout_ms, 5000);
  EXPECT_EQ(own.connect_timeout_s, 5);
}

TEST(CatalogPath, FlagThenEnvironmentThenFileThenDefault) {
  Config config;
  EXPECT_EQ(CatalogPathFrom("", config), DefaultCatalogPath());
  config.catalog = "/from/config.toml";
  EXPECT_EQ(CatalogPathFrom("", config), "/from/config.toml");
  EXPECT_EQ(CatalogPathFrom("/from/flag.toml", config), "/from/flag.toml");
}

TEST(CatalogPath, TheEnvironmentOutranksTheFile) {
  const std::string dir = ::testing::TempDir();
  const std::string file = dir + "/catalog-precedence.toml";
  std::ofstream(file) << "catalog = \"/from/file.toml\"\n";
  ConfigSources sources;
  sources.file = file;
  auto from_file = LoadConfig(sources);
  ASSERT_TRUE(from_file.has_value()) << from_file.error().message;
  EXPECT_EQ(CatalogPathFrom("", *from_file), "/from/file.toml");
  sources.env = {{"INTEGR8SCODE_CATALOG", "/from/env.toml"}};
  auto from_env = LoadConfig(sources);
  ASSERT_TRUE(from_env.has_value()) << from_env.error().message;
  EXPECT_EQ(CatalogPathFrom("", *from_env), "/from/env.toml");
  EXPECT_EQ(CatalogPathFrom("/from/flag.toml", *from_env), "/from/flag.toml");
}

}  // namespace
}  // namespace integr8scode
