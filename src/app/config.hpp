#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/rate_limit_options.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "domain/limits.hpp"
#include "sandbox/local_executor.hpp"
#include "service/storage_quota.hpp"

namespace integr8scode {

// The configuration of `integr8scode serve`: one typed, validated value, built once at
// start from (lowest to highest precedence) the defaults below, a TOML file, the
// INTEGR8SCODE_<SECTION>_<KEY> environment variables and command-line flags. Immutable
// afterwards: pass it by const reference. docs/operations.md is the reference of every key.
//
// Each default is written once. A section that is a component's options holds that
// component's own type ([sandbox], [rate_limits], [quotas]); the others are turned into
// component options by one function each (app/component_options.hpp), and a test checks
// that a default Config gives the component's own defaults.

struct ServerConfig {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;  // 0: any free port (tests)
  std::filesystem::path data_dir = "data";
  std::filesystem::path tls_cert;  // both set: HTTPS; both empty: HTTP
  std::filesystem::path tls_key;
  std::size_t io_threads = 2;  // threads doing socket I/O (never block)
  // The scheduler slice of the server's threads, in µs (common/sched.hpp): a short one
  // lets a request that wakes a thread preempt a running program (docs/load.md: the
  // reads' p95/p99 at stress a little lower). 0: the kernel's.
  std::uint32_t thread_slice_us = 100;
  // Threads running store/auth calls (may block); 0: DefaultHandlerThreads() (api_server.hpp).
  std::size_t handler_threads = 0;
  std::uint64_t max_body_bytes = 2ull << 20;
  std::size_t max_connections = 10000;
  std::chrono::milliseconds header_timeout{10000};  // first byte → end of the headers
  std::chrono::milliseconds body_timeout{30000};    // end of headers → end of the body
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive wait for the next request
  std::chrono::milliseconds shutdown_grace{10000};
  std::chrono::milliseconds sse_ping_interval{15000};
  std::chrono::milliseconds sse_coalesce_window{20};  // output chunks merged per event stream
  std::uint64_t sse_coalesce_bytes = 64ull << 10;
  std::filesystem::path web_root;  // the built web UI (web/dist)
  bool trust_proxy = false;        // take the client address from X-Forwarded-For
  // "all": API and workers in one process; "api": the HTTP API only (no sandbox, no
  // root); "worker": runs executions, serves health and metrics only. api and worker
  // need PostgreSQL (docs/scale-out.md).
  std::string role = "all";

  friend bool operator==(const ServerConfig&, const ServerConfig&) = default;
};

struct DatabaseConfig {
  std::string url;  // "sqlite:<path>" or "postgres://…"

  friend bool operator==(const DatabaseConfig&, const DatabaseConfig&) = default;
};

struct LimitsConfig {
  Limits defaults;
  Limits maximum = kDefaultMaximumLimits;
  std::uint64_t max_script_bytes = 1ull << 20;
  std::uint64_t max_stdin_bytes = 1ull << 20;

  friend bool operator==(const LimitsConfig&, const LimitsConfig&) = default;
};

// [sandbox]: the local executor's own options (their defaults are the only ones), plus
// the choice of executor and of warm starts. `slots` 0 is resolved to the core count by
// LoadConfig. `warm_zygote` here is the zygote to use when `warm` is on (empty: beside
// this binary); SandboxOptionsFrom turns the two into SandboxOptions::warm_zygote.
struct SandboxConfig : SandboxOptions {
  std::string kind = "local";  // or "kubernetes"
  // Warm starts (docs/warm-starts.md): with prebuild, runs of a runtime whose catalog
  // entry names a zygote (CPython 3.11, PyPy 3.9) on an idle slot find their interpreter
  // started ahead; without integr8scode-python-zygote, every CPython run starts cold.
  bool warm = true;

  friend bool operator==(const SandboxConfig&, const SandboxConfig&) = default;
};

// The pod-per-execution executor (sandbox.kind = "kubernetes"; docs/kubernetes-executor.md).
struct KubernetesConfig {
  std::string api_url;  // empty: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
  std::filesystem::path token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::filesystem::path ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespace_name;  // empty: the service account's namespace, else "default"
  std::string runtime_class;   // e.g. "gvisor"; empty: the cluster's default
  bool host_users = false;
  std::size_t max_pods = 10;
  std::chrono::milliseconds start_timeout{60000};
  std::string image_pull_policy = "IfNotPresent";
  std::string node_selector;  // "key=value,key2=value2"
  std::string tolerations;    // "key=value:NoSchedule,key:NoExecute"
  std::string helper_image = "ghcr.io/integr8scode/integr8scode:latest";
  std::string worker_id;  // empty: $HOSTNAME (the worker's pod name)

