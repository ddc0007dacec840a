#pragma once

#include <cstdint>

namespace integr8scode {

// Messages on the SOCK_SEQPACKET control channel between the supervisor (the thread
// that runs an execution) and the sandbox init. Fixed-size PODs: one message per
// packet, both ends are this binary.

enum class InitEvent : std::uint32_t {
  kReady = 1,        // the sandbox is built; steps start on kRunStep
  kSetupFailed = 2,  // value = errno, text = what failed
  kStepStarted = 3,  // step forked; at_ns = when; value = StartKind
  kStepExited = 4,   // wait_status, rusage; at_ns = when; value = exec errno (0 if exec worked)
  kPrebuilt = 5,  // built ahead of its run: waiting for the run's LaunchSpec (launch_message.hpp)
};

struct InitMessage {
  InitEvent event{};
  std::uint32_t step = 0;
  std::int32_t value = 0;
  std::int32_t wait_status = 0;
  std::int64_t at_ns = 0;        // CLOCK_MONOTONIC of the sandbox's time namespace
  std::int64_t user_cpu_us = 0;  // from wait4's rusage (the step and its waited children)
  std::int64_t system_cpu_us = 0;
  std::int64_t max_rss_kib = 0;
  char text[96] = {};
};

enum class SupervisorCommand : std::uint32_t {
  kRunStep = 1,  // step = which
  kStop = 2,     // end the sandbox now
};

struct SupervisorMessage {
  SupervisorCommand command{};
  std::uint32_t step = 0;
};

}  // namespace integr8scode
