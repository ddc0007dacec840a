#include "support/sandbox_harness.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "catalog/catalog_loader.hpp"
#include "sandbox/cgroup_files.hpp"
#include "sandbox/local_executor.hpp"

namespace integr8scode::testing {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

bool CanSandbox() { return ::geteuid() == 0; }

const RuntimeCatalog& Catalog() {
  static const RuntimeCatalog catalog = [] {
    auto loaded = LoadCatalog(fs::path(INTEGR8SCODE_SOURCE_DIR) / "runtimes" / "catalog.toml");
    if (!loaded) {
      ADD_FAILURE() << loaded.error().Describe();
      return RuntimeCatalog();
    }
    return std::move(*loaded);
  }();
  return catalog;
}

const Runtime& RuntimeFor(std::string_view language, std::string_view version) {
  auto runtime = Catalog().Find(language, version);
  if (!runtime) throw std::runtime_error(runtime.error().message);
  return **runtime;
}

std::unique_ptr<Executor> MakeExecutor(std::size_t slots, bool use_spawner, bool prebuild) {
  SandboxOptions options;
  options.slots = slots;
  options.use_spawner = use_spawner;
  options.prebuild = prebuild;
  if (const char* mode = std::getenv("INTEGR8SCODE_TEST_CGROUP_MODE")) options.cgroup_mode = mode;
  // Runs a suite with warm starts (docs/warm-starts.md): the zygote's path.
  if (const char* zygote = std::getenv("INTEGR8SCODE_TEST_WARM_ZYGOTE"))
    options.warm_zygote = zygote;
  auto executor = CreateLocalExecutor(options);
  if (!executor)
    throw std::runtime_error("cannot create the sandbox: " + executor.error().Describe());
  return std::move(*executor);
}

Executor& SharedExecutor() {
  static std::unique_ptr<Executor> executor = MakeExecutor(kSharedExecutorSlots, true);
  return *executor;
}

RunResult RunCode(std::string_view language, std::string_view version, std::string_view source,
                  const RunOptions& options) {
  RunRequest request;
  request.runtime = &RuntimeFor(language, version);
  request.source = source;
  request.stdin_data = options.stdin_data;
  auto limits = ApplyOverrides(Limits{}, options.limits, kDefaultMaximumLimits);
  if (!limits) throw std::runtime_error(limits.error().message);
  request.limits = *limits;
  request.sink = options.sink;
  request.cancel = options.cancel;
  Executor& executor = options.executor != nullptr ? *options.executor : SharedExecutor();
  return executor.Run(request);
}

// Sandbox slots are shared by every process on the host (flock on
// /run/integr8scode/slots/<n>.lock). A snapshot looks only at slots that are this
// process's or nobody's, so that a server or test running beside us does not count
// as our leak. Returns slot number → holder pid (0: free).
std::map<std::size_t, pid_t> SlotHolders() {
  std::map<ino_t, std::size_t> slot_by_inode;
  std::map<std::size_t, pid_t> holders;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/run/integr8scode/slots", ec)) {
    const std::string name = entry.path().filename();
    if (!name.ends_with(".lock")) continue;
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) != 0) continue;
    const std::size_t number = std::stoul(name);
    slot_by_inode[st.st_ino] = number;
    holders[number] = 0;
  }
  std::istringstream locks(ReadAll("/proc/locks"));
  for (std::string line; std::getline(locks, line);) {
    // "1: FLOCK  ADVISORY  WRITE 4242 00:1a:1234 0 EOF"
    std::istringstream fields(line);
    std::string index, kind, mode, access, device;
    pid_t pid = 0;
    if (!(fields >> index >> kind >> mode >> access >> pid >> device) || kind != "FLOCK") continue;
    const ino_t inode = std::stoull(device.substr(device.rfind(':') + 1));
    if (auto it = slot_by_inode.find(inode); it != slot_by_inode.end()) holders[it->second] = pid;
  }
  return holders;
}