  friend bool operator==(const KubernetesConfig&, const KubernetesConfig&) = default;
};

struct QueueConfig {
  std::size_t workers = 0;  // 0: as many as sandbox slots (or kubernetes.max_pods)
  std::size_t capacity = 10000;
  std::chrono::milliseconds retention{0};  // 0: keep finished executions forever
  // Finished anonymous executions; 0: as `retention` says.
  std::chrono::milliseconds anonymous_retention{std::chrono::hours(24)};
  int max_attempts = 2;
  // The database queue (PostgreSQL): a lost worker's executions are rescued within
  // lease + rescue_interval; workers look for work at least every poll_interval.
  std::chrono::milliseconds lease{std::chrono::seconds(15)};
  std::chrono::milliseconds rescue_interval{std::chrono::seconds(5)};
  std::chrono::milliseconds poll_interval{std::chrono::seconds(1)};

  friend bool operator==(const QueueConfig&, const QueueConfig&) = default;
};

struct AuthConfig {
  std::string jwt_secret;  // empty: generated once and kept in data_dir (mode 0600)
  std::chrono::milliseconds token_ttl{std::chrono::hours(24)};
  int lockout_failures = 5;
  std::chrono::milliseconds lockout_duration{std::chrono::minutes(15)};
  std::string admin_username;
  std::string admin_password;
  std::string admin_email;
  std::string argon2 = "interactive";  // "interactive", "moderate" or "min" (tests)
  std::size_t hash_threads = 2;        // password hashes at once (each takes the Argon2 memory)
  std::size_t hash_queue = 16;         // more waiting for one; beyond: 503 busy

  friend bool operator==(const AuthConfig&, const AuthConfig&) = default;
};

struct MetricsConfig {
  std::string bearer_token;  // non-empty: /metrics needs "Authorization: Bearer <token>"
  // Set: /metrics is served only on this address, by a listener of its own.
  std::optional<std::pair<std::string, std::uint16_t>> listen;

  friend bool operator==(const MetricsConfig&, const MetricsConfig&) = default;
};

struct LoggingConfig {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kJson;

  friend bool operator==(const LoggingConfig&, const LoggingConfig&) = default;
};

struct Config {
  ServerConfig server;
  DatabaseConfig database;
  LimitsConfig limits;
  SandboxConfig sandbox;
  KubernetesConfig kubernetes;
  QueueConfig queue;
  AuthConfig auth;
  RateLimitOptions rate_limits;  // [rate_limits]: the API's own type
  MetricsConfig metrics;
  QuotaOptions quotas;  // [quotas]: the service's own type, so its defaults are the only ones
  LoggingConfig logging;
  // Empty: not set by the file or INTEGR8SCODE_CATALOG (CatalogPathFrom decides).
  std::filesystem::path catalog;

  bool Tls() const { return !server.tls_cert.empty(); }
  friend bool operator==(const Config&, const Config&) = default;
};

// Where the settings come from. `env` holds NAME=VALUE pairs of the environment (only
// the INTEGR8SCODE_* ones matter); `flags` holds dotted keys set on the command line
// ("server.listen" → "0.0.0.0:9000").
struct ConfigSources {
  std::optional<std::filesystem::path> file;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::pair<std::string, std::string>> flags;
};

// Builds the configuration. Fails with kInvalidArgument and a message naming the source
// and key for an unreadable file, an unknown key (in the file, an INTEGR8SCODE_* variable
// or a flag), a value of the wrong type or out of range, or settings that contradict each
// other (a TLS certificate without a key, default limits above the maximum).
Result<Config> LoadConfig(const ConfigSources& sources);

// The process environment as pairs, for ConfigSources::env.
std::vector<std::pair<std::string, std::string>> ProcessEnvironment();

// Every dotted key the configuration knows, in a stable order, and the environment
// variable that sets it ("rate_limits.execute_per_minute" →
// "INTEGR8SCODE_RATE_LIMITS_EXECUTE_PER_MINUTE").
std::vector<std::string> ConfigKeys();
std::string EnvironmentName(std::string_view dotted_key);

// "host:port" or "[v6]:port" → host and port.
Result<std::pair<std::string, std::uint16_t>> ParseListenAddress(std::string_view text);

}  // namespace integr8scode
