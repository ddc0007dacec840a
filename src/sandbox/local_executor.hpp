#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "domain/executor.hpp"
#include "sandbox/cgroup.hpp"

namespace integr8scode {

// One slot per CPU core (at least one).
inline std::size_t DefaultSandboxSlots() {
  return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

// How the local sandbox is set up on this host. The configuration's [sandbox] section is
// this type (app/config.hpp), so these defaults are the only ones.
struct SandboxOptions {
  std::size_t slots =
      0;  // runs at once, each with its own cgroup and uid; 0: DefaultSandboxSlots()
  std::string cgroup_mode = "auto";     // "auto", "v1" or "v2"
  std::filesystem::path cgroup_parent;  // empty: a child of this process's own cgroup
  std::filesystem::path state_dir = "/run/integr8scode";  // the mount point of sandbox roots
  uid_t first_uid = 61000;               // slot i runs programs as uid/gid first_uid + i
  std::uint32_t cpu_period_us = 100000;  // CFS period for the CPU quota
  // The programs' CPU weight against the service's own threads (CgroupOptions::cpu_weight).
  std::uint32_t cpu_weight = kDefaultCpuWeight;
  // "native" or "gvisor": each step under gVisor's runsc (docs/sandbox.md, "gVisor").
  std::string isolation = "native";
  std::filesystem::path gvisor_runsc = "/usr/bin/runsc";  // must lie under a runtime's host path
  std::string gvisor_platform = "ptrace";
  // Clone sandboxes from a small spawner process forked now (for the server, whose
  // address space grows large and which has many threads). The CLI, itself small and
  // single-threaded, clones directly.
  bool use_spawner = true;
  // With the spawner: build each slot's next sandbox ahead while the slot is idle (the
  // run then only adds its program and starts). Each sandbox still serves one run.
  bool prebuild = true;
  // Warm starts (docs/warm-starts.md): with `prebuild`, the path of
  // integr8scode-python-zygote; the next sandbox built ahead for a run of a runtime with a
  // zygote (catalog key `zygote`: the host's CPython 3.11, PyPy) then starts its
  // interpreter ahead too. Empty: every run cold. A path that is not executable: every
  // CPython run cold, and those that would have been warm count as fallbacks (StartKind);
  // PyPy's zygote is its interpreter and still starts warm.
  std::filesystem::path warm_zygote;
  // With warm starts: the directory of the Node.js zygote's boot and addon
  // (integr8scode-node-zygote/, beside the service's executable). Shown read-only in
  // every sandbox of a runtime with zygote "node-require". Empty: such runs cold. One
  // without the boot: they run cold, and those that would have been warm count as
  // fallbacks.
  std::filesystem::path node_zygote_dir;
  // Modules the zygote imports before the go ("json", "xml.etree.ElementTree"): a warm
  // run finds them in sys.modules before its first line, the one difference from a cold
  // run they make. One that cannot be imported in the sandbox is left out (said once in
  // the log, counted per run). Empty: only what the interpreter imports at start.
  std::vector<std::string> warm_preload;
  // Tests only (see CgroupOptions::allow_missing_controllers).
  bool allow_missing_cgroup_controllers = false;

  friend bool operator==(const SandboxOptions&, const SandboxOptions&) = default;
};

// Creates the local sandbox executor: prepares one cgroup per slot and starts the
// small spawner process that clones sandboxes (the server itself is never forked).
// Call it before the process starts threads. Fails with kUnavailable and a reason
// when the host cannot sandbox (not root, no cgroup controllers, no namespaces).
Result<std::unique_ptr<Executor>> CreateLocalExecutor(const SandboxOptions& options);

}  // namespace integr8scode