HostSnapshot TakeHostSnapshot() {
  HostSnapshot snapshot;
  std::set<uid_t> watched_uids;
  std::set<std::string> watched_slot_dirs;
  std::map<pid_t, uid_t> process_uids;
  for (const auto& [number, holder] : SlotHolders()) {
    if (holder != 0 && holder != ::getpid()) continue;  // another process's slot
    watched_uids.insert(kFirstSandboxUid + static_cast<uid_t>(number));
    watched_slot_dirs.insert(fmt::format("slot-{}", number));
  }
  const std::string mountinfo = ReadAll("/proc/self/mountinfo");
  for (const char c : mountinfo) snapshot.mounts += c == '\n' ? 1 : 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string status = ReadAll(entry.path() / "status");
    const auto uid_line = status.find("\nUid:");
    if (uid_line == std::string::npos) continue;
    const uid_t uid = static_cast<uid_t>(std::strtoul(status.c_str() + uid_line + 5, nullptr, 10));
    if (watched_uids.contains(uid)) {
      snapshot.sandbox_user_processes.insert(static_cast<pid_t>(std::stoi(name)));
      process_uids[static_cast<pid_t>(std::stoi(name))] = uid;
    }
  }
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd"))
    ++snapshot.open_fds;
  // Our cgroup directories: "<mount>/<own path>/integr8scode" of every v1 hierarchy,
  // and the unified one's.
  const auto mounts = ParseCgroupMounts(mountinfo);
  const auto memberships = ParseProcCgroup(ReadAll("/proc/self/cgroup"));
  for (const CgroupMount& mount : mounts) {
    for (const CgroupMembership& membership : memberships) {
      const bool same = mount.v2 ? membership.hierarchy_id == 0
                                 : (!membership.controllers.empty() &&
                                    mount.controllers == membership.controllers);
      if (!same) continue;
      for (const fs::path& dir : {fs::path(mount.mount_point) /
                                      fs::path(membership.path).relative_path() / "integr8scode",
                                  fs::path(mount.mount_point) / "integr8scode"}) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
          if (entry.is_directory() &&
              watched_slot_dirs.contains(entry.path().filename().string())) {
            snapshot.cgroup_entries.push_back(entry.path().string());
          }
        }
      }
    }
  }
  std::sort(snapshot.cgroup_entries.begin(), snapshot.cgroup_entries.end());
  snapshot.cgroup_entries.erase(
      std::unique(snapshot.cgroup_entries.begin(), snapshot.cgroup_entries.end()),
      snapshot.cgroup_entries.end());
  // Slots change hands while we look: a slot free when the holders were read may have been
  // taken by another process since, which then made its cgroups and started its programs.
  // What belongs to a slot another process holds now is not ours either.
  for (const auto& [number, holder] : SlotHolders()) {
    if (holder == 0 || holder == ::getpid()) continue;
    const std::string slot = fmt::format("slot-{}", number);
    const uid_t uid = kFirstSandboxUid + static_cast<uid_t>(number);
    watched_slot_dirs.erase(slot);
    std::erase_if(snapshot.cgroup_entries,
                  [&](const std::string& dir) { return fs::path(dir).filename() == slot; });
    std::erase_if(snapshot.sandbox_user_processes,
                  [&](pid_t pid) { return process_uids[pid] == uid; });
  }
  snapshot.watched_slots = std::move(watched_slot_dirs);
  std::error_code ec;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/run/integr8scode/root", ec)) {
    ++snapshot.mount_point_entries;
  }
  return snapshot;
}

std::vector<pid_t> ProcessesIn(const std::string& cgroup_dir) {
  std::vector<pid_t> pids;
  for (const int pid : ParsePidList(ReadAll(fs::path(cgroup_dir) / "cgroup.procs")))
    pids.push_back(pid);
  return pids;
}

std::string DescribeLeaks(const HostSnapshot& before, const HostSnapshot& after,
                          std::size_t fd_slack) {
  std::string leaks;
  if (after.mounts > before.mounts) {
    leaks += fmt::format("host mounts grew from {} to {}; ", before.mounts, after.mounts);
  }
  for (const pid_t pid : after.sandbox_user_processes) {
    if (!before.sandbox_user_processes.contains(pid)) {
      leaks += fmt::format("sandbox-user process {} survives ({}); ", pid,
                           ReadAll(fmt::format("/proc/{}/cmdline", pid)));
    }
  }
  if (after.open_fds > before.open_fds + fd_slack) {
    leaks += fmt::format("open descriptors grew from {} to {}; ", before.open_fds, after.open_fds);
  }
  // Only slots that were ours or free before as well: a slot another process held then
  // may keep its cgroups after that process is gone (killed before it could remove them),
  // which is not a leak of ours.
  for (const std::string& dir : after.cgroup_entries) {
    if (!before.watched_slots.contains(fs::path(dir).filename().string())) continue;
    if (std::find(before.cgroup_entries.begin(), before.cgroup_entries.end(), dir) ==
        before.cgroup_entries.end()) {
      leaks += "new cgroup " + dir + "; ";
    }
  }
  if (after.mount_point_entries != 0) leaks += "the sandbox mount point is not empty; ";
  return leaks;
}

long long SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void RecordingSink::OnStarted() {
  std::lock_guard lock(mutex_);
  started_ms_ = SteadyMillis();
}

void RecordingSink::OnOutput(OutputStream stream, std::string_view chunk) {
  std::lock_guard lock(mutex_);
  chunks_.push_back({stream, std::string(chunk), SteadyMillis()});
}

std::string RecordingSink::Stdout() const {
  std::lock_guard lock(mutex_);
  std::string text;
  for (const Chunk& chunk : chunks_) {
    if (chunk.stream == OutputStream::kStdout) text += chunk.text;
  }
  return text;
}

std::string RecordingSink::Stderr() const {
  std::lock_guard lock(mutex_);
  std::string text;
  for (const Chunk& chunk : chunks_) {
    if (chunk.stream == OutputStream::kStderr) text += chunk.text;
  }
  return text;
}

long long RecordingSink::MillisUntilStdoutContains(std::string_view needle) const {
  std::lock_guard lock(mutex_);
  std::string text;
  for (const Chunk& chunk : chunks_) {
    if (chunk.stream != OutputStream::kStdout) continue;
    text += chunk.text;
    if (text.find(needle) != std::string::npos) return chunk.at_ms;
  }
  return -1;
}

}  // namespace integr8scode::testing
