#include "sandbox/rlimits.hpp"

#include <sys/resource.h>

#include <cerrno>

namespace integr8scode {
namespace {

int Set(int resource, rlim_t soft, rlim_t hard) {
  const rlimit limit{soft, hard};
  return ::setrlimit(resource, &limit) == 0 ? 0 : errno;
}

}  // namespace

int ApplyStepRlimits(const StepSpec& step) {
  struct {
    int resource;
    rlim_t soft;
    rlim_t hard;
  } const limits[] = {
      {RLIMIT_FSIZE, step.file_size_bytes, step.file_size_bytes},
      {RLIMIT_NOFILE, step.open_files, step.open_files},
      {RLIMIT_NPROC, step.processes, step.processes},
      // SIGXCPU at the soft limit, SIGKILL at the hard one.
      {RLIMIT_CPU, step.cpu_seconds, step.cpu_seconds + 1},
      {RLIMIT_CORE, 0, 0},
      {RLIMIT_MSGQUEUE, 0, 0},
  };
  for (const auto& limit : limits) {
    if (const int error = Set(limit.resource, limit.soft, limit.hard); error != 0) return error;
  }
  return 0;
}

}  // namespace integr8scode
