#include "k8s/pod_manifest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "common/try.hpp"
#include "k8s/log_frames.hpp"

namespace integr8scode {
namespace {

namespace json = boost::json;

constexpr std::uint64_t kToolsBytes = 16ull << 20;
// What the pod may take beyond the steps' own limits before the kubelet ends it: the
// pod's deadline counts from its start, image pull included.
constexpr std::int64_t kDeadlineSlackSeconds = 10;

json::object Labels(const PodSettings& settings) {
  json::object labels;
  labels[kManagedByLabel] = kManagedByValue;
  labels[kRoleLabel] = kRoleValue;
  if (!settings.worker_id.empty()) labels[kWorkerLabel] = settings.worker_id;
  return labels;
}

// The container security context the restricted profile asks for, for every container.
json::object RestrictedContainerContext() {
  return {
      {"allowPrivilegeEscalation", false},
      {"readOnlyRootFilesystem", true},
      {"runAsNonRoot", true},
      {"runAsUser", kRunAsUser},
      {"runAsGroup", kRunAsUser},
      {"privileged", false},
      {"capabilities", {{"drop", json::array{"ALL"}}}},
      {"seccompProfile", {{"type", "RuntimeDefault"}}},
  };
}

std::string Millicores(std::uint32_t millicores) { return fmt::format("{}m", millicores); }

json::object Resources(std::uint64_t memory, std::uint32_t millicores) {
  // requests = limits: the pod is Guaranteed, never the first to be evicted, and the
  // program gets what the local sandbox would give it.
  json::object amounts{{"cpu", Millicores(millicores)}, {"memory", std::to_string(memory)}};
  return {{"requests", amounts}, {"limits", amounts}};
}

json::array Environment(const Runtime& runtime) {
  json::array env{
      {{"name", "PATH"}, {"value", "/usr/local/bin:/usr/bin:/bin:/opt/pypy/bin"}},
      {{"name", "HOME"}, {"value", std::string(kSandboxWorkDir)}},
      {{"name", "USER"}, {"value", "sandbox"}},
      {{"name", "LOGNAME"}, {"value", "sandbox"}},
      {{"name", "LANG"}, {"value", "C.UTF-8"}},
      {{"name", "TMPDIR"}, {"value", "/tmp"}},
  };
  for (const auto& [key, value] : runtime.env) env.push_back({{"name", key}, {"value", value}});
  return env;
}

Result<std::pair<std::string, std::string>> SplitPair(std::string_view item, char separator,
                                                      std::string_view what) {
  const std::size_t at = item.find(separator);
  if (at == std::string_view::npos || at == 0) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} '{}' must be written key{}value", what, item, separator));
  }
  return std::make_pair(std::string(item.substr(0, at)), std::string(item.substr(at + 1)));
}

std::vector<std::string_view> SplitList(std::string_view text) {
  std::vector<std::string_view> items;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) items.push_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

}  // namespace

std::string ExecutionSelector() {
  return fmt::format("{}={},{}={}", kManagedByLabel, kManagedByValue, kRoleLabel, kRoleValue);
}

std::chrono::milliseconds StepsBudget(const Runtime& runtime, const Limits& limits) {
  auto budget = limits.timeout;
  if (runtime.has_compile) budget += MergeLimits(limits, runtime.compile.limits).timeout;
  return budget;
}

std::vector<std::string> WrapperArgs(const Runtime& runtime, const Limits& limits, bool has_stdin) {
  std::vector<std::string> args = {
      "run",
      "--stdin",
      has_stdin ? fmt::format("{}/{}", kSandboxSourceDir, kStdinKey) : std::string("/dev/null"),
      "--output",
      std::to_string(limits.output_bytes),
      "--fsize",
      std::to_string(limits.file_size_bytes),
      "--nofile",
      std::to_string(limits.open_files),
  };
  auto add_step = [&](std::string_view name, const std::vector<std::string>& image_argv,
                      const RuntimeStep& step, const Limits& step_limits) {
    const auto argv = ExpandArgv(image_argv.empty() ? step.argv : image_argv, runtime);
    args.emplace_back("--step");
    args.emplace_back(name);
    args.push_back(std::to_string(step_limits.timeout.count()));
    args.push_back(std::to_string(argv.size()));
    args.insert(args.end(), argv.begin(), argv.end());
  };
  if (runtime.has_compile)
    add_step("compile", runtime.image_compile, runtime.compile,
             MergeLimits(limits, runtime.compile.limits));
  add_step("run", runtime.image_run, runtime.run, limits);
  return args;
}

