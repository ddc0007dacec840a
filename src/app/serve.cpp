// `integr8scode serve` (in integr8scode-serve): wiring only. Load the configuration, set up
// logging, create the sandbox (before any thread exists: it forks its spawner), load and probe the
// catalog, open the stores, start the services and the HTTP server, then wait for
// SIGTERM/SIGINT and shut down in order.
#include <fmt/format.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "api/api_server.hpp"
#include "app/commands.hpp"
#include "app/component_options.hpp"
#include "app/config.hpp"
#include "catalog/availability.hpp"
#include "catalog/catalog_loader.hpp"
#include "catalog/probe.hpp"
#include "common/log.hpp"
#include "common/private_files.hpp"
#include "common/sched.hpp"
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

}  // namespace

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
  auto catalog = LoadCatalog(CatalogPathFrom(global.catalog, config));
  if (!catalog) return Fatal(kExitUsage, "cannot load the runtime catalog", catalog.error());

  // Before any thread: the sandbox forks its spawner here. The api role has none (and
  // needs no root).
  std::unique_ptr<Executor> executor;
  if (role != "api") {
    auto created = CreateExecutor(config);
    if (!created) return Fatal(kExitPlatform, "cannot set up the sandbox", created.error());
    executor = std::move(*created);
  }
  // After the spawner's fork (the sandboxes and programs keep the kernel's slice),
  // before any thread (every thread of the server inherits it).
  if (config.server.thread_slice_us != 0) {
    if (auto set = SetThreadSlice(std::chrono::microseconds(config.server.thread_slice_us)); !set) {
      Log(LogLevel::kWarn, "the server's threads keep the kernel's scheduler slice",
          {{"error", set.error().Describe()}});
    }
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
  ServiceStores service_stores{stores->executions,  stores->users,       stores->scripts,
                               stores->tokens,      stores->check,       stores->cluster,
                               stores->change_feed, stores->rate_limits, stores->login_attempts};
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

}  // namespace integr8scode
