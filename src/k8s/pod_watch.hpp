#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/error.hpp"
#include "k8s/api_client.hpp"
#include "k8s/pod_state.hpp"

namespace integr8scode {

// Follows one pod's status with a watch from a resourceVersion: a watch that ends or
// breaks is opened again from the last version seen; "410 Gone" (the version is too old
// for the server's history, as after an API server restart) is met by reading the pod
// afresh and watching from its version. Used by one thread.
class PodWatch {
 public:
  PodWatch(KubeClient& client, std::string namespace_name, std::string name,
           std::string resource_version);
  ~PodWatch();

  enum class End { kMatched, kDeadline, kCancelled };
  struct Outcome {
    End end = End::kMatched;
    PodState state;
  };
  // Waits until `done(state)` holds for the latest state (a deleted pod always ends the
  // wait), the deadline passes or `cancel` fires. Fails when the API server could not be
  // reached through the client's retries.
  Result<Outcome> Until(const std::function<bool(const PodState&)>& done,
                        std::chrono::steady_clock::time_point deadline, const CancelToken* cancel);
  const PodState& Latest() const { return latest_; }

 private:
  Status Relist(const CancelToken* cancel);
  Status OpenStream(std::chrono::steady_clock::time_point deadline, const CancelToken* cancel);
  // Applies the complete lines of the stream; true when a 410 asks for a relist.
  Result<bool> Apply(std::string& buffer);

  KubeClient& client_;
  std::string namespace_;
  std::string name_;
  std::string resource_version_;
  std::unique_ptr<KubeStream> stream_;
  PodState latest_;
};

}  // namespace integr8scode
