#pragma once

#include <memory>
#include <string>

#include "domain/cluster_queue.hpp"

namespace integr8scode {

// ChangeFeed over a dedicated libpq connection: LISTEN on the three channels of
// domain/cluster_queue.hpp, poll(2) on its socket, reconnect with a pause after a loss
// (on_connected then tells the owner to resynchronise). Needs a session-level connection:
// through PgBouncer in transaction mode LISTEN does not work (docs/scale-out.md).
std::unique_ptr<ChangeFeed> StartPgChangeFeed(std::string url, int connect_timeout_s,
                                              ChangeFeedCallbacks callbacks);

}  // namespace integr8scode
