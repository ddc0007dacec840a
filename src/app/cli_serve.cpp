// `integr8scode serve`: wiring only. Load the configuration, set up logging, create the
// sandbox (before any thread exists: it forks its spawner), load and probe the
// catalog, open the stores, start the services and the HTTP server, then wait for
// SIGTERM/SIGINT and shut down in order.
#include <fmt/format.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "api/api_server.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"
#include "catalog/availability.hpp"
#include "catalog/catalog_loader.hpp"
#include "catalog/probe.hpp"
#include "common/log.hpp"
#include "common/private_files.hpp"
#include "common/try.hpp"
#include "k8s/pod_executor.hpp"
#include "metrics/metrics.hpp"
#include "sandbox/local_executor.hpp"
#include "service/services.hpp"
#include "store/open_store.hpp"
#include "store/store_url.hpp"

namespace integr8scode {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct ServeFlags {
  std::string config_file;
  std::string listen;
  std::string data_dir;
  std::string tls_cert;
  std::string tls_key;
  std::string role;
  std::vector<std::string> settings;  // KEY=VALUE
};

Result<ConfigSources> Sources(const ServeFlags& flags) {
  ConfigSources sources;
  if (!flags.config_file.empty()) sources.file = fs::path(flags.config_file);
  sources.env = ProcessEnvironment();
  for (const std::string& setting : flags.settings) {
    const std::size_t equals = setting.find('=');
    if (equals == std::string::npos || equals == 0) {
      return Fail(
          ErrorCode::kInvalidArgument,
          fmt::format("--set '{}': use KEY=VALUE, e.g. --set rate_limits.enabled=false", setting));
    }
    sources.flags.emplace_back(setting.substr(0, equals), setting.substr(equals + 1));
  }
  if (!flags.listen.empty()) sources.flags.emplace_back("server.listen", flags.listen);
  if (!flags.data_dir.empty()) sources.flags.emplace_back("server.data_dir", flags.data_dir);
  if (!flags.tls_cert.empty()) sources.flags.emplace_back("server.tls_cert", flags.tls_cert);
  if (!flags.tls_key.empty()) sources.flags.emplace_back("server.tls_key", flags.tls_key);
  if (!flags.role.empty()) sources.flags.emplace_back("server.role", flags.role);
  return sources;
}

PasswordHashCost HashCost(const std::string& name) {
  if (name == "min") return PasswordHashCost::Min();
  if (name == "moderate") return PasswordHashCost::Moderate();
  return PasswordHashCost::Interactive();
}

ServiceOptions ServiceOptionsFrom(const Config& config) {
  ServiceOptions options;
  options.default_limits = config.limits.defaults;
  options.maximum_limits = config.limits.maximum;
  options.max_script_bytes = config.limits.max_script_bytes;
  options.max_stdin_bytes = config.limits.max_stdin_bytes;
  options.queue.workers = config.queue.workers;
  options.queue.capacity = config.queue.capacity;
  options.queue.retention = config.queue.retention;
  options.queue.max_attempts = config.queue.max_attempts;
  options.anonymous_retention = config.queue.anonymous_retention;
  options.quotas = config.quotas;
  options.queue.lease = config.queue.lease;
  options.queue.rescue_interval = config.queue.rescue_interval;
  options.queue.poll_interval = config.queue.poll_interval;
  options.auth.jwt_secret = config.auth.jwt_secret;
  options.auth.data_dir = config.server.data_dir;
  options.auth.token_lifetime =
      std::chrono::duration_cast<std::chrono::seconds>(config.auth.token_ttl);
  options.auth.password_hash = HashCost(config.auth.argon2);
  options.auth.lockout_failures = config.auth.lockout_failures;
  options.auth.lockout_duration = config.auth.lockout_duration;
  options.auth.admin_username = config.auth.admin_username;
  options.auth.admin_password = config.auth.admin_password;
  options.auth.admin_email = config.auth.admin_email;
  return options;
}

ApiOptions ApiOptionsFrom(const Config& config) {
  ApiOptions options;
  const ServerConfig& server = config.server;
  options.http.host = server.listen_host;
  options.http.port = server.listen_port;
  options.http.io_threads = server.io_threads;
  options.http.max_body_bytes = server.max_body_bytes;
  options.http.max_connections = server.max_connections;
  options.http.header_timeout = server.header_timeout;
  options.http.body_timeout = server.body_timeout;
  options.http.idle_timeout = server.idle_timeout;
  options.http.tls_cert = server.tls_cert;
  options.http.tls_key = server.tls_key;
  options.handler_threads = server.handler_threads;
  options.password_threads = config.auth.hash_threads;
  options.password_queue = config.auth.hash_queue;
  options.metrics_bearer_token = config.metrics.bearer_token;
  if (config.metrics.listen) {
    options.metrics_listen = true;
    options.metrics_host = config.metrics.listen->first;
    options.metrics_port = config.metrics.listen->second;
  }
  options.trust_proxy = server.trust_proxy;
  options.web_root = server.web_root;
  options.sse_ping_interval = server.sse_ping_interval;
  options.sse_coalesce_window = server.sse_coalesce_window;
  options.sse_coalesce_bytes = server.sse_coalesce_bytes;
  options.lockout_duration = config.auth.lockout_duration;
  options.rate_limits.enabled = config.rate_limits.enabled;
  options.rate_limits.execute_per_minute = config.rate_limits.execute_per_minute;
  options.rate_limits.anonymous_execute_per_minute =
      config.rate_limits.anonymous_execute_per_minute;
  options.rate_limits.auth_per_minute = config.rate_limits.auth_per_minute;
  options.rate_limits.other_per_minute = config.rate_limits.other_per_minute;
  options.rate_limits.max_keys = config.rate_limits.max_keys;
  options.health_only = config.server.role == "worker";
  return options;
}

SandboxOptions SandboxOptionsFrom(const Config& config) {
  SandboxOptions options;
  options.slots = config.sandbox.slots;
  options.cgroup_mode = config.sandbox.cgroup_mode;
  options.cgroup_parent = config.sandbox.cgroup_parent;
  options.state_dir = config.sandbox.state_dir;
  options.first_uid = config.sandbox.first_uid;
  options.prebuild = config.sandbox.prebuild;
  options.isolation = config.sandbox.isolation;
  options.gvisor_platform = config.sandbox.gvisor_platform;
  options.gvisor_runsc = config.sandbox.gvisor_runsc;
  if (config.sandbox.warm) {
    std::error_code ignored;
    options.warm_zygote =
        !config.sandbox.warm_zygote.empty()
            ? config.sandbox.warm_zygote
            : std::filesystem::read_symlink("/proc/self/exe", ignored).parent_path() /
                  "integr8scode-python-zygote";
  }
  return options;
}

// The service account's namespace, when the process runs in a pod.
std::string InClusterNamespace() {
  std::FILE* file = std::fopen("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "re");
  if (file == nullptr) return "default";
  char buffer[256] = {};
  const std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, file);
  std::fclose(file);
  std::string name(buffer, n);
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  return name.empty() ? "default" : name;
}

Result<KubernetesOptions> KubernetesOptionsFrom(const Config& config) {
  const KubernetesConfig& k = config.kubernetes;
  KubernetesOptions options;
  options.api.api_url = k.api_url;
  options.api.token_file = k.token_file;
  options.api.ca_file = k.ca_file;
  options.pod.namespace_name = k.namespace_name.empty() ? InClusterNamespace() : k.namespace_name;
  options.pod.runtime_class = k.runtime_class;
  options.pod.host_users = k.host_users;
  options.pod.image_pull_policy = k.image_pull_policy;
  options.pod.helper_image = k.helper_image;
  options.pod.worker_id = k.worker_id;
  options.pod.start_timeout = k.start_timeout;
  options.max_pods = k.max_pods;
  options.pod.node_selector = I8C_TRY_VALUE(ParseNodeSelector(k.node_selector));
  options.pod.tolerations = I8C_TRY_VALUE(ParseTolerations(k.tolerations));
  return options;
}

Result<std::unique_ptr<Executor>> CreateExecutor(const Config& config) {
  if (config.sandbox.kind == "kubernetes") {
    auto options = I8C_TRY_VALUE(KubernetesOptionsFrom(config));
    return CreateKubernetesExecutor(options);
  }
  return CreateLocalExecutor(SandboxOptionsFrom(config));
}

// Runtimes are probed on the hosts that run them; an api process runs none.
RuntimeHost RuntimeHostOf(const Config& config) {
  if (config.server.role == "api") return RuntimeHost::kRemoteWorkers;
  if (config.sandbox.kind == "kubernetes") return RuntimeHost::kKubernetesPods;
  return RuntimeHost::kLocalSandbox;
}

int Fatal(int code, std::string_view what, const Error& error) {
  Log(LogLevel::kError, what, {{"error", error.Describe()}});
  return code;
}

int Serve(const ServeFlags& flags, const GlobalOptions& global) {
  auto sources = Sources(flags);
  if (!sources) {
    fmt::print(stderr, "integr8scode serve: {}\n", sources.error().message);
    return kExitUsage;
  }
  auto loaded = LoadConfig(*sources);
  if (!loaded) {
    fmt::print(stderr, "integr8scode serve: {}\n", loaded.error().message);
    return kExitUsage;
  }
  const Config config = std::move(*loaded);
  ConfigureLogging(config.logging.level, config.logging.format);
  const std::string& role = config.server.role;
  // Processes share work only through PostgreSQL; a SQLite file is one process's.
  if (role != "all" && !config.database.url.starts_with("postgres")) {
    fmt::print(stderr,
               "integr8scode serve: --role {} needs a PostgreSQL database.url (postgres://…): "
               "api and worker processes share the queue through it; SQLite serves one process "
               "only (use --role all)\n",
               role);
    return kExitUsage;
  }

  // Every password hash, script and output lives here: private at every start.
  if (auto private_dir = EnsurePrivateDirectory(config.server.data_dir); !private_dir) {
    return Fatal(kExitPlatform, "cannot use the data directory", private_dir.error());
  }
  // --catalog and INTEGR8SCODE_CATALOG already chose global.catalog; a config file's
  // `catalog` applies only when neither did.
  const fs::path catalog_path = !config.catalog.empty() && global.catalog == DefaultCatalogPath()
                                    ? config.catalog
                                    : global.catalog;
  auto catalog = LoadCatalog(catalog_path);
  if (!catalog) return Fatal(kExitUsage, "cannot load the runtime catalog", catalog.error());

  // Before any thread: the sandbox forks its spawner here. The api role has none (and
  // needs no root).
  std::unique_ptr<Executor> executor;
  if (role != "api") {
    auto created = CreateExecutor(config);
    if (!created) return Fatal(kExitPlatform, "cannot set up the sandbox", created.error());
    executor = std::move(*created);
  }

  // From here on signals are taken by sigwait below, in this thread only: every thread
  // started later inherits the blocked mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  if (const int failed = pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr); failed != 0) {
    return Fatal(kExitPlatform, "cannot block SIGTERM and SIGINT",
                 SystemError(failed, "pthread_sigmask"));
  }
  ::signal(SIGPIPE, SIG_IGN);

