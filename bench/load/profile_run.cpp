#include "load/profile_run.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <map>
#include <optional>
#include <vector>

#include "common/log.hpp"
#include "load/other_load.hpp"
#include "load/proc_sample.hpp"
#include "load/virtual_user.hpp"

namespace integr8scode {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

double SecondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

double OwnCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// CPU counters read at the start and at the deadline of the window.
struct CpuMark {
  std::optional<SystemCpuSample> system;
  std::optional<double> server_cpu_s;
  std::map<pid_t, double> children_cpu_s;
  double own_cpu_s = 0;
  ProcessTable processes;
};

CpuMark MarkCpu(pid_t server_pid) {
  CpuMark mark;
  if (auto system = ReadSystemCpu()) mark.system = *system;
  if (server_pid > 0) {
    if (auto sample = ReadProcessSample(server_pid)) mark.server_cpu_s = sample->cpu_seconds;
    for (pid_t child : ReadChildPids(server_pid)) {
      if (auto sample = ReadProcessSample(child)) mark.children_cpu_s[child] = sample->cpu_seconds;
    }
  }
  mark.own_cpu_s = OwnCpuSeconds();
  mark.processes = ReadProcessTable();
  return mark;
}

void ApplyWindowCpu(const CpuMark& start, const CpuMark& end, pid_t server_pid,
                    ProfileStats& stats) {
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  if (start.system && end.system) {
    stats.system_busy = BusyShare(*start.system, *end.system);
    stats.busy_cpu_s = BusySeconds(*start.system, *end.system, ticks_per_second);
  }
  if (start.server_cpu_s && end.server_cpu_s)
    stats.server_cpu_s = *end.server_cpu_s - *start.server_cpu_s;
  // Children alive at both ends: the spawner. Sandboxes live for milliseconds and are
  // counted through their results instead.
  for (const auto& [pid, cpu_s] : end.children_cpu_s) {
    const auto before = start.children_cpu_s.find(pid);
    if (before != start.children_cpu_s.end()) stats.children_cpu_s += cpu_s - before->second;
  }
  stats.generator_cpu_s = end.own_cpu_s - start.own_cpu_s;
  std::vector<pid_t> own_roots{::getpid()};
  if (server_pid > 0) own_roots.push_back(server_pid);
  stats.other_cpu_s =
      static_cast<double>(OtherProcessesTicks(start.processes, end.processes, own_roots)) /
      static_cast<double>(ticks_per_second);
}

// Samples the server's memory every interval until stopped (the timer is cancelled).
class MemorySampler {
 public:
  MemorySampler(asio::io_context& io, pid_t pid, std::chrono::milliseconds interval,
                ServerMemory& memory)
      : timer_(io), pid_(pid), interval_(interval), memory_(memory) {}

  asio::awaitable<void> Run() {
    while (!stopped_) {
      Sample();
      timer_.expires_after(interval_);
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  // Takes a last sample and ends the loop.
  void Stop() {
    if (stopped_) return;
    Sample();
    stopped_ = true;
    timer_.cancel();
  }

 private:
  void Sample() {
    if (failed_) return;
    auto sample = ReadProcessSample(pid_);
    if (!sample) {
      failed_ = true;
      Log(LogLevel::kWarn, "cannot sample the server process",
          {{"pid", static_cast<std::int64_t>(pid_)}, {"error", sample.error().Describe()}});
      return;
    }
    if (memory_.samples == 0) memory_.rss_start_bytes = sample->rss_bytes;
    memory_.rss_mean_bytes += (static_cast<double>(sample->rss_bytes) - memory_.rss_mean_bytes) /
                              static_cast<double>(memory_.samples + 1);
    ++memory_.samples;
    memory_.rss_max_bytes = std::max(memory_.rss_max_bytes, sample->rss_bytes);
    memory_.rss_end_bytes = sample->rss_bytes;
    memory_.hwm_bytes = sample->hwm_bytes;
  }

  asio::steady_timer timer_;
  pid_t pid_;
  std::chrono::milliseconds interval_;
  ServerMemory& memory_;
  bool stopped_ = false;
  bool failed_ = false;
};

// A bug in a coroutine must not vanish: rethrown, it leaves io_context::run().
void Rethrow(std::exception_ptr error) {
  if (error) std::rethrow_exception(error);
}

}  // namespace

ProfileStats RunProfile(const LoadSettings& settings, const ProfileSpec& spec) {
  ProfileStats stats;
  stats.spec = spec;
  asio::io_context io(1);

  const CpuMark start_mark = MarkCpu(settings.server_pid);
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + settings.duration;
  ProfileRun run{settings, stats, deadline};

  std::optional<MemorySampler> sampler;
  if (settings.server_pid > 0) {
    sampler.emplace(io, settings.server_pid, settings.sample_interval, stats.server_memory);
    asio::co_spawn(io, sampler->Run(), Rethrow);
  }

  std::size_t active_users = spec.users;
  Clock::time_point last_user_done = deadline;
  for (std::size_t i = 0; i < spec.users; ++i) {
    asio::co_spawn(
        io,
        [&run, &active_users, &sampler, &last_user_done, i]() -> asio::awaitable<void> {
          co_await RunVirtualUser(run, i);
          if (--active_users == 0) {
            last_user_done = Clock::now();
            if (sampler) sampler->Stop();
          }
        },
        Rethrow);
  }

  asio::steady_timer window_end(io);
  window_end.expires_at(deadline);
  window_end.async_wait([&](const boost::system::error_code&) {
    ApplyWindowCpu(start_mark, MarkCpu(settings.server_pid), settings.server_pid, stats);
  });

  io.run();
  stats.window_s = SecondsBetween(start, deadline);
  stats.drain_s = last_user_done > deadline ? SecondsBetween(deadline, last_user_done) : 0;
  return stats;
}

}  // namespace integr8scode
