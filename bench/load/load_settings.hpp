#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace integr8scode {

// How a virtual user learns the result of its execution.
enum class FollowMode {
  kPoll,  // POST /execute, then GET /executions/{id} until the status is terminal
  kWait,  // POST /execute?wait=true: the answer is the finished execution
};
std::string_view FollowModeName(FollowMode mode);

// One load profile: how many virtual users run at once, following results how.
struct ProfileSpec {
  std::string name;
  std::size_t users = 1;
  FollowMode mode = FollowMode::kPoll;
};

// The original's profiles, by name: smoke 1, light 10, medium 50, heavy 100, stress 200.
struct NamedProfile {
  std::string_view name;
  std::size_t users;
};
inline constexpr NamedProfile kStandardProfiles[] = {
    {"smoke", 1}, {"light", 10}, {"medium", 50}, {"heavy", 100}, {"stress", 200}};

// "smoke,light,stress" or user counts ("25") → profiles, in the order given. Fails
// with kInvalidArgument for an unknown name, a zero count or an empty list.
Result<std::vector<ProfileSpec>> ParseProfiles(std::string_view list, FollowMode mode);

// Where the server listens. The generator drives loopback servers only: it is a
// benchmark of this machine, never a tool to point at someone else's service.
struct LoopbackEndpoint {
  std::string address;  // "127.0.0.1" or "::1"
  std::uint16_t port = 0;
  std::string host_header;  // "127.0.0.1:8080"
};

// "http://127.0.0.1:8080", "http://localhost:8080/", "http://[::1]:8080" → endpoint.
// Fails with kInvalidArgument for another scheme, a host that is not loopback, a path,
// or a missing or bad port.
Result<LoopbackEndpoint> ParseLoopbackUrl(std::string_view url);

// Everything a profile run needs besides the profile itself. Immutable during a run.
struct LoadSettings {
  LoopbackEndpoint endpoint;
  std::string lang = "python";
  std::string lang_version = "3.11";
  std::chrono::milliseconds duration{30000};         // submissions start only before this
  std::chrono::milliseconds poll_initial{5};         // first wait before reading the result
  std::chrono::milliseconds poll_max{250};           // poll gap grows ×1.5 up to this
  std::chrono::milliseconds follow_timeout{60000};   // give up on one execution after this
  std::chrono::milliseconds request_timeout{30000};  // one HTTP exchange (wait: + 30 s)
  std::chrono::milliseconds error_pause{100};        // after a failed request, before the next
  std::chrono::milliseconds sample_interval{250};    // server RSS sampling
  pid_t server_pid = 0;                              // 0: no server figures
};

}  // namespace integr8scode
