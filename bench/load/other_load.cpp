#include "load/other_load.hpp"

#include <charconv>
#include <filesystem>
#include <set>
#include <string>

namespace integr8scode {
namespace {

// Roots and everything below them, following ppid links within one snapshot.
std::set<pid_t> Descendants(const ProcessTable& table, const std::vector<pid_t>& roots) {
  std::set<pid_t> own(roots.begin(), roots.end());
  for (const auto& [pid, stat] : table) {
    // Walk up to pid 1 (or a pid the snapshot does not have); the depth bound guards
    // against a cycle that pid reuse between two reads could fake.
    pid_t at = pid;
    for (int depth = 0; depth < 64 && at > 1; ++depth) {
      if (own.count(at) != 0) {
        own.insert(pid);
        break;
      }
      const auto parent = table.find(at);
      if (parent == table.end()) break;
      at = parent->second.ppid;
    }
  }
  return own;
}

std::uint64_t Ticks(const ProcStat& stat) {
  return stat.utime + stat.stime + stat.cutime + stat.cstime;
}

}  // namespace

ProcessTable ReadProcessTable() {
  ProcessTable table;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    pid_t pid = 0;
    const auto [end, parse_ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (parse_ec != std::errc() || end != name.data() + name.size()) continue;
    if (auto stat = ReadProcStat(pid)) table.emplace(pid, *stat);  // else: it just ended
  }
  return table;
}

std::uint64_t OtherProcessesTicks(const ProcessTable& start, const ProcessTable& end,
                                  const std::vector<pid_t>& own_roots) {
  const std::set<pid_t> own_at_start = Descendants(start, own_roots);
  const std::set<pid_t> own_at_end = Descendants(end, own_roots);
  std::int64_t ticks = 0;
  for (const auto& [pid, stat] : end) {
    if (own_at_end.count(pid) != 0) continue;
    const auto before = start.find(pid);
    if (before != start.end() && before->second.start_time == stat.start_time) {
      ticks +=
          static_cast<std::int64_t>(Ticks(stat)) - static_cast<std::int64_t>(Ticks(before->second));
    } else {
      ticks += static_cast<std::int64_t>(Ticks(stat));  // started inside the window
    }
  }
  // A process that ended inside the window reached its parent's children counters
  // whole: what it had used before the window does not belong to it.
  for (const auto& [pid, stat] : start) {
    if (own_at_start.count(pid) != 0) continue;
    const auto after = end.find(pid);
    if (after == end.end() || after->second.start_time != stat.start_time) {
      ticks -= static_cast<std::int64_t>(Ticks(stat));
    }
  }
  return ticks > 0 ? static_cast<std::uint64_t>(ticks) : 0;
}

}  // namespace integr8scode
