#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace integr8scode {

// Small helpers for cgroupfs (and procfs) control files: whole-file reads and writes,
// and the parsers for their formats. Pure parsing functions are unit-tested on text.

Result<std::string> ReadControlFile(const std::string& path);
Status WriteControlFile(const std::string& path, std::string_view value);
// pread from offset 0 / pwrite of an already open control file (cgroupfs regenerates
// the content on every read from offset 0).
Result<std::string> ReadControlFd(int fd);
Status WriteControlFd(int fd, std::string_view value);
Result<UniqueFd> OpenControlFile(const std::string& path, int flags);

// "key value" lines (memory.events, cpu.stat, pids.events, memory.oom_control):
// the value of `key`, or nullopt when absent or not a number.
std::optional<std::uint64_t> ParseKeyedValue(std::string_view text, std::string_view key);
// A single number, tolerating a trailing newline; "max" is nullopt.
std::optional<std::uint64_t> ParseSingleValue(std::string_view text);
// The pids listed one per line in cgroup.procs.
std::vector<int> ParsePidList(std::string_view text);

// One line of /proc/self/mountinfo that mounts a cgroup hierarchy.
struct CgroupMount {
  std::string mount_point;  // "/sys/fs/cgroup/memory"
  std::string root;         // the hierarchy path mounted there, usually "/"
  bool v2 = false;
  std::vector<std::string> controllers;  // v1 controllers from the super options
};
std::vector<CgroupMount> ParseCgroupMounts(std::string_view mountinfo);

// One line of /proc/self/cgroup: "4:memory:/process_api/abc" or "0::/user.slice".
struct CgroupMembership {
  int hierarchy_id = 0;
  std::vector<std::string> controllers;  // empty for the v2 line
  std::string path;
};
std::vector<CgroupMembership> ParseProcCgroup(std::string_view text);

}  // namespace integr8scode
