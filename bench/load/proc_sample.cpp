#include "load/proc_sample.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "common/unique_fd.hpp"

namespace integr8scode {
namespace {

Result<std::string> ReadSmallFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const int saved = errno;
    Error error = SystemError(saved, fmt::format("open {}", path));
    error.code = saved == ENOENT || saved == ESRCH ? ErrorCode::kNotFound : ErrorCode::kUnavailable;
    return Fail(std::move(error));
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.Get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      Error error = SystemError(saved, fmt::format("read {}", path));
      // A process that exits between open and read answers ESRCH.
      error.code = saved == ESRCH ? ErrorCode::kNotFound : ErrorCode::kUnavailable;
      return Fail(std::move(error));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n'))
    text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

Result<std::uint64_t> Number(std::string_view word, std::string_view what) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec != std::errc() || end != word.data() + word.size()) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: '{}' is not a number", what, word));
  }
  return value;
}

// "VmRSS:	   12345 kB" → bytes. The kernel always writes kB here (fs/proc/task_mmu.c).
Result<std::uint64_t> KilobyteField(std::string_view status_text, std::string_view key) {
  std::size_t line_start = 0;
  while (line_start < status_text.size()) {
    std::size_t line_end = status_text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = status_text.size();
    const std::string_view line = status_text.substr(line_start, line_end - line_start);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      std::string_view value = Trim(line.substr(key.size() + 1));
      if (value.size() < 3 || value.substr(value.size() - 3) != " kB") {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}: expected a value in kB, got '{}'", key, value));
      }
      auto kilobytes = Number(Trim(value.substr(0, value.size() - 3)), key);
      if (!kilobytes) return Fail(kilobytes.error());
      return *kilobytes * 1024;
    }
    line_start = line_end + 1;
  }
  return Fail(ErrorCode::kInvalidArgument, fmt::format("no {} line", key));
}

}  // namespace

Result<ProcessSample> ParseProcStatus(std::string_view status_text) {
  auto rss = KilobyteField(status_text, "VmRSS");
  if (!rss) return Fail(rss.error());
  auto hwm = KilobyteField(status_text, "VmHWM");
  if (!hwm) return Fail(hwm.error());
  ProcessSample sample;
  sample.rss_bytes = *rss;
  sample.hwm_bytes = *hwm;
  return sample;
}

Result<ProcStat> ParseProcStat(std::string_view stat_text) {
  // The command name (field 2) is in parentheses and may itself hold spaces or ')':
  // the fields are counted from the last ')' (proc(5)).
  const std::size_t close = stat_text.rfind(')');
  if (close == std::string_view::npos)
    return Fail(ErrorCode::kInvalidArgument, "stat: no ')' after the command name");
  const std::vector<std::string_view> fields = Words(stat_text.substr(close + 1));
  // fields[0] is field 3 (state).
  const auto field = [&](std::size_t number) -> Result<std::uint64_t> {
    if (fields.size() <= number - 3)
      return Fail(ErrorCode::kInvalidArgument, "stat: too few fields");
    return Number(fields[number - 3], "stat");
  };
  ProcStat stat;
  std::uint64_t* const targets[] = {&stat.utime, &stat.stime, &stat.cutime, &stat.cstime,
                                    &stat.start_time};
  const std::size_t numbers[] = {14, 15, 16, 17, 22};
  for (std::size_t i = 0; i < std::size(numbers); ++i) {
    auto value = field(numbers[i]);
    if (!value) return Fail(value.error());
    *targets[i] = *value;
  }
  auto ppid = field(4);
  if (!ppid) return Fail(ppid.error());
  stat.ppid = static_cast<pid_t>(*ppid);
  return stat;
}

Result<double> ParseProcStatCpuSeconds(std::string_view stat_text, long ticks_per_second) {
  if (ticks_per_second <= 0)
    return Fail(ErrorCode::kInvalidArgument, "stat: clock ticks per second must be positive");
  auto stat = ParseProcStat(stat_text);
  if (!stat) return Fail(stat.error());
  return static_cast<double>(stat->utime + stat->stime) / static_cast<double>(ticks_per_second);
}

Result<SystemCpuSample> ParseSystemCpu(std::string_view proc_stat_text) {
  const std::size_t line_end = proc_stat_text.find('\n');
  const std::vector<std::string_view> fields = Words(proc_stat_text.substr(0, line_end));
  // cpu user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is
  // already counted in user and nice, so it is left out of the sum.
  if (fields.size() < 9 || fields[0] != "cpu") {
    return Fail(ErrorCode::kInvalidArgument, "/proc/stat: the first line is not the 'cpu' total");
  }
  SystemCpuSample sample;
  for (std::size_t i = 1; i <= 8; ++i) {
    auto ticks = Number(fields[i], "/proc/stat cpu");
    if (!ticks) return Fail(ticks.error());
    sample.total_ticks += *ticks;
    if (i != 4 && i != 5) sample.busy_ticks += *ticks;
  }
  return sample;
}

Result<ProcessSample> ReadProcessSample(pid_t pid) {
  auto status_text = ReadSmallFile(fmt::format("/proc/{}/status", pid));
  if (!status_text) return Fail(status_text.error());
  auto stat_text = ReadSmallFile(fmt::format("/proc/{}/stat", pid));
  if (!stat_text) return Fail(stat_text.error());
  auto sample = ParseProcStatus(*status_text);
  if (!sample) return Fail(sample.error());
  auto cpu = ParseProcStatCpuSeconds(*stat_text, ::sysconf(_SC_CLK_TCK));
  if (!cpu) return Fail(cpu.error());
  sample->cpu_seconds = *cpu;
  return sample;
}

Result<ProcStat> ReadProcStat(pid_t pid) {
  auto text = ReadSmallFile(fmt::format("/proc/{}/stat", pid));
  if (!text) return Fail(text.error());
  return ParseProcStat(*text);
}

Result<SystemCpuSample> ReadSystemCpu() {
  auto text = ReadSmallFile("/proc/stat");
  if (!text) return Fail(text.error());
  return ParseSystemCpu(*text);
}

std::vector<pid_t> ParseChildPids(std::string_view children_text) {
  std::vector<pid_t> pids;
  for (std::string_view word : Words(children_text)) {
    auto pid = Number(word, "children");
    if (pid && *pid > 0) pids.push_back(static_cast<pid_t>(*pid));
  }
  return pids;
}

std::vector<pid_t> ReadChildPids(pid_t pid) {
  std::vector<pid_t> children;
  std::error_code ec;
  const std::filesystem::path tasks = fmt::format("/proc/{}/task", pid);
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    auto text = ReadSmallFile((task.path() / "children").string());
    if (!text) continue;  // the thread ended meanwhile
    for (pid_t child : ParseChildPids(*text)) children.push_back(child);
  }
  std::sort(children.begin(), children.end());
  children.erase(std::unique(children.begin(), children.end()), children.end());
  return children;
}

double BusySeconds(const SystemCpuSample& before, const SystemCpuSample& after,
                   long ticks_per_second) {
  if (after.busy_ticks <= before.busy_ticks || ticks_per_second <= 0) return 0;
  return static_cast<double>(after.busy_ticks - before.busy_ticks) /
         static_cast<double>(ticks_per_second);
}

double BusyShare(const SystemCpuSample& before, const SystemCpuSample& after) {
  if (after.total_ticks <= before.total_ticks) return 0;
  const double busy = static_cast<double>(after.busy_ticks - before.busy_ticks);
  return busy / static_cast<double>(after.total_ticks - before.total_ticks);
}

}  // namespace integr8scode