json::object BuildPod(const PodPlan& plan, const PodSettings& settings) {
  const Runtime& runtime = *plan.runtime;
  const Limits& limits = plan.limits;
  const auto budget_s =
      static_cast<std::int64_t>(std::ceil(StepsBudget(runtime, limits).count() / 1000.0));
  const std::int64_t start_s =
      std::chrono::ceil<std::chrono::seconds>(settings.start_timeout).count();
  // The kubelet's deadline is a backstop behind the wrapper's per-step clock and ours.
  const std::int64_t deadline_s = start_s + budget_s + kDeadlineSlackSeconds;
  const std::string tools(kToolsDir);
  const std::string wrapper = tools + "/pod-init";
  const std::uint64_t compile_memory =
      runtime.has_compile ? MergeLimits(limits, runtime.compile.limits).memory_bytes : 0;
  const std::uint64_t memory = std::max(limits.memory_bytes, compile_memory);
  std::uint64_t disk = limits.tmpfs_bytes;
  if (runtime.has_compile)
    disk = std::max(disk, MergeLimits(limits, runtime.compile.limits).tmpfs_bytes);

  json::array args;
  for (const std::string& arg : WrapperArgs(runtime, limits, plan.has_stdin))
    args.push_back(json::string(arg));

  json::object run{
      {"name", kRunContainer},
      {"image", runtime.image},
      {"imagePullPolicy", settings.image_pull_policy},
      {"command", json::array{json::string(wrapper)}},
      {"args", std::move(args)},
      {"workingDir", std::string(kSandboxWorkDir)},
      {"env", Environment(runtime)},
      {"resources", Resources(memory, limits.cpu_millicores)},
      {"securityContext", RestrictedContainerContext()},
      {"terminationMessagePolicy", "File"},
      {"volumeMounts",
       json::array{
           {{"name", "program"}, {"mountPath", std::string(kSandboxSourceDir)}, {"readOnly", true}},
           {{"name", "work"}, {"mountPath", std::string(kSandboxWorkDir)}},
           {{"name", "tmp"}, {"mountPath", "/tmp"}},
           {{"name", "tools"}, {"mountPath", tools}, {"readOnly", true}},
       }},
  };
  json::object install{
      {"name", "install-wrapper"},
      {"image", settings.helper_image},
      {"imagePullPolicy", settings.image_pull_policy},
      {"command", json::array{json::string(kHelperPath), "install", json::string(wrapper)}},
      {"resources", Resources(32ull << 20, 100)},
      {"securityContext", RestrictedContainerContext()},
      {"volumeMounts", json::array{{{"name", "tools"}, {"mountPath", tools}}}},
  };

  json::array program_items{{{"key", runtime.source_file}, {"path", runtime.source_file}}};
  if (plan.has_stdin) program_items.push_back({{"key", kStdinKey}, {"path", kStdinKey}});

  json::object spec{
      {"restartPolicy", "Never"},
      {"activeDeadlineSeconds", deadline_s},
      {"terminationGracePeriodSeconds", 0},
      {"automountServiceAccountToken", false},
      {"enableServiceLinks", false},
      {"hostNetwork", false},
      {"hostPID", false},
      {"hostIPC", false},
      {"hostUsers", settings.host_users},
      {"securityContext",
       {
           {"runAsNonRoot", true},
           {"runAsUser", kRunAsUser},
           {"runAsGroup", kRunAsUser},
           {"fsGroup", kRunAsUser},
           {"seccompProfile", {{"type", "RuntimeDefault"}}},
       }},
      {"initContainers", json::array{std::move(install)}},
      {"containers", json::array{std::move(run)}},
      {"volumes",
       json::array{
           {{"name", "program"},
            {"configMap",
             {{"name", plan.name}, {"items", std::move(program_items)}, {"defaultMode", 0444}}}},
           {{"name", "work"}, {"emptyDir", {{"sizeLimit", std::to_string(disk)}}}},
           {{"name", "tmp"}, {"emptyDir", {{"sizeLimit", std::to_string(disk)}}}},
           {{"name", "tools"}, {"emptyDir", {{"sizeLimit", std::to_string(kToolsBytes)}}}},
       }},
  };
  if (!settings.runtime_class.empty()) spec["runtimeClassName"] = settings.runtime_class;
  if (!settings.node_selector.empty()) {
    json::object selector;
    for (const auto& [key, value] : settings.node_selector) selector[key] = value;
    spec["nodeSelector"] = std::move(selector);
  }
  if (!settings.tolerations.empty()) {
    json::array tolerations;
    for (const Toleration& t : settings.tolerations) {
      json::object item{{"key", t.key}, {"operator", t.op}};
      if (t.op == "Equal") item["value"] = t.value;
      if (!t.effect.empty()) item["effect"] = t.effect;
      tolerations.push_back(std::move(item));
    }
    spec["tolerations"] = std::move(tolerations);
  }
  const std::int64_t expires = plan.now_unix_s + deadline_s + 60;
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {
           {"name", plan.name},
           {"namespace", settings.namespace_name},
           {"labels", Labels(settings)},
           {"annotations", {{kExpiresAnnotation, std::to_string(expires)}}},
       }},
      {"spec", std::move(spec)},
  };
}

