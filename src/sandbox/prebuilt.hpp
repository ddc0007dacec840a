#pragma once

#include <chrono>

#include "common/child.hpp"
#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "sandbox/launch_spec.hpp"
#include "sandbox/launcher.hpp"

namespace integr8scode {

// The control socket and init of a sandbox that is about to run, for a Supervisor.
struct SandboxHandle {
  UniqueFd control;
  Child init;
};

// A sandbox built ahead of its run while its slot is idle: namespaces, cgroup and root
// filesystem ready, waiting for the program (LaunchSpec::prebuilt). Used by exactly one
// run — nothing is shared between runs — and killed if it is never used. Move-only; used
// by one thread at a time (its slot's holder).
class PrebuiltSandbox {
 public:
  // Asks `launcher` for a sandbox of `shape` (prebuilt is set here); `cgroup_dir` as in
  // LaunchFds. Returns at once: the sandbox builds itself in the background.
  static Result<PrebuiltSandbox> Build(SandboxLauncher& launcher, LaunchSpec shape, int cgroup_dir);

  // Never used, it is killed (Child): the kernel takes its namespaces with it.
  PrebuiltSandbox(PrebuiltSandbox&&) noexcept = default;
  PrebuiltSandbox& operator=(PrebuiltSandbox&&) noexcept = default;
  ~PrebuiltSandbox() = default;

  const LaunchSpec& Shape() const { return shape_; }
  // Whether its init still runs (a poll of its pidfd, no wait). A live init holds the
  // slot's cgroup: the kernel refuses to remove a cgroup with a process in it.
  bool Alive() const;
  // Waits until the sandbox is built (at most `timeout`), then gives it the run: `run`
  // (which must fit the shape) and its descriptors (source, stdin, step pipes; no
  // control). On success the returned handle owns the sandbox; on failure it is killed.
  Result<SandboxHandle> HandOver(const LaunchSpec& run, const LaunchFds& run_fds,
                                 std::chrono::milliseconds timeout);

 private:
  PrebuiltSandbox(UniqueFd control, Child init, LaunchSpec shape)
      : control_(std::move(control)), init_(std::move(init)), shape_(std::move(shape)) {}

  UniqueFd control_;
  Child init_;
  LaunchSpec shape_;
};

}  // namespace integr8scode
