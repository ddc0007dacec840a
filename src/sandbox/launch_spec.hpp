#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace integr8scode {

// How a sandbox built ahead starts a warm zygote (docs/warm-starts.md): the init starts
// `zygote` ahead as `zygote_argv` with `env`, and uses it for a last step with the very
// argv `argv` and environment `env`. The zygote is a host path (opened before pivot_root,
// through a view of its directory of this sandbox's own) or, with `zygote_inside`, a path
// inside the sandbox (the interpreter itself, opened after pivot_root). The slot remembers
// one of these for its next sandbox (slot_pool.hpp).
struct WarmStart {
  std::string zygote;
  bool zygote_inside = false;
  std::vector<std::string> zygote_argv;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  // Modules the zygote imports before the go (sandbox.warm_preload). In a run's spec: the
  // list its zygote must have been started with — a zygote with another list does not
  // serve it (the run starts cold, as for another argv).
  std::vector<std::string> preload;
  // The descriptor the zygote finds its control socket on: 3, or kNodeZygoteControlFd for
  // Node (above the descriptors Node opens while it starts).
  std::uint32_t control_fd = 3;
};

// One program run inside a sandbox (a compile step or the run step).
struct StepSpec {
  std::vector<std::string> argv;      // argv[0] is an absolute path inside the sandbox
  std::vector<std::string> env;       // "KEY=value", the whole environment
  std::uint64_t file_size_bytes = 0;  // RLIMIT_FSIZE
  std::uint32_t open_files = 0;       // RLIMIT_NOFILE
  std::uint32_t processes = 0;        // RLIMIT_NPROC (the per-slot uid makes it per run)
  std::uint32_t cpu_seconds = 0;      // RLIMIT_CPU, a backstop behind the wall clock
};

// Everything the sandbox init needs, prepared by the parent before the sandbox is
// cloned. Plain data; serialized to cross into the spawner process.
struct LaunchSpec {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string root_mount_point;         // empty host directory; the new root is mounted there
  std::vector<std::string> host_paths;  // bound read-only at the same path
  // A runtime's own root filesystem, bound read-only as the root instead of the tmpfs
  // root, host paths, links and host /etc files (mounts.hpp). Empty: the tmpfs root.
  std::string root_tree;
  std::vector<std::pair<std::string, std::string>> root_symlinks;  // "bin" → "usr/bin"
  std::vector<std::string> host_etc_files;                         // copied into /etc when present
  std::string source_name;                                         // file name under /scripts
  std::uint64_t tmpfs_bytes = 0;               // writable /home/sandbox + /tmp, one size limit
  std::vector<std::string> cgroup_join_files;  // cgroup v1: files the init writes "0" into
  std::string hostname = "sandbox";
  // sandbox.isolation = "gvisor": each step runs under this runsc (a path inside the
  // sandbox, under a host path) on this platform (gvisor_bundle.hpp). Empty: native.
  std::string gvisor_runsc;
  std::string gvisor_platform;
  std::vector<StepSpec> steps;
  // Built ahead of its run: the sandbox is made without program and steps, reports
  // kPrebuilt, and waits on the control socket for the run's LaunchSpec and descriptors
  // (launch_message.hpp). The run's spec must have the same shape (Fits()).
  bool prebuilt = false;
  // Warm start (docs/warm-starts.md), only with `prebuilt`: how its zygote is started
  // ahead (WarmStart). Empty `warm.zygote`: every step cold.
  WarmStart warm;
  // A host directory shown read-only at kNodeZygoteSandboxDir (node_zygote.hpp) for the
  // whole run, through an overlay of this sandbox's own: the Node zygote's boot, which
  // worker threads preload again. In every sandbox of that runtime, cold ones too, so
  // that it is no difference between them. Empty: none.
  std::string zygote_dir;

  std::string Serialize() const;
  static Result<LaunchSpec> Deserialize(std::string_view bytes);
  // Whether a sandbox built for `shape` can run `run`: same identity, host paths, zygote
  // directory, links, /etc files, cgroup and hostname.
  static bool Fits(const LaunchSpec& shape, const LaunchSpec& run);
};

// The file descriptors that go with a LaunchSpec. In the parent they are owned by
// UniqueFds; here they are plain numbers because they are transferred (fork or
// SCM_RIGHTS) and then owned by the receiving process.
struct LaunchFds {
  int control = -1;              // SOCK_SEQPACKET to the supervisor
  int source = -1;               // the program text (read from offset 0); -1 when built ahead
  int stdin_fd = -1;             // read-only; -1 means /dev/null
  int cgroup_dir = -1;           // cgroup v2: the slot, for clone3(CLONE_INTO_CGROUP)
  int netns = -1;                // a fresh network namespace made ahead of time; -1: clone one
  std::vector<int> step_stdout;  // write ends, one per step
  std::vector<int> step_stderr;

  std::vector<int> All() const;
};

}  // namespace integr8scode
