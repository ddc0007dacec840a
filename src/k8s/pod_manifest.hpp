#pragma once

// The objects of one execution: a Pod that meets the "restricted" Pod Security Standard
// and a ConfigMap, owned by the pod, that carries the program and its stdin (files,
// never a command line: no shell ever sees them). Pure functions: JSON in memory.

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/limits.hpp"
#include "domain/runtime.hpp"

namespace integr8scode {

struct Toleration {
  std::string key;
  std::string op = "Equal";  // "Equal" or "Exists"
  std::string value;
  std::string effect;  // empty: all effects
};

// What every pod of this executor has in common (the [kubernetes] settings).
struct PodSettings {
  std::string namespace_name = "default";
  std::string runtime_class;  // empty: the cluster's default
  bool host_users = false;    // false: a user namespace per pod (where the cluster has them)
  std::string image_pull_policy = "IfNotPresent";
  std::vector<std::pair<std::string, std::string>> node_selector;
  std::vector<Toleration> tolerations;
  // The image holding the static in-pod wrapper at kHelperPath.
  std::string helper_image = "ghcr.io/integr8scode/integr8scode:latest";
  std::string worker_id;  // label of the pods this process made (for the janitor)
  std::chrono::milliseconds start_timeout{60000};
};

inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kManagedByValue = "integr8scode";
inline constexpr std::string_view kRoleLabel = "integr8scode.io/role";
inline constexpr std::string_view kRoleValue = "execution";
inline constexpr std::string_view kWorkerLabel = "integr8scode.io/worker";
// Unix seconds after which the pod can only be an orphan (the janitor's test).
inline constexpr std::string_view kExpiresAnnotation = "integr8scode.io/expires-at";
inline constexpr std::string_view kHelperPath = "/usr/libexec/integr8scode/pod-init";
inline constexpr std::string_view kToolsDir = "/opt/integr8scode";
inline constexpr std::string_view kRunContainer = "run";
inline constexpr std::string_view kStdinKey = "stdin";
inline constexpr std::int64_t kRunAsUser = 65532;  // fixed, never root, not a host user
// The label selector of every pod and ConfigMap this executor makes.
std::string ExecutionSelector();

struct PodPlan {
  std::string name;
  const Runtime* runtime = nullptr;
  Limits limits;
  bool has_stdin = false;
  std::int64_t now_unix_s = 0;
};

// How long the program's steps may take together (compile limits apply to compiling).
std::chrono::milliseconds StepsBudget(const Runtime& runtime, const Limits& limits);

boost::json::object BuildPod(const PodPlan& plan, const PodSettings& settings);
// The wrapper's command line (the container's args; pod_init.cpp parses it).
std::vector<std::string> WrapperArgs(const Runtime& runtime, const Limits& limits, bool has_stdin);
boost::json::object BuildConfigMap(std::string_view name, std::string_view pod_uid,
                                   const Runtime& runtime, std::string_view source,
                                   std::string_view stdin_data, const PodSettings& settings);

// "k=v,k2=v2" → pairs; "key=value:Effect,key:Effect" → tolerations (config parsing).
Result<std::vector<std::pair<std::string, std::string>>> ParseNodeSelector(std::string_view text);
Result<std::vector<Toleration>> ParseTolerations(std::string_view text);

}  // namespace integr8scode