  std::vector<RuntimeAvailability> availability =
      RuntimeAvailabilityOn(*catalog, RuntimeHostOf(config));
  if (RuntimeHostOf(config) == RuntimeHost::kLocalSandbox) {
    ApplyIsolation(*catalog, config.sandbox.isolation, availability);
  }
  for (std::size_t i = 0; role != "api" && i < availability.size(); ++i) {
    const Runtime& runtime = catalog->All()[i];
    Log(availability[i].available ? LogLevel::kInfo : LogLevel::kWarn, "runtime",
        {{"lang", runtime.language},
         {"version", runtime.version},
         {"available", availability[i].available},
         {"reason", availability[i].reason}});
  }

  auto stores = OpenStores(config.database.url);
  if (!stores) return Fatal(kExitPlatform, "cannot open the database", stores.error());
  Log(LogLevel::kInfo, "database open",
      {{"backend", stores->backend}, {"url", RedactStoreUrl(config.database.url)}});

  Metrics metrics;
  metrics.SetProcessInfo(role, kProgramVersion);
  metrics.SetStoreUp(true);
  ServiceStores service_stores{stores->executions,  stores->users,      stores->scripts,
                               stores->tokens,      stores->check,      stores->cluster,
                               stores->change_feed, stores->rate_limits};
  auto services = StartServices(std::move(service_stores), executor.get(), std::move(*catalog),
                                std::move(availability), ServiceOptionsFrom(config), &metrics);
  if (!services) return Fatal(kExitPlatform, "cannot start the services", services.error());

