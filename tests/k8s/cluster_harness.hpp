#pragma once

// The stand-in cluster and a Kubernetes executor pointed at it, one of each per test
// binary, for the suites of tests/k8s. Needs root (the stand-in's kubelet uses the local
// sandbox); Available() is false otherwise.

#include <memory>

#include "domain/executor.hpp"
#include "k8s/pod_executor.hpp"
#include "k8s/stand_in_cluster.hpp"

namespace integr8scode::testing {

bool ClusterAvailable();
StandInCluster& Cluster();
// The executor options the suites use against Cluster(), for variants.
KubernetesOptions ClusterExecutorOptions();
Executor& KubernetesExecutorForTests();
// The schema validator the stand-in uses (throws when it cannot be started).
const OpenApiSchema& Schema();

}  // namespace integr8scode::testing
