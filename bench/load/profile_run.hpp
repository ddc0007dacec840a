#pragma once

#include "load/load_settings.hpp"
#include "load/profile_stats.hpp"

namespace integr8scode {

// Plays one profile against the server: `spec.users` virtual users at once on one
// event-loop thread (no thread per user), for `settings.duration`, then follows the
// executions still in flight to their end. Samples the server process's memory and
// CPU when `settings.server_pid` is set. Every failure is counted in the returned
// figures, not returned: a benchmark reports errors rather than stopping at the first.
ProfileStats RunProfile(const LoadSettings& settings, const ProfileSpec& spec);

}  // namespace integr8scode
