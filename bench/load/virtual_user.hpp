#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>

#include "load/load_settings.hpp"
#include "load/profile_stats.hpp"

namespace integr8scode {

// The state the virtual users of one profile share. Lives on the generator's one
// event-loop thread, which is what makes the unsynchronised counters safe.
struct ProfileRun {
  const LoadSettings& settings;
  ProfileStats& stats;
  std::chrono::steady_clock::time_point deadline;  // users start no further execution after it
};

// One virtual user: on its own kept-alive connection, submits a small Python program,
// follows it to its terminal status (as `run.stats.spec.mode` says), records what it
// measured, and starts over until the deadline; it makes at least one execution. The
// execution in flight at the deadline is still followed to its end, so that no work of
// this profile leaks into the next one.
boost::asio::awaitable<void> RunVirtualUser(ProfileRun& run, std::uint64_t user);

}  // namespace integr8scode
