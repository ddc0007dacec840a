#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/cancel.hpp"
#include "common/child.hpp"
#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "domain/execution.hpp"
#include "run/outcome.hpp"
#include "run/output_capture.hpp"
#include "sandbox/cgroup.hpp"

namespace integr8scode {

struct StepPlan {
  Limits limits;
  bool compile = false;
  // Processes the slot's cgroup allows beyond limits.pids for the isolation layer
  // itself (gVisor's runsc); the program's limit stays limits.pids.
  std::uint32_t platform_pids = 0;
};

struct StepReport {
  StepFacts facts;
  Verdict verdict;
  ResourceUsage usage;
  StartKind start = StartKind::kCold;
  // Warm: the modules of sandbox.warm_preload its zygote could not import ("a,b"), or empty.
  std::string preload_missing;
};

// The parent side of one sandbox: drives the init through its steps over the control
// socket, enforces the wall clock, the output caps and cancellation, captures output,
// reads the slot's accounting, and at the end hands the stopping init to the caller
// (Finish). Owns every descriptor it is given; the destructor kills the sandbox if it
// still runs and was not handed over.
// Used by one thread.
class Supervisor {
 public:
  Supervisor(UniqueFd control, Child init, std::vector<UniqueFd> stdout_pipes,
             std::vector<UniqueFd> stderr_pipes, CgroupSlot& slot, const Limits& limits,
             const CancelToken* cancel, OutputSink* sink);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Waits until the sandbox is built. kInternal with the init's reason when it failed.
  Status AwaitReady(std::chrono::milliseconds timeout);
  // Runs step `index` with the plan's limits (written to the slot first) to its end.
  Result<StepReport> RunStep(std::uint32_t index, const StepPlan& plan);
  // Ends the sandbox: tells the init to stop and hands it over without waiting for its
  // exit. What the init's exit costs — the kernel tearing down its mounts and namespaces,
  // ~0.3–0.5 ms — is not the run's: the caller waits for it before the slot's next
  // sandbox (LocalExecutor). Every process of the run is gone already (the init reaps
  // them all before its last step's report); an init that ignores the stop is killed by
  // the caller's wait. An init that has exited is handed over as well.
  Child Finish();

  OutputCapture& Stdout() { return stdout_; }
  OutputCapture& Stderr() { return stderr_; }

 private:
  void Kill();
  bool WaitForExit(std::chrono::milliseconds timeout);
  void Drain(std::uint32_t index, std::chrono::milliseconds timeout);
  // Reads what is available on a pipe; false at EOF.
  bool ReadPipe(UniqueFd& pipe, OutputCapture& capture, bool& flooded);

  UniqueFd control_;
  Child init_;
  std::vector<UniqueFd> stdout_pipes_;
  std::vector<UniqueFd> stderr_pipes_;
  CgroupSlot& slot_;
  const CancelToken* cancel_;
  OutputCapture stdout_;
  OutputCapture stderr_;
  bool exited_ = false;
};

}  // namespace integr8scode