  auto api = ApiServer::Start(ApiOptionsFrom(config), **services, metrics);
  if (!api) {
    (*services)->Shutdown(std::chrono::milliseconds(0));
    return Fatal(kExitPlatform, "cannot start the HTTP server", api.error());
  }
  Log(LogLevel::kInfo, "serving",
      {{"role", role},
       {"address", config.server.listen_host},
       {"port", static_cast<int>((*api)->Port())},
       {"tls", config.Tls()},
       {"data_dir", config.server.data_dir.string()},
       {"web_root", config.server.web_root.string()},
       {"executor", executor ? std::string(executor->Kind()) : std::string("none")},
       {"capacity", executor ? static_cast<int>(executor->Capacity()) : 0},
       {"workers", config.queue.workers}});
  if (config.metrics.listen) {
    Log(LogLevel::kInfo, "serving metrics",
        {{"address", config.metrics.listen->first},
         {"metrics_port", static_cast<int>((*api)->MetricsPort())}});
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  const auto grace = config.server.shutdown_grace;
  Log(LogLevel::kInfo, "shutting down",
      {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"},
       {"grace_ms", static_cast<std::int64_t>(grace.count())}});

  // Stop taking work, let running executions end within the grace period (the rest go
  // back to the queue for the next start), then let the answers they unblock go out.
  (*api)->StopAccepting();
  (*services)->Shutdown(grace);
  (*api)->Stop(Clock::now() + std::chrono::seconds(2));
  api->reset();
  services->reset();
  Log(LogLevel::kInfo, "stopped");
  return kExitOk;
}

}  // namespace

void RegisterServeCommand(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* command = app.add_subcommand("serve", "Run the HTTP API, the web UI and the workers");
  command->add_option("--config", flags->config_file, "TOML configuration file")
      ->check(CLI::ExistingFile);
  command->add_option("--listen", flags->listen,
                      "Address to listen on, HOST:PORT (default 127.0.0.1:8080)");
  command->add_option("--data-dir", flags->data_dir,
                      "Directory for the database and secrets (default ./data)");
  command->add_option("--tls-cert", flags->tls_cert, "PEM certificate chain: serve HTTPS");
  command->add_option("--tls-key", flags->tls_key, "PEM private key for --tls-cert");
  command
      ->add_option("--role", flags->role,
                   "all (default): API and workers; api: the HTTP API only; worker: runs "
                   "executions, serves health and metrics (api and worker need PostgreSQL)")
      ->check(CLI::IsMember({"all", "api", "worker"}));
  command->add_option("--set", flags->settings, "Override one setting, KEY=VALUE (repeatable)");
  command->callback([flags, &global, &exit_code] { exit_code = Serve(*flags, global); });
}

}  // namespace integr8scode