json::object BuildConfigMap(std::string_view name, std::string_view pod_uid, const Runtime& runtime,
                            std::string_view source, std::string_view stdin_data,
                            const PodSettings& settings) {
  json::object data{{runtime.source_file, json::string(source)}};
  json::object config_map{
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata",
       {
           {"name", name},
           {"namespace", settings.namespace_name},
           {"labels", Labels(settings)},
           // Deleting the pod deletes this with it (the garbage collector).
           {"ownerReferences", json::array{{{"apiVersion", "v1"},
                                            {"kind", "Pod"},
                                            {"name", name},
                                            {"uid", pod_uid},
                                            {"controller", true}}}},
       }},
      {"immutable", true},
      {"data", std::move(data)},
  };
  // Any bytes: stdin need not be text.
  if (!stdin_data.empty())
    config_map["binaryData"] = {{kStdinKey, podlog::Base64Encode(stdin_data)}};
  return config_map;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseNodeSelector(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> selector;
  for (std::string_view item : SplitList(text)) {
    auto pair = I8C_TRY_VALUE(SplitPair(item, '=', "kubernetes.node_selector entry"));
    selector.push_back(std::move(pair));
  }
  return selector;
}

Result<std::vector<Toleration>> ParseTolerations(std::string_view text) {
  std::vector<Toleration> tolerations;
  for (std::string_view item : SplitList(text)) {
    Toleration t;
    std::string_view head = item;
    const std::size_t colon = item.rfind(':');
    if (colon != std::string_view::npos) {
      t.effect = std::string(item.substr(colon + 1));
      head = item.substr(0, colon);
      if (t.effect != "NoSchedule" && t.effect != "PreferNoSchedule" && t.effect != "NoExecute") {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("kubernetes.tolerations: effect '{}' is not NoSchedule, "
                                "PreferNoSchedule or NoExecute",
                                t.effect));
      }
    }
    const std::size_t eq = head.find('=');
    if (eq == std::string_view::npos) {
      t.key = std::string(head);
      t.op = "Exists";
    } else {
      t.key = std::string(head.substr(0, eq));
      t.value = std::string(head.substr(eq + 1));
    }
    if (t.key.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("kubernetes.tolerations entry '{}' has no key", item));
    }
    tolerations.push_back(std::move(t));
  }
  return tolerations;
}

}  // namespace integr8scode
