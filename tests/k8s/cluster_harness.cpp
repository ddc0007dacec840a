#include "k8s/cluster_harness.hpp"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "support/sandbox_harness.hpp"

namespace integr8scode::testing {
namespace {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const char* base = "/tmp") {
    std::string pattern_text = std::string(base) + "/integr8scode-k8s-XXXXXX";
    char* pattern = pattern_text.data();
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

// The stand-in's kubelet binds the wrapper's directory into the sandbox beside the
// runtime's; a build tree under /tmp (a clone there) would be hidden by the sandbox's own
// /tmp. A copy under /var/tmp is seen wherever the tree is.
static std::filesystem::path WrapperOutsideTmp() {
  static TempDir dir("/var/tmp");
  static const std::filesystem::path copy = [] {
    const std::filesystem::path target = dir.path / "integr8scode-pod-init";
    std::filesystem::copy_file(INTEGR8SCODE_POD_INIT, target);
    std::filesystem::permissions(
        target, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                    std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                    std::filesystem::perms::others_exec);
    std::filesystem::permissions(dir.path, std::filesystem::perms::owner_all |
                                               std::filesystem::perms::group_exec |
                                               std::filesystem::perms::others_exec);
    return target;
  }();
  return copy;
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
    options.pod_init = WrapperOutsideTmp();
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
