#include "catalog/rootfs_installer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>

#include "catalog/probe.hpp"
#include "common/child.hpp"
#include "common/try.hpp"
#include "common/unique_fd.hpp"

extern char** environ;

namespace integr8scode {
namespace {

namespace fs = std::filesystem;

// The builder with the terminal of this process: its progress is the user's to see.
Status RunBuilder(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (const int rc = ::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ);
      rc != 0) {
    return Fail(SystemError(rc, fmt::format("cannot start {}", argv[0])));
  }
  auto adopted = Child::Adopt(pid);
  if (!adopted) return Fail(std::move(adopted).error());
  Child builder = std::move(*adopted);  // killed and reaped if this process gives up on it
  auto waited = builder.Wait();
  if (!waited) return Fail(std::move(waited).error());
  const int status = *waited;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return Fail(ErrorCode::kUnavailable,
              WIFEXITED(status)
                  ? fmt::format("{} failed with exit code {}", argv[0], WEXITSTATUS(status))
                  : fmt::format("{} was killed by signal {}", argv[0], WTERMSIG(status)));
}

bool HasMarker(const fs::path& tree, const std::string& key) {
  std::ifstream marker(tree / kRootfsMarker);
  std::string line;
  return marker && std::getline(marker, line) && line == key;
}

Status WriteMarker(const fs::path& tree, const Runtime& runtime) {
  std::ofstream marker(tree / kRootfsMarker);
  marker << runtime.rootfs.Key() << "\n" << runtime.rootfs.suite << "\n";
  for (const std::string& package : runtime.rootfs.packages) marker << package << "\n";
  marker.close();
  if (!marker) return Fail(ErrorCode::kInternal, "cannot write the root filesystem's marker");
  return {};
}

}  // namespace

std::vector<fs::path> PruneRootfs(const RuntimeCatalog& catalog, const fs::path& runtimes_dir) {
  std::set<fs::path> used;
  for (const Runtime& runtime : catalog.All()) {
    if (!runtime.root_tree.empty()) used.insert(runtime.root_tree);
  }
  std::vector<fs::path> removed;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(runtimes_dir, ec)) {
    if (used.contains(entry.path()) || !fs::exists(entry.path() / kRootfsMarker, ec)) continue;
    fs::remove_all(entry.path(), ec);
    if (!ec) removed.push_back(entry.path());
  }
  return removed;
}

std::uint64_t TreeDiskBytes(const fs::path& tree) {
  std::uint64_t bytes = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(
           tree, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
  }
  return bytes;
}

Result<RootfsInstallResult> InstallRootfs(const Runtime& runtime, const fs::path& builder,
                                          bool force) {
  if (runtime.rootfs.Empty() || runtime.root_tree.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} runs on the host's directories; there is nothing to install",
                            runtime.Slug()));
  }
  const fs::path tree = runtime.root_tree;
  const fs::path dir = tree.parent_path();
  const std::string key = runtime.rootfs.Key();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Fail(SystemError(ec.value(), "create " + dir.string()));
  UniqueFd lock(
      ::open((dir / (".lock-" + key)).c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock || ::flock(lock.Get(), LOCK_EX) != 0) {
    const int saved = errno;
    return Fail(SystemError(saved, "lock " + dir.string()));
  }

  RootfsInstallResult result;
  if (!force && HasMarker(tree, key)) {
    result.disk_bytes = TreeDiskBytes(tree);
    return result;
  }
  const auto started = std::chrono::steady_clock::now();
  // Under the lock, a staging directory left behind is from a builder that died.
  const fs::path staging = dir / (".build-" + key);
  fs::remove_all(staging, ec);
  std::vector<std::string> argv = {builder.string(), runtime.rootfs.suite, staging.string()};
  argv.insert(argv.end(), runtime.rootfs.packages.begin(), runtime.rootfs.packages.end());
  if (!runtime.rootfs.setup.empty()) {
    argv.emplace_back("--");
    argv.insert(argv.end(), runtime.rootfs.setup.begin(), runtime.rootfs.setup.end());
  }
  if (auto status = RunBuilder(argv); !status) {
    fs::remove_all(staging, ec);
    return Fail(std::move(status.error()).WithContext(runtime.Slug()));
  }
  I8C_TRY(WriteMarker(staging, runtime));
  // A tree of this key without its marker (a forced rebuild, or an interrupted one)
  // is replaced; rename(2) cannot replace a non-empty directory.
  fs::remove_all(tree, ec);
  if (::rename(staging.c_str(), tree.c_str()) != 0) {
    const int saved = errno;
    return Fail(
        SystemError(saved, fmt::format("rename {} to {}", staging.string(), tree.string())));
  }
  result.built = true;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result.disk_bytes = TreeDiskBytes(tree);
  return result;
}

}  // namespace integr8scode
