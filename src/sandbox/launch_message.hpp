#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "sandbox/launch_spec.hpp"

namespace integr8scode {

// One packet with descriptors attached (SCM_RIGHTS) on a SOCK_SEQPACKET socket.
Status SendWithFds(int socket, const void* data, std::size_t size, const std::vector<int>& fds,
                   const void* extra = nullptr, std::size_t extra_size = 0);
// Receives one packet (at most buffer.size() bytes) and its descriptors, close-on-exec.
// Returns the bytes read; 0 when the peer is gone.
Result<std::size_t> ReceiveWithFds(int socket, std::vector<char>& buffer,
                                   std::vector<UniqueFd>& fds);

// A LaunchSpec and its descriptors as one packet: to the spawner (which clones the
// sandbox), or to a sandbox built ahead of its run (which then finishes itself). The
// descriptors travel in LaunchFds order; absent ones (-1) are not sent.
Status SendLaunch(int socket, const LaunchSpec& spec, const LaunchFds& fds);

struct ReceivedLaunch {
  LaunchSpec spec;
  std::vector<UniqueFd> owned;  // every descriptor received; `fds` points into them
  LaunchFds fds;
};
// kInternal for a malformed packet; kUnavailable when the peer is gone.
Result<ReceivedLaunch> ReceiveLaunch(int socket);

}  // namespace integr8scode
