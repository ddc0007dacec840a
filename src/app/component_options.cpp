#include "app/component_options.hpp"

#include <cstdio>
#include <string>
#include <system_error>
#include <utility>

#include "catalog/catalog_loader.hpp"
#include "common/try.hpp"

namespace integr8scode {
namespace {

PasswordHashCost HashCost(const std::string& name) {
  if (name == "min") return PasswordHashCost::Min();
  if (name == "moderate") return PasswordHashCost::Moderate();
  return PasswordHashCost::Interactive();
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

}  // namespace

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
  options.rate_limits = config.rate_limits;
  options.health_only = config.server.role == "worker";
  return options;
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

}  // namespace integr8scode
