#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "common/error.hpp"
#include "domain/executor.hpp"
#include "k8s/api_client.hpp"
#include "k8s/pod_manifest.hpp"

namespace integr8scode {

// How the Kubernetes executor runs (config section [kubernetes]).
struct KubernetesOptions {
  KubeClientOptions api;
  PodSettings pod;
  std::size_t max_pods = 10;  // executions at once (the executor's capacity)
  // Orphans: pods of this executor past their expiry annotation (a worker died mid-run)
  // and, once at start, the pods labelled with this worker's id.
  std::chrono::milliseconds janitor_interval{60000};
};

// Creates the executor that runs each execution in its own restricted pod
// (docs/kubernetes-executor.md). Fails with kInvalidArgument for a bad URL or CA file;
// a cluster that cannot be reached is not a failure here (CheckReady says so).
// Starts the janitor thread; the destructor stops it. Run() is thread-safe.
Result<std::unique_ptr<Executor>> CreateKubernetesExecutor(const KubernetesOptions& options);

}  // namespace integr8scode
