#include "sandbox/network_namespace.hpp"

#include <fcntl.h>
#include <sched.h>

namespace integr8scode {

Result<UniqueFd> CreateNetworkNamespace() {
  UniqueFd original(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!original) return Fail(SystemError("open own network namespace"));
  // unshare(CLONE_NEWNET) moves only this thread (it implies neither CLONE_VM nor
  // CLONE_THREAD), so it is allowed in a multi-threaded process.
  if (::unshare(CLONE_NEWNET) != 0) return Fail(SystemError("unshare(CLONE_NEWNET)"));
  UniqueFd created(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  const int saved = errno;
  if (::setns(original.Get(), CLONE_NEWNET) != 0) {
    // This thread is stuck in the new namespace: fatal for a thread that serves runs.
    return Fail(SystemError("setns back to the original network namespace"));
  }
  if (!created) return Fail(SystemError(saved, "open the new network namespace"));
  return created;
}

NetworkNamespaceAhead::NetworkNamespaceAhead() = default;

NetworkNamespaceAhead::~NetworkNamespaceAhead() {
  if (pending_) pending_->wait();
}

void NetworkNamespaceAhead::Prepare() {
  if (pending_) return;
  pending_ = std::async(std::launch::async, [] { return CreateNetworkNamespace(); });
}

Result<UniqueFd> NetworkNamespaceAhead::Take() {
  if (!pending_) return CreateNetworkNamespace();
  Result<UniqueFd> fd = pending_->get();
  pending_.reset();
  return fd;
}

}  // namespace integr8scode
