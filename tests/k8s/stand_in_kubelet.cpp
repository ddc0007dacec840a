// The stand-in cluster's kubelet: schedules, "pulls", mounts and runs each pod, the
// container in the real local sandbox (see stand_in_cluster.hpp).
#include <boost/json.hpp>
#include <chrono>
#include <utility>

#include "common/cancel.hpp"
#include "k8s/log_frames.hpp"
#include "k8s/stand_in_cluster.hpp"
#include "k8s/stand_in_internal.hpp"

namespace integr8scode::testing {

using namespace standin;  // NOLINT: the helpers of this one component
using Clock = std::chrono::steady_clock;

// The kubelet of one pod: schedule, pull, mount, run, report.
void StandInCluster::Kubelet(std::string name) {
  std::unique_lock lock(mutex_);
  auto it = pods_.find(name);
  if (it == pods_.end()) return;
  std::shared_ptr<Pod> pod = it->second;
  json::object& object = pod->object;
  const json::object* spec = Obj(&object, "spec");
  json::object& status = Ensure(object, "status");

  bool schedulable = !unschedulable_;
  if (const json::object* selector = Obj(spec, "nodeSelector")) {
    for (const auto& [key, value] : *selector) {
      auto label = options_.node_labels.find(std::string(key));
      if (label == options_.node_labels.end() || !value.is_string() ||
          label->second != value.get_string())
        schedulable = false;
    }
  }
  if (!schedulable) {
    status["conditions"] = json::array{{{"type", "PodScheduled"},
                                        {"status", "False"},
                                        {"reason", "Unschedulable"},
                                        {"message",
                                         "0/1 nodes are available: 1 node(s) didn't "
                                         "match Pod's node affinity/selector."}}};
    Touch(name, "MODIFIED");
    return;
  }
  status["conditions"] = json::array{{{"type", "PodScheduled"}, {"status", "True"}}};
  status["hostIP"] = "127.0.0.1";
  Touch(name, "MODIFIED");

  const json::array* containers = Arr(spec, "containers");
  const json::array* inits = Arr(spec, "initContainers");
  if (containers == nullptr || containers->empty()) return;
  const json::object& run = containers->front().get_object();
  const std::string image = Str(&run, "image");
  const std::string helper = inits != nullptr && !inits->empty()
                                 ? Str(&inits->front().get_object(), "image")
                                 : options_.helper_image;
  const Runtime* runtime = nullptr;
  for (const Runtime& r : options_.catalog->All()) {
    if (r.image == image) runtime = &r;
  }
  for (const std::string& wanted : {helper, image}) {
    const bool known = wanted == options_.helper_image || (runtime != nullptr && wanted == image);
    if (!known || pull_failures_.contains(wanted)) {
      const bool is_helper = wanted == helper && inits != nullptr && !inits->empty();
      const std::string container = is_helper ? "install-wrapper" : "run";
      auto waiting = [&](std::string_view reason) {
        json::object state{
            {"waiting",
             {{"reason", reason}, {"message", "Back-off pulling image \"" + wanted + "\""}}}};
        status[is_helper ? "initContainerStatuses" : "containerStatuses"] =
            json::array{ContainerStatus(container, wanted, state)};
        Touch(name, "MODIFIED");
      };
      waiting("ErrImagePull");
      if (changed_.wait_for(lock, std::chrono::milliseconds(300),
                            [&] { return pod->cancel->Cancelled(); }))
        return;
      if (!pods_.contains(name)) return;
      waiting("ImagePullBackOff");
      return;
    }
  }
  // The ConfigMap volume: the kubelet waits for it (it is created after the pod).
  const std::string cm_name = [&] {
    if (const json::array* volumes = Arr(spec, "volumes")) {
      for (const json::value& v : *volumes) {
        if (const json::object* cm = Obj(&v.get_object(), "configMap")) return Str(cm, "name");
      }
    }
    return std::string();
  }();
  changed_.wait(lock, [&] {
    return pod->cancel->Cancelled() || (!hold_pending_ && config_maps_.contains(cm_name));
  });
  if (pod->cancel->Cancelled() || !pods_.contains(name)) return;
  const json::object config_map = config_maps_.at(cm_name);

  status["phase"] = "Running";
  status["initContainerStatuses"] = json::array{ContainerStatus(
      "install-wrapper", helper, {{"terminated", {{"exitCode", 0}, {"reason", "Completed"}}}})};
  status["containerStatuses"] = json::array{
      ContainerStatus("run", image, {{"running", {{"startedAt", "2026-01-01T00:00:00Z"}}}})};
  pod->started = true;
  Touch(name, "MODIFIED");
  if (delete_when_running_) {
    delete_when_running_ = false;
    DeletePodLocked(name);
    return;
  }

  // The container: the wrapper the pod names, in the local sandbox, with the pod's limits.
  Runtime container = *runtime;
  container.has_compile = false;
  container.run.limits = {};
  container.host_paths.push_back(options_.pod_init.parent_path().string());
  container.run.argv = {options_.pod_init.string()};
  bool stdin_next = false;
  if (const json::array* args = Arr(&run, "args")) {
    for (const json::value& a : *args) {
      // The pod reads stdin from the ConfigMap's file; the sandbox gives it as fd 0.
      container.run.argv.push_back(stdin_next ? std::string("-") : std::string(a.get_string()));
      stdin_next = a.get_string() == "--stdin";
    }
  }
  // The program is where the pod's ConfigMap volume puts it: the item that is not stdin.
  std::string source, stdin_data;
  if (const json::array* volumes = Arr(spec, "volumes")) {
    for (const json::value& v : *volumes) {
      const json::array* items = Arr(Obj(&v.get_object(), "configMap"), "items");
      if (items == nullptr) continue;
      for (const json::value& item : *items) {
        const std::string key = Str(&item.get_object(), "key");
        if (key == "stdin") continue;
        container.source_file = Str(&item.get_object(), "path");
        if (const json::object* data = Obj(&config_map, "data")) source = Str(data, key);
      }
    }
  }
  if (const json::object* binary = Obj(&config_map, "binaryData")) {
    if (auto decoded = podlog::Base64Decode(Str(binary, "stdin"))) stdin_data = *decoded;
  }
  const json::object* limits = Obj(Obj(&run, "resources"), "limits");
  Limits pod_limits;
  pod_limits.memory_bytes =
      ParseQuantity(limits ? limits->if_contains("memory") : nullptr, 128u << 20);
  pod_limits.cpu_millicores = static_cast<std::uint32_t>(
      ParseQuantity(limits ? limits->if_contains("cpu") : nullptr, 1000));
  std::int64_t deadline_s = 600;
  if (const json::value* d = spec->if_contains("activeDeadlineSeconds"); d && d->is_int64())
    deadline_s = d->get_int64();
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - pod->created);
  pod_limits.timeout = std::max(std::chrono::milliseconds(100),
                                std::chrono::milliseconds(deadline_s * 1000) - elapsed);
  pod_limits.pids = 128;  // the node's podPidsLimit
  pod_limits.output_bytes = 256ull << 20;
  pod_limits.open_files = 1024;
  if (const json::array* volumes = Arr(spec, "volumes")) {
    for (const json::value& v : *volumes) {
      if (Str(&v.get_object(), "name") == "work") {
        if (const json::object* dir = Obj(&v.get_object(), "emptyDir"))
          pod_limits.tmpfs_bytes =
              ParseQuantity(dir->if_contains("sizeLimit"), pod_limits.tmpfs_bytes);
      }
    }
  }
  pod_limits.file_size_bytes = pod_limits.tmpfs_bytes;
  std::shared_ptr<CancelToken> cancel = pod->cancel;
  lock.unlock();

