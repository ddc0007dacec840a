#include "k8s/cluster_harness.hpp"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "support/sandbox_harness.hpp"

namespace integr8scode::testing {
namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char pattern[] = "/tmp/integr8scode-k8s-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp");
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

const OpenApiSchema& Schema() {
  // Started once per binary; without it nothing would be schema-checked, so its absence
  // fails the suites (the exception reaches the test that first needs the cluster).
  static const std::unique_ptr<OpenApiSchema> schema = [] {
    auto started = OpenApiSchema::Start(INTEGR8SCODE_K8S_VALIDATOR);
    if (!started) throw std::runtime_error(started.error().Describe());
    return std::move(*started);
  }();
  return *schema;
}

bool ClusterAvailable() { return CanSandbox(); }

StandInCluster& Cluster() {
  // The local executor is made first, so that it outlives the stand-in's kubelets.
  Executor& local = SharedExecutor();
  static TempDir dir;
  static StandInCluster cluster([&] {
    StandInOptions options;
    options.dir = dir.path;
    options.catalog = &Catalog();
    options.local = &local;
    options.pod_init = INTEGR8SCODE_POD_INIT;
    options.schema = &Schema();
    return options;
  }());
  return cluster;
}

KubernetesOptions ClusterExecutorOptions() {
  StandInCluster& cluster = Cluster();
  KubernetesOptions options;
  options.api.api_url = cluster.Url();
  options.api.token_file = cluster.TokenFile();
  options.api.ca_file = cluster.CaFile();
  options.api.first_backoff = std::chrono::milliseconds(20);
  options.pod.namespace_name = "integr8scode-test";
  options.pod.helper_image = "integr8scode-helper:test";
  options.pod.worker_id = "worker-test";
  options.pod.start_timeout = std::chrono::seconds(20);
  options.max_pods = 4;
  options.janitor_interval = std::chrono::hours(1);
  return options;
}

Executor& KubernetesExecutorForTests() {
  static std::unique_ptr<Executor> executor = [] {
    auto created = CreateKubernetesExecutor(ClusterExecutorOptions());
    if (!created) throw std::runtime_error(created.error().Describe());
    return std::move(*created);
  }();
  return *executor;
}

}  // namespace integr8scode::testing
