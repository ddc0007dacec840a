#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "common/error.hpp"
#include "domain/runtime.hpp"

namespace integr8scode {

struct RootfsInstallResult {
  bool built = false;  // false: the tree of this recipe was there already
  double seconds = 0;
  std::uint64_t disk_bytes = 0;  // of the tree, as stored
};

// Builds `runtime`'s root filesystem from its recipe (runtime.rootfs) with `builder`
// (runtimes/build-rootfs), whose progress goes to this process's stdout and stderr.
// The tree is built in a staging directory beside its place, marked with its recipe
// key last, and renamed into runtime.root_tree: a run never sees a half-built tree.
// Runtimes of the same recipe share the tree. Installers of the same recipe exclude
// each other with a lock file. Needs root (dpkg-deb keeps
// the packages' owners; chroot for the setup command).
// Fails with kInvalidArgument for a runtime without a recipe, kUnavailable when the
// builder fails (its output says why), kInternal for filesystem errors.
Result<RootfsInstallResult> InstallRootfs(const Runtime& runtime,
                                          const std::filesystem::path& builder, bool force);

// Removes the trees under `runtimes_dir` that no runtime of `catalog` names (older
// recipes); only finished trees (with their marker). A server started before still
// names its trees until it restarts. Returns what was removed.
std::vector<std::filesystem::path> PruneRootfs(const RuntimeCatalog& catalog,
                                               const std::filesystem::path& runtimes_dir);

// Bytes stored under `tree` (regular files, not following links).
std::uint64_t TreeDiskBytes(const std::filesystem::path& tree);

}  // namespace integr8scode
