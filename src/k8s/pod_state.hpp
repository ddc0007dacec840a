#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

namespace integr8scode {

// What matters to the executor in a Pod object's status. Pure.
struct PodState {
  std::string uid;
  std::string resource_version;
  std::string phase;   // Pending, Running, Succeeded, Failed ("" when unknown)
  std::string reason;  // the pod's: DeadlineExceeded, Evicted …
  std::string message;
  bool deleted = false;        // a DELETED event or a 404
  bool unschedulable = false;  // condition PodScheduled False, reason Unschedulable
  std::string schedule_message;
  // The first container (init or run) waiting with a reason, e.g. ImagePullBackOff.
  std::string waiting_reason;
  std::string waiting_message;
  std::string waiting_image;
  bool run_started = false;  // the run container is running or has terminated
  bool run_terminated = false;
  std::optional<int> exit_code;
  std::string terminated_reason;  // OOMKilled, Error, Completed, ContainerCannotRun …

  bool Finished() const {
    return deleted || run_terminated || phase == "Succeeded" || phase == "Failed";
  }
};

PodState ReadPodState(const boost::json::object& pod);

// Whether a waiting reason means the image will not come (no point waiting longer).
bool IsPermanentPullFailure(const std::string& reason);
bool IsPullFailure(const std::string& reason);

}  // namespace integr8scode
