#include "k8s/pod_state.hpp"

#include <boost/json.hpp>

#include "k8s/pod_manifest.hpp"

namespace integr8scode {
namespace {

namespace json = boost::json;

std::string Text(const json::object& object, std::string_view key) {
  if (const json::value* value = object.if_contains(key); value != nullptr && value->is_string())
    return std::string(value->get_string());
  return {};
}

const json::object* Object(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_object() ? &value->get_object() : nullptr;
}

const json::array* Array(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_array() ? &value->get_array() : nullptr;
}

void ReadWaiting(const json::array& statuses, PodState& state) {
  for (const json::value& item : statuses) {
    if (!item.is_object() || !state.waiting_reason.empty()) continue;
    const json::object* status = Object(item.get_object(), "state");
    if (status == nullptr) continue;
    if (const json::object* waiting = Object(*status, "waiting")) {
      const std::string reason = Text(*waiting, "reason");
      if (reason.empty() || reason == "PodInitializing" || reason == "ContainerCreating") continue;
      state.waiting_reason = reason;
      state.waiting_message = Text(*waiting, "message");
      state.waiting_image = Text(item.get_object(), "image");
    }
  }
}

}  // namespace

PodState ReadPodState(const json::object& pod) {
  PodState state;
  if (const json::object* metadata = Object(pod, "metadata")) {
    state.uid = Text(*metadata, "uid");
    state.resource_version = Text(*metadata, "resourceVersion");
  }
  const json::object* status = Object(pod, "status");
  if (status == nullptr) return state;
  state.phase = Text(*status, "phase");
  state.reason = Text(*status, "reason");
  state.message = Text(*status, "message");
  if (const json::array* conditions = Array(*status, "conditions")) {
    for (const json::value& item : *conditions) {
      if (!item.is_object()) continue;
      const json::object& condition = item.get_object();
      if (Text(condition, "type") == "PodScheduled" && Text(condition, "status") == "False" &&
          Text(condition, "reason") == "Unschedulable") {
        state.unschedulable = true;
        state.schedule_message = Text(condition, "message");
      }
    }
  }
  if (const json::array* init = Array(*status, "initContainerStatuses")) ReadWaiting(*init, state);
  if (const json::array* containers = Array(*status, "containerStatuses")) {
    ReadWaiting(*containers, state);
    for (const json::value& item : *containers) {
      if (!item.is_object() || Text(item.get_object(), "name") != kRunContainer) continue;
      const json::object* current = Object(item.get_object(), "state");
      if (current == nullptr) continue;
      if (Object(*current, "running") != nullptr) state.run_started = true;
      if (const json::object* terminated = Object(*current, "terminated")) {
        state.run_started = true;
        state.run_terminated = true;
        state.terminated_reason = Text(*terminated, "reason");
        if (const json::value* code = terminated->if_contains("exitCode");
            code != nullptr && code->is_int64()) {
          state.exit_code = static_cast<int>(code->get_int64());
        }
      }
    }
  }
  return state;
}

bool IsPermanentPullFailure(const std::string& reason) {
  return reason == "ImagePullBackOff" || reason == "InvalidImageName" ||
         reason == "ErrImageNeverPull";
}

bool IsPullFailure(const std::string& reason) {
  return IsPermanentPullFailure(reason) || reason == "ErrImagePull";
}

}  // namespace integr8scode