  struct LogSink final : OutputSink {
    StandInCluster* cluster;
    std::shared_ptr<Pod> pod;
    bool oom_group = false;
    void OnOutput(OutputStream stream, std::string_view chunk) override {
      std::lock_guard guard(cluster->mutex_);
      // The kubelet's log merges the container's two streams, as here.
      (void)stream;
      pod->log.append(chunk);
      // memory.oom.group: the kernel kills the whole container, wrapper included, once
      // the program runs (and has printed).
      const std::size_t output = pod->log.find(" o ");
      if (oom_group && output != std::string::npos &&
          pod->log.find('\n', output) != std::string::npos)
        pod->cancel->Cancel();
      cluster->changed_.notify_all();
    }
  } sink;
  sink.cluster = this;
  sink.pod = pod;
  sink.oom_group = std::exchange(oom_group_next_, false);
  RunRequest request;
  request.runtime = &container;
  request.source = source;
  request.stdin_data = stdin_data;
  request.limits = pod_limits;
  request.sink = &sink;
  request.cancel = cancel.get();
  const RunResult result = options_.local->Run(request);

  lock.lock();
  pod->terminated = true;
  if (!pods_.contains(name)) {
    changed_.notify_all();
    return;
  }
  int exit_code = result.exit_code.value_or(result.signal ? 128 + *result.signal : 1);
  std::string reason = exit_code == 0 ? "Completed" : "Error";
  // A kubelet (containerd) reports OOMKilled when the container's cgroup saw an OOM kill,
  // even if the container's first process (the wrapper) outlived its killed child. The
  // local sandbox's verdict names such a kill in its message (run/outcome.cpp).
  const bool cgroup_oom_kill = result.message.find("was killed at the") != std::string::npos;
  if (result.status == ExecutionStatus::kMemoryExceeded || sink.oom_group || cgroup_oom_kill) {
    reason = "OOMKilled";
    exit_code = 137;
  }
  if (result.status == ExecutionStatus::kTimedOut) {
    status["reason"] = "DeadlineExceeded";
    status["message"] = "Pod was active on the node longer than the specified deadline";
    exit_code = 137;
  }
  if (result.status == ExecutionStatus::kError) reason = "ContainerCannotRun";
  status["phase"] = exit_code == 0 ? "Succeeded" : "Failed";
  status["containerStatuses"] = json::array{ContainerStatus(
      "run", image, {{"terminated", {{"exitCode", exit_code}, {"reason", reason}}}})};
  Touch(name, "MODIFIED");
}

}  // namespace integr8scode::testing
