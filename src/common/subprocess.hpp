#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace integr8scode {

struct CommandOutput {
  int exit_code = -1;  // -1 when killed by a signal
  std::string output;  // stdout and stderr interleaved, at most 64 KiB
};

// Runs a trusted host command (not user code: no sandbox) with an empty stdin and the
// caller's environment, killing it after `timeout`. Fails when it cannot be started.
Result<CommandOutput> RunHostCommand(const std::vector<std::string>& argv,
                                     std::chrono::milliseconds timeout);

}  // namespace integr8scode
