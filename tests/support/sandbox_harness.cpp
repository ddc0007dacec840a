#include "support/sandbox_harness.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
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

// SandboxOptions::state_dir, which the suites leave at its default.
const std::string kSandboxStateDir = SandboxOptions().state_dir.string();

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
  if (const char* node = std::getenv("INTEGR8SCODE_TEST_NODE_ZYGOTE_DIR"))
    options.node_zygote_dir = node;
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
  // The sandbox itself, below the service: a test may give it more than a request could ask.
  request.limits = MergeLimits(Limits{}, options.limits);
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

namespace {

// One field of a /proc/<pid>/status text ("PPid", "NSpid", …): what follows "<name>:".
std::string StatusField(const std::string& status, std::string_view name) {
  const std::string key = "\n" + std::string(name) + ":";
  const auto at = status.find(key);
  if (at == std::string::npos) return {};
  const auto begin = status.find_first_not_of(" \t", at + key.size());
  const auto end = status.find('\n', at + key.size());
  if (begin == std::string::npos || begin >= end) return {};
  return status.substr(begin, end - begin);
}

uid_t StatusUid(const std::string& status) {
  return static_cast<uid_t>(std::strtoul(StatusField(status, "Uid").c_str(), nullptr, 10));
}

// A warm zygote (docs/warm-starts.md) waits, as a slot's uid, in that slot's sandbox
// built ahead: it is the next run's program, killed with that sandbox if no run comes,
// and no survivor of any run. It is recognised by where it is, not by what it looks
// like (a run's own processes exec the zygote's binary too): a child of a sandbox
// init (root, PID 1 of its namespace) whose /scripts is still empty. The program is
// placed there before any user code runs and the directory is read-only from then on,
// so such a sandbox has never been handed a run and nothing in it came from one. One
// per init: an init starts one zygote.
bool IsWaitingZygote(const std::string& status, std::set<pid_t>& inits_with_zygote) {
  const pid_t parent =
      static_cast<pid_t>(std::strtol(StatusField(status, "PPid").c_str(), nullptr, 10));
  if (parent <= 1 || inits_with_zygote.contains(parent)) return false;
  const std::string parent_status = ReadAll(fmt::format("/proc/{}/status", parent));
  const std::string nspid = StatusField(parent_status, "NSpid");
  const bool namespace_init = nspid.size() > 2 && nspid.ends_with("\t1");
  if (!namespace_init || StatusUid(parent_status) != 0) return false;
  std::error_code ec;
  const fs::path scripts = fmt::format("/proc/{}/root/scripts", parent);
  if (!fs::is_directory(scripts, ec) || !fs::is_empty(scripts, ec) || ec) return false;
  inits_with_zygote.insert(parent);
  return true;
}

}  // namespace

std::vector<uid_t> WatchedSandboxUids() {
  std::vector<uid_t> uids;
  for (const auto& [number, holder] : SlotHolders()) {
    if (holder != 0 && holder != ::getpid()) continue;  // another process's slot
    uids.push_back(kFirstSandboxUid + static_cast<uid_t>(number));
  }
  return uids;
}

HostSnapshot TakeHostSnapshot() {
  HostSnapshot snapshot;
  std::set<uid_t> watched_uids;
  std::set<std::string> watched_slot_dirs;
  std::map<pid_t, uid_t> process_uids;
  for (const uid_t uid : WatchedSandboxUids()) {
    watched_uids.insert(uid);
    watched_slot_dirs.insert(fmt::format("slot-{}", uid - kFirstSandboxUid));
  }
  const std::string mountinfo = ReadAll("/proc/self/mountinfo");
  {
    std::istringstream lines(mountinfo);
    for (std::string line; std::getline(lines, line);) {
      // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw": the fifth field.
      std::istringstream fields(line);
      std::string id, parent, device, root, mount_point;
      if (!(fields >> id >> parent >> device >> root >> mount_point)) continue;
      if (mount_point == kSandboxStateDir || mount_point.starts_with(kSandboxStateDir + "/"))
        snapshot.sandbox_mounts.push_back(mount_point);
    }
    std::sort(snapshot.sandbox_mounts.begin(), snapshot.sandbox_mounts.end());
  }
  std::set<pid_t> inits_with_zygote;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string status = ReadAll(entry.path() / "status");
    if (StatusField(status, "Uid").empty() || !watched_uids.contains(StatusUid(status))) continue;
    if (IsWaitingZygote(status, inits_with_zygote)) {
      ++snapshot.waiting_zygotes;
    } else {
      snapshot.sandbox_user_processes.insert(static_cast<pid_t>(std::stoi(name)));
      process_uids[static_cast<pid_t>(std::stoi(name))] = StatusUid(status);
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
  if (after.sandbox_mounts.size() > before.sandbox_mounts.size()) {
    leaks += fmt::format("host mounts under {} grew from {} to {} ({}); ", kSandboxStateDir,
                         before.sandbox_mounts.size(), after.sandbox_mounts.size(),
                         fmt::join(after.sandbox_mounts, " "));
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
