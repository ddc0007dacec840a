#pragma once

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "sandbox/launch_spec.hpp"

namespace integr8scode {

// Builds the sandbox's filesystem and makes it the root (docs/sandbox.md). Runs in the
// sandbox init, inside its fresh mount and PID namespaces, as real root:
//   / ........... small tmpfs, read-only once built, nosuid (or a runtime's own tree,
//                 seen like the host directories)
//   /usr … ...... the runtime's host directories, each seen through a read-only overlay
//                 of this sandbox's own (its inodes, so its locks, are the run's), nosuid, nodev
//   /bin, /lib … symlinks into /usr, as on the host (merged /usr)
//   /etc ........ passwd, group, hosts, hostname, nsswitch.conf, + copies of host files
//   /dev ........ null, zero, full, random, urandom; fd/stdin/stdout/stderr links
//   /proc ....... a new procfs of the sandbox's PID namespace, hidepid=2
//   /scripts/<f>  the program, mode 0444 on the read-only root
//   /home/sandbox and /tmp: one writable tmpfs (size-limited), nosuid, nodev
// Every path is created relative to a directory fd of the new root; nothing inside it
// is ever followed from a path the sandboxed program could have written.
//
// Two halves, so that a sandbox can be built ahead of its run: BuildRootFilesystem does
// everything up to and including pivot_root (the root stays writable, for the init
// only: no user code has run); FinishRootFilesystem places the program, sizes the
// writable area for the run (it was built with `built_tmpfs_bytes`) and makes /
// read-only.
// With `zygote`, a sandbox built ahead for a warm start also opens spec.warm_zygote (O_PATH)
// through an overlay of its directory of its own; left empty when that fails.
Status BuildRootFilesystem(const LaunchSpec& spec, UniqueFd* zygote = nullptr);
Status FinishRootFilesystem(const LaunchSpec& spec, int source_fd, std::uint64_t built_tmpfs_bytes);

}  // namespace integr8scode
