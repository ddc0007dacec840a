#pragma once

// Shared by the integration and hostile suites: the real catalog, a real local
// sandbox executor, and a snapshot of the host to prove nothing was left behind.

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "domain/executor.hpp"
#include "domain/runtime.hpp"

namespace integr8scode::testing {

inline constexpr uid_t kFirstSandboxUid = 61000;

// True when this process may build sandboxes (root). Suites GTEST_SKIP otherwise.
bool CanSandbox();

const RuntimeCatalog& Catalog();
const Runtime& RuntimeFor(std::string_view language, std::string_view version);

// One executor per test binary, with the spawner (as the server uses it).
Executor& SharedExecutor();
std::unique_ptr<Executor> MakeExecutor(std::size_t slots, bool use_spawner, bool prebuild = true);

// The pids in a cgroup directory (cgroup.procs).
std::vector<pid_t> ProcessesIn(const std::string& cgroup_dir);

struct RunOptions {
  LimitOverrides limits;
  std::string stdin_data;
  OutputSink* sink = nullptr;
  const CancelToken* cancel = nullptr;
  Executor* executor = nullptr;  // default: SharedExecutor()
};
RunResult RunCode(std::string_view language, std::string_view version, std::string_view source,
                  const RunOptions& options = {});

// What a run could leave on the host, compared before and after. Slots held by other
// processes on the host (a server, another test binary) are left out.
struct HostSnapshot {
  // Host mounts at or under the sandbox's state directory (/run/integr8scode): the only
  // place a sandbox's mount could reach the host (each is made under its root mount
  // point, in a namespace made private first). The host's other mounts are not counted:
  // other tenants of a shared host (podman's overlays, network namespaces) come and go.
  std::vector<std::string> sandbox_mounts;
  std::set<pid_t> sandbox_user_processes;  // processes owned by our or free slots' uids
  // Warm zygotes waiting in sandboxes built ahead (not in the set above): the next run's
  // program, which no run has touched. Informational; never a leak.
  std::size_t waiting_zygotes = 0;
  std::size_t open_fds = 0;                 // this process's descriptors
  std::vector<std::string> cgroup_entries;  // slot cgroups of our or free slots
  std::size_t mount_point_entries = 0;      // entries in the sandbox mount point directory
  // The slots looked at ("slot-<n>"): ours or free both before and after the look.
  std::set<std::string> watched_slots;
};
HostSnapshot TakeHostSnapshot();
// The uids a snapshot watches: those of this process's slots and of free slots.
std::vector<uid_t> WatchedSandboxUids();
// Empty when `after` shows nothing more than `before`; else what leaked. `fd_slack`
// allows for descriptors that come and go in the steady state: a slot's sandbox built
// ahead holds two (its control socket and pidfd) and is rebuilt asynchronously after
// each run. A per-run leak still shows in a long series of runs.
std::string DescribeLeaks(const HostSnapshot& before, const HostSnapshot& after,
                          std::size_t fd_slack = 0);

// The slack for executors with sandboxes built ahead: two descriptors per slot.
constexpr std::size_t PrebuiltFdSlack(std::size_t slots) { return 2 * slots; }
inline constexpr std::size_t kSharedExecutorSlots = 4;

// Records streamed output with arrival times (steady clock).
class RecordingSink final : public OutputSink {
 public:
  void OnStarted() override;
  void OnOutput(OutputStream stream, std::string_view chunk) override;
  std::string Stdout() const;
  std::string Stderr() const;
  // Steady-clock milliseconds when `text` had fully arrived on stdout, or -1.
  long long MillisUntilStdoutContains(std::string_view text) const;

 private:
  struct Chunk {
    OutputStream stream;
    std::string text;
    long long at_ms;
  };
  mutable std::mutex mutex_;
  std::vector<Chunk> chunks_;
  long long started_ms_ = -1;
};

long long SteadyMillis();

}  // namespace integr8scode::testing
