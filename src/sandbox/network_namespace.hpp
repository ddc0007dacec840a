#pragma once

#include <future>
#include <optional>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace integr8scode {

// A new network namespace has no interfaces but a down loopback: no network at all.
// Creating one is the dearest part of a sandbox (~0.7 ms here, with a long tail when
// the kernel is busy tearing others down), so it is made ahead of time, off the run's
// critical path, and handed to exactly one sandbox, whose init joins it with setns().
// Never reused: nothing is shared between runs.

// Creates a fresh network namespace and returns a descriptor of it. Changes only the
// calling thread's namespace, and restores it before returning.
Result<UniqueFd> CreateNetworkNamespace();

// One namespace made on a helper thread while the caller does other work. Take() waits
// for it. Not thread-safe; the owner must not clone while the helper thread runs
// (Take() joins it), since a fork copies only the calling thread.
class NetworkNamespaceAhead {
 public:
  NetworkNamespaceAhead();
  ~NetworkNamespaceAhead();
  NetworkNamespaceAhead(const NetworkNamespaceAhead&) = delete;
  NetworkNamespaceAhead& operator=(const NetworkNamespaceAhead&) = delete;

  // Starts making a namespace unless one is already on the way.
  void Prepare();
  // The prepared namespace (waiting for it), or a new one made now if none was prepared.
  Result<UniqueFd> Take();

 private:
  std::optional<std::future<Result<UniqueFd>>> pending_;
};

}  // namespace integr8scode
